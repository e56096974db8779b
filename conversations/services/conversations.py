"""Conversation lifecycle: create with a first message, rename, end, delete."""

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

import llm
from conversations import events, hooks
from conversations.models import Conversation, Message, Mode, TaskType
from conversations.services.messages import clean_text, post_locked
from core.errors import Conflict, UserFacingError
from documents import selectors as documents_selectors

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
    document_ids: list[int] | None = None,
) -> Conversation:
    """A new conversation with its first message and a pending reply (queued on commit).
    A repeated `client_id` (Idempotency-Key) returns the conversation it created; the
    same key with another first message is refused (409), as for `message_post`."""
    text = clean_text(text)
    if client_id:
        existing = _replay(owner, client_id=client_id, text=text)
        if existing is not None:
            return existing
    llm.quota_check(owner)
    documents = _attachable(owner, document_ids or [])
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
            if documents:
                conversation.documents.set(documents)
            post_locked(conversation, text=text, task_type=task_type)
    except IntegrityError:
        # The same key raced in from a retry: the first one won, return it.
        existing = _replay(owner, client_id=client_id, text=text) if client_id else None
        if existing is None:
            raise
        return existing
    return conversation


def _replay(owner, *, client_id: str, text: str) -> Conversation | None:
    existing = Conversation.objects.filter(owner=owner, client_id=client_id).first()
    if existing is None:
        return None
    first = existing.messages.filter(seq=1).values_list("content", flat=True).first()
    # A first message purged for privacy cannot be compared: the key alone decides.
    if first is not None and first != text:
        raise Conflict(
            "This Idempotency-Key was already used for another conversation",
            detail="Use a new key for a new conversation.",
        )
    return existing


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
        hooks.conversation_ended.call_on_commit(conversation.pk)
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    """Delete it with its messages. A reply being written stops at its next write, and
    its open sockets close with 4404 once the deletion is committed."""
    conversation_id = conversation.pk
    with transaction.atomic():
        # Django collects what refers to the messages before deleting them: a check or
        # batch storing marks in between would leave a row pointing at a deleted message.
        # Locking the messages first (PostgreSQL; SQLite's write lock is taken at BEGIN)
        # makes such a job wait, and then find the message gone.
        locked = Message.objects.select_for_update().filter(conversation_id=conversation_id)
        list(locked.values_list("pk", flat=True))
        conversation.delete()
    transaction.on_commit(lambda: events.close_sockets(conversation_id))


def conversation_documents_set(*, conversation: Conversation, document_ids: list[int]) -> None:
    """Attach exactly these documents of the owner (replies from now on draw on them)."""
    documents = _attachable(conversation.owner, document_ids)
    with transaction.atomic():
        conversation.documents.set(documents)
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now())


def _attachable(owner, document_ids: list[int]) -> list:
    """The owner's documents among `document_ids` (404 for any other), within the limit."""
    limit = settings.DOCUMENTS_PER_CONVERSATION
    if len(set(document_ids)) > limit:
        raise UserFacingError(
            f"A conversation can draw on at most {limit} documents.",
            detail={"document_ids": f"At most {limit}."},
        )
    return documents_selectors.documents_owned(owner, document_ids) if document_ids else []
