"""Reads: what a learner may see of their conversations."""

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Substr

from config.errors import NotFound
from conversations.models import RUNNING_STATUSES, Conversation, Message

PREVIEW_CHARS = 140
NOT_FOUND = "Conversation not found"


def conversation_list_for(user) -> QuerySet[Conversation]:
    """The learner's conversations, newest activity first, each with its message count and
    the start of its last message, in one query (whatever the page size)."""
    last_message = Message.objects.filter(conversation=OuterRef("pk")).order_by("-seq")
    return (
        Conversation.objects.filter(owner=user)
        .annotate(
            message_count=Count("messages"),
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
    conversation = Conversation.objects.filter(pk=conversation_id, owner=user).first()
    if conversation is None:
        raise NotFound(NOT_FOUND, detail=f"No conversation {conversation_id} for this account.")
    return conversation


def conversation_is_owned(user, conversation_id: int) -> bool:
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
