"""The events of docs/websocket-protocol.md, built in one place and published to the
conversation's group. Publishing is at most once: every event carries the `seq` it is
about, and clients resume from the database when they notice a gap.
"""

from collections.abc import Callable, Iterable

from django.db import transaction

from conversations.models import Conversation, Message
from conversations.serializers import ConversationRefSerializer, message_data
from core.events import publish

# The channel-layer message type; ConversationConsumer.conversation_event relays it.
RELAY_TYPE = "conversation.event"


def group_name(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def message_created(message: Message) -> dict:
    return {"type": "message.created", "seq": message.seq, "message": message_data(message)}


def reply_delta(*, seq: int, offset: int, text: str, attempt: int) -> dict:
    return {"type": "reply.delta", "seq": seq, "offset": offset, "text": text, "attempt": attempt}


def reply_finished(message: Message) -> dict:
    """`reply.completed` (complete or cancelled) or `reply.failed`, by the reply's status."""
    if message.status == "failed":
        return {
            "type": "reply.failed",
            "seq": message.seq,
            "message": message_data(message),
            "error": message.error,
        }
    return {"type": "reply.completed", "seq": message.seq, "message": message_data(message)}


def conversation_updated(conversation: Conversation) -> dict:
    return {
        "type": "conversation.updated",
        "seq": conversation.last_seq,
        "conversation": ConversationRefSerializer(conversation).data,
    }


def send(conversation_id: int, *events: dict) -> None:
    """Publish now, in order (from a worker thread, or after the data is committed)."""
    for event in events:
        publish(group_name(conversation_id), {"type": RELAY_TYPE, "event": event})


def close_sockets(conversation_id: int) -> None:
    """Tell the conversation's sockets it is gone (ConversationConsumer.conversation_gone)."""
    publish(group_name(conversation_id), {"type": "conversation.gone"})


def send_on_commit(conversation_id: int, build: Callable[[], Iterable[dict]]) -> None:
    """Publish once the surrounding transaction commits, so no client reads ahead of the
    database. The events are built then too (from the objects as this transaction wrote
    them): rendering them inside the transaction would hold the write lock longer."""
    transaction.on_commit(lambda: send(conversation_id, *build()))
