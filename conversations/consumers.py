"""`/ws/conversations/<id>/`: one conversation, live, for its owner (docs/websocket-protocol.md).

The socket joins the conversation's group before it accepts, and answers `resume` from
the database after that: an event published before the join is already in the rows it
reads, one published after reaches the socket, so nothing falls between the two.
Database work runs in the shared thread pool, not the single thread Channels uses by
default, so one slow query does not hold up every socket of the process.
"""

from django.conf import settings
from rest_framework.exceptions import ErrorDetail

from conversations import events, selectors, services
from conversations.serializers import SocketMessageInput
from core.consumers import CLOSE_NOT_FOUND, ProductJsonConsumer, in_pool
from core.errors import UserFacingError


class ConversationConsumer(ProductJsonConsumer):
    async def connect(self) -> None:
        if not await self.admit():
            return
        user = self.scope["user"]
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        if not await in_pool(selectors.conversation_is_owned)(user, self.conversation_id):
            await self.refuse(CLOSE_NOT_FOUND)
            return
        self.group = events.group_name(self.conversation_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def receive_json(self, content: dict, **kwargs) -> None:
        handler = {
            "resume": self.on_resume,
            "message.send": self.on_message_send,
            "reply.cancel": self.on_reply_cancel,
            "ping": self.on_ping,
        }.get(content["type"])
        if handler is None:
            await self.send_error(f"Unknown event type {content['type']!r}")
            return
        try:
            await handler(content)
        except UserFacingError as exc:
            await self.send_error(exc.user_message, status=exc.status_code)

    # -- client frames ---------------------------------------------------------------

    async def on_resume(self, content: dict) -> None:
        after_seq = content.get("after_seq", 0)
        if not isinstance(after_seq, int) or isinstance(after_seq, bool) or after_seq < 0:
            await self.send_error('"after_seq" must be a whole number, 0 or more')
            return
        replay, last_seq, more = await in_pool(_replay)(self.conversation_id, after_seq)
        for event in replay:
            await self.send_json(event)
        await self.send_json({"type": "resume.done", "seq": last_seq, "more": more})

    async def on_message_send(self, content: dict) -> None:
        # The REST API's own validation, so both refuse the same frames the same way.
        incoming = SocketMessageInput(data={k: v for k, v in content.items() if k != "type"})
        if not incoming.is_valid():
            await self.send_error("Invalid input", detail=_plain(incoming.errors))
            return
        # The new messages come back as `message.created` events, like any post.
        await in_pool(_post)(self.scope["user"], self.conversation_id, **incoming.validated_data)

    async def on_reply_cancel(self, content: dict) -> None:
        seq = content.get("seq")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
            await self.send_error('"seq" must be a whole number')
            return
        await in_pool(_cancel)(self.scope["user"], self.conversation_id, seq)

    async def on_ping(self, content: dict) -> None:
        await self.send_json({"type": "pong"})

    # -- group events ----------------------------------------------------------------

    async def dispatch(self, message: dict) -> None:
        # Channels tidies database connections in a worker thread before every handler;
        # relaying an event touches no database, and there is one per streamed delta.
        if message["type"] == events.RELAY_TYPE:
            await self.conversation_event(message)
        else:
            await super().dispatch(message)

    async def conversation_event(self, message: dict) -> None:
        if await self.relay_allowed():
            await self.send_json(message["event"])

    async def conversation_gone(self, message: dict) -> None:
        """The conversation was deleted (conversations.services.conversation_delete)."""
        await self.close(code=CLOSE_NOT_FOUND)


def _replay(conversation_id: int, after_seq: int) -> tuple[list[dict], int, bool]:
    """One page of the replay: the events, the highest seq sent, whether more follow."""
    limit = settings.RESUME_PAGE_MESSAGES
    messages = list(selectors.messages_after(conversation_id, after_seq)[: limit + 1])
    more = len(messages) > limit
    messages = messages[:limit]
    highest = messages[-1].seq if messages else after_seq
    return [events.message_created(m) for m in messages], highest, more


def _plain(errors):
    """Serializer errors as plain JSON (as the REST API renders them)."""
    if isinstance(errors, dict):
        return {key: _plain(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_plain(value) for value in errors]
    return str(errors) if isinstance(errors, ErrorDetail) else errors


def _post(
    user, conversation_id: int, *, text: str, task_type: str | None = None, client_id: str = ""
) -> None:
    conversation = selectors.conversation_get_for(user, conversation_id)
    services.message_post(
        conversation=conversation,
        author=user,
        text=text,
        task_type=task_type,
        client_id=client_id,
    )


def _cancel(user, conversation_id: int, seq: int | None) -> None:
    conversation = selectors.conversation_get_for(user, conversation_id)
    services.reply_cancel(conversation=conversation, seq=seq)
