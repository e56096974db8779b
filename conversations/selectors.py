"""Reads: what a learner may see of their conversations."""

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Substr

from conversations.models import RUNNING_STATUSES, Conversation, Message
from core.errors import NotFound

PREVIEW_CHARS = 140
# Messages a chat page (and each "earlier messages" request) loads: rendering them is
# the cost of the page, so a long conversation is read from its end, a page at a time.
MESSAGES_PAGE = 200
NOT_FOUND = "Conversation not found"
# Ids beyond a 64-bit column cannot exist; asking the database about them is an error.
MAX_ID = 2**63 - 1


def conversation_list_for(user) -> QuerySet[Conversation]:
    """The learner's conversations, newest activity first, each with its message count and
    the start of its last message, in one query (whatever the page size)."""
    last_message = Message.objects.filter(conversation=OuterRef("pk")).order_by("-seq")
    return (
        Conversation.objects.filter(owner=user)
        .annotate(
            # What the chat page shows: a regenerated reply replaces the one before it.
            message_count=Count("messages", filter=Q(messages__superseded=False)),
            last_message_preview=Subquery(
                last_message.annotate(preview=Substr("content", 1, PREVIEW_CHARS)).values(
                    "preview"
                )[:1]
            ),
        )
        .order_by("-updated_at", "-id")
    )


def conversation_get_for(user, conversation_id: int) -> Conversation:
    """The learner's own conversation. Another learner's looks exactly like a missing one."""
    conversation = None
    if 0 < conversation_id <= MAX_ID:
        conversation = Conversation.objects.filter(pk=conversation_id, owner=user).first()
    if conversation is None:
        raise NotFound(NOT_FOUND, detail=f"No conversation {conversation_id} for this account.")
    return conversation


def conversation_is_owned(user, conversation_id: int) -> bool:
    if not 0 < conversation_id <= MAX_ID:
        return False
    return Conversation.objects.filter(pk=conversation_id, owner=user).exists()


def messages_after(conversation: Conversation | int, seq: int) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation, seq__gt=seq).order_by("seq")


def running_reply(conversation: Conversation) -> Message | None:
    return (
        Message.objects.filter(conversation=conversation, status__in=RUNNING_STATUSES)
        .order_by("-seq")
        .first()
    )


def last_message(conversation: Conversation) -> Message | None:
    return Message.objects.filter(conversation=conversation).order_by("-seq").first()


def visible_messages(
    conversation: Conversation, *, before_seq: int | None = None, limit: int = MESSAGES_PAGE
) -> tuple[list[Message], bool]:
    """The newest `limit` messages the learner sees (below `before_seq` when given), oldest
    first, and whether there are earlier ones. A regenerated reply stands in for the one it
    replaced, which is not shown."""
    rows = Message.objects.filter(conversation=conversation, superseded=False)
    if before_seq is not None:
        rows = rows.filter(seq__lt=before_seq)
    newest = list(rows.order_by("-seq")[: limit + 1])
    return newest[:limit][::-1], len(newest) > limit


def reply_versions(conversation: Conversation, seq: int) -> list[Message]:
    """Every version of the reply at `seq`: the replies to the same learner message,
    oldest first (the last is the one shown). NotFound when `seq` is no reply."""
    reply = None
    if 0 < seq <= MAX_ID:
        reply = (
            Message.objects.filter(conversation=conversation, seq=seq, reply_to__isnull=False)
            .only("reply_to_id")
            .first()
        )
    if reply is None:
        raise NotFound("Reply not found", detail=f"No reply {seq} in this conversation.")
    return list(
        Message.objects.filter(conversation=conversation, reply_to_id=reply.reply_to_id).order_by(
            "seq"
        )
    )
