"""Posting learner messages and steering replies: post, regenerate, cancel.

A post stores the learner's message and a pending reply in one transaction, under the
conversation's row lock (which also hands out the `seq` numbers), and queues the
generation task with ids only once the rows are committed.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import llm
from conversations import events, hooks, selectors
from conversations.models import (
    RUNNING_STATUSES,
    Conversation,
    Message,
    Role,
    Status,
)
from core import jobs
from core.errors import Conflict, UserFacingError, check_length

logger = logging.getLogger(__name__)


class EmptyMessage(UserFacingError):
    status_code = 400
    title = "Write a message first"


def clean_text(text: str) -> str:
    """The message as stored; refuses empty and over-long text (413, with the limit)."""
    text = (text or "").strip()
    if not text:
        raise EmptyMessage(detail="The message is empty.")
    check_length(text, settings.MESSAGE_MAX_CHARS, subject="Your message")
    return text


def message_post(
    *,
    conversation: Conversation,
    author,
    text: str,
    task_type: str | None = None,
    client_id: str = "",
) -> tuple[Message, Message]:
    """Store the learner's message and a pending reply, queue the reply; returns both.

    A repeated `client_id` (the Idempotency-Key) returns the first result. While a reply
    is still being written the post is refused (409): the next reply's context must
    contain the current one, so learners wait for it or cancel it.
    """
    text = clean_text(text)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if client_id:
            replay = _replay(locked, client_id=client_id, text=text)
            if replay is not None:
                return replay
        _ensure_open(locked)
        _ensure_idle(locked)
        llm.quota_check(author)
        return post_locked(
            locked, text=text, task_type=task_type or locked.task_type, client_id=client_id
        )


def post_locked(
    conversation: Conversation, *, text: str, task_type: str, client_id: str = ""
) -> tuple[Message, Message]:
    """Within the caller's transaction, holding the conversation row."""
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        seq=conversation.last_seq + 1,
        role=Role.USER,
        content=text,
        task_type=task_type,
        status=Status.COMPLETE,
        client_id=client_id,
        created_at=now,
        completed_at=now,
    )
    reply = _pending_reply(conversation, reply_to=message, seq=message.seq + 1, now=now)
    _queue_reply(conversation, reply, now=now, announce=[message, reply])
    hooks.message_posted.call_on_commit(conversation.pk)
    return message, reply


def reply_regenerate(*, conversation: Conversation, author) -> Message:
    """Write the last reply again (also how a failed reply is retried). The new reply gets
    the next `seq` and `version` and names the one it replaces, which is kept (the learner
    can browse back to it) but left out of context."""
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        _ensure_open(locked)
        _ensure_idle(locked)
        last = selectors.last_message(locked)
        if last is None or last.role != Role.ASSISTANT or last.reply_to_id is None:
            raise Conflict("There is no reply to regenerate", detail="Send a message first.")
        llm.quota_check(author)
        now = timezone.now()
        last.superseded = True
        last.save(update_fields=["superseded"])
        reply = _pending_reply(
            locked, reply_to=last.reply_to, seq=locked.last_seq + 1, now=now, replaces=last
        )
        _queue_reply(locked, reply, now=now, announce=[last, reply])
    return reply


def reply_cancel(*, conversation: Conversation, seq: int | None = None) -> Message:
    """Stop the running reply, keeping the text it had stored. The generating worker
    notices at its next write (or heartbeat) and stops the model."""
    running = selectors.running_reply(conversation)
    if running is None or (seq is not None and running.seq != seq):
        raise Conflict("Nothing to cancel", detail="No reply is being written right now.")
    cancelled = Message.objects.filter(pk=running.pk, status__in=RUNNING_STATUSES).update(
        status=Status.CANCELLED, completed_at=timezone.now(), heartbeat_at=None
    )
    if not cancelled:
        raise Conflict("Nothing to cancel", detail="The reply finished in the meantime.")
    running.refresh_from_db()
    events.send_on_commit(conversation.pk, lambda: [events.reply_finished(running)])
    return running


def _queue_reply(
    conversation: Conversation, reply: Message, *, now, announce: list[Message]
) -> None:
    """Within the transaction that created `reply`: hand out its seq, then queue it and
    announce `announce` once committed."""
    conversation.last_seq = reply.seq
    conversation.updated_at = now
    conversation.save(update_fields=["last_seq", "updated_at"])
    # Queued before the events go out: the worker starts while they are published (a
    # delta that overtakes them is placed by the client after a resume). A queue that
    # refuses is no error for the learner: the reply stays pending and the sweeper
    # queues it again once it has waited REPLY_PENDING_STALE_SECONDS.
    jobs.enqueue(reply)
    events.send_on_commit(conversation.pk, lambda: [events.message_created(m) for m in announce])


def _pending_reply(
    conversation: Conversation,
    *,
    reply_to: Message,
    seq: int,
    now,
    replaces: Message | None = None,
) -> Message:
    return Message.objects.create(
        conversation=conversation,
        seq=seq,
        role=Role.ASSISTANT,
        task_type=reply_to.task_type,
        status=Status.PENDING,
        reply_to=reply_to,
        replaces_seq=replaces.seq if replaces else None,
        version=replaces.version + 1 if replaces else 1,
        created_at=now,
        queued_at=now,
    )


def _replay(conversation: Conversation, *, client_id: str, text: str):
    message = Message.objects.filter(
        conversation=conversation, client_id=client_id, role=Role.USER
    ).first()
    if message is None:
        return None
    if message.content != text:
        raise Conflict(
            "This Idempotency-Key was already used for another message",
            detail="Use a new key for a new message.",
        )
    # The reply shown now: after a regenerate, the newest one, not the one it replaced.
    reply = message.replies.order_by("superseded", "-seq").first()
    return message, reply


def _ensure_open(conversation: Conversation) -> None:
    if conversation.ended_at is not None:
        raise Conflict(
            "This conversation has ended", detail="Start a new conversation to keep practising."
        )


def _ensure_idle(conversation: Conversation) -> None:
    running = selectors.running_reply(conversation)
    if running is not None:
        raise Conflict(
            "The tutor is still answering",
            detail=f"Wait for reply {running.seq} to finish, or cancel it.",
        )
