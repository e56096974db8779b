"""Conversation lifecycle: create with a first message, rename, end, delete."""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone

import llm
from conversations import events
from conversations.models import Conversation, Mode, TaskType
from conversations.services.messages import clean_text, post_locked

TITLE_MAX_CHARS = 60


def title_from_text(text: str, *, limit: int = TITLE_MAX_CHARS) -> str:
    """The first words of the first message, cut at a word boundary with an ellipsis."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-") + "…"


def conversation_create(
    *,
    owner,
    text: str,
    task_type: str = TaskType.CHAT,
    title: str = "",
    mode: str = Mode.OPEN,
    keep_raw_messages: bool = True,
    client_id: str = "",
) -> Conversation:
    """A new conversation with its first message and a pending reply (queued on commit).
    A repeated `client_id` (Idempotency-Key) returns the conversation it created."""
    text = clean_text(text)
    if client_id:
        existing = Conversation.objects.filter(owner=owner, client_id=client_id).first()
        if existing is not None:
            return existing
    llm.quota_check(owner)
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                owner=owner,
                title=title.strip() or title_from_text(text),
                mode=mode,
                task_type=task_type,
                keep_raw_messages=keep_raw_messages,
                client_id=client_id,
            )
            post_locked(conversation, text=text, task_type=task_type)
    except IntegrityError:
        # The same key raced in from a retry: the first one won, return it.
        existing = Conversation.objects.filter(owner=owner, client_id=client_id).first()
        if not client_id or existing is None:
            raise
        return existing
    return conversation


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    conversation.title = title.strip()[:200] or conversation.title
    conversation.updated_at = timezone.now()
    conversation.save(update_fields=["title", "updated_at"])
    events.send_on_commit(conversation.pk, lambda: [events.conversation_updated(conversation)])
    return conversation


def conversation_end(*, conversation: Conversation) -> Conversation:
    """Mark it ended (once; ending again changes nothing). Posting is then refused."""
    now = timezone.now()
    ended = Conversation.objects.filter(pk=conversation.pk, ended_at__isnull=True).update(
        ended_at=now, updated_at=now
    )
    conversation.refresh_from_db()
    if ended:
        events.send_on_commit(conversation.pk, lambda: [events.conversation_updated(conversation)])
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    """Delete it with its messages. A reply being written stops at its next write."""
    conversation.delete()
