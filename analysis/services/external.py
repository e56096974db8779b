"""Conversations from other systems, posted message by message and then ended.

Whoever posts is a `Principal`: a learner (their JWT) posting their own conversations, or
an integration (its API key) posting for the learners linked to it. Each sees only its
own conversations; another's look like they do not exist (404).
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from analysis.models import ExternalConversation, ExternalMessage, Integration, IntegrationLearner
from analysis.services.batches import batches_schedule
from analysis.sources import LEARNER_ROLE, ExternalSource
from core.errors import Conflict, NotFound, TooLarge, UserFacingError, check_length


class InvalidMessage(UserFacingError):
    status_code = 400
    title = "Invalid message"


@dataclass(frozen=True)
class Principal:
    user: object | None = None
    integration: Integration | None = None

    def conversations(self):
        if self.integration is not None:
            return ExternalConversation.objects.filter(integration=self.integration)
        return ExternalConversation.objects.filter(learner=self.user, integration__isnull=True)


def external_conversation_get(*, principal: Principal, external_id: str) -> ExternalConversation:
    conversation = principal.conversations().filter(external_id=external_id).first()
    if conversation is None:
        raise NotFound("No such conversation", detail=f"No conversation {external_id!r} here.")
    return conversation


def external_message_post(
    *,
    principal: Principal,
    external_id: str,
    message_id: str,
    speaker: str,
    role: str,
    text: str,
    sent_at: datetime,
    learner: str = "",
) -> tuple[ExternalMessage, bool]:
    """Store one message (the conversation is created by its first). Returns the message
    and whether it is new: the same `message_id` again returns the stored one, and is
    refused (409) when it comes with other content."""
    text = _clean_text(text)
    conversation = _conversation_for(principal, external_id=external_id, learner=learner)
    with transaction.atomic():
        locked = ExternalConversation.objects.select_for_update().get(pk=conversation.pk)
        existing = locked.messages.filter(message_id=message_id).first()
        if existing is not None:
            return _replayed(existing, speaker=speaker, role=role, text=text), False
        _ensure_open(locked)
        message = _append(
            locked, message_id=message_id, speaker=speaker, role=role, text=text, sent_at=sent_at
        )
        if role == LEARNER_ROLE:
            _schedule_on_commit(locked)
    return message, True


def external_conversation_end(*, principal: Principal, external_id: str) -> ExternalConversation:
    """End it once (again changes nothing): what is left is analysed, then clustered."""
    conversation = external_conversation_get(principal=principal, external_id=external_id)
    return external_conversation_close(conversation=conversation)


def external_conversation_close(*, conversation: ExternalConversation) -> ExternalConversation:
    now = timezone.now()
    with transaction.atomic():
        ended = ExternalConversation.objects.filter(
            pk=conversation.pk, ended_at__isnull=True
        ).update(ended_at=now, updated_at=now)
        if ended:
            _schedule_on_commit(conversation)
    conversation.refresh_from_db()
    return conversation


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidMessage("The message is empty", detail={"text": "Send some text."})
    check_length(text, settings.ANALYSIS_INGEST_TEXT_MAX_CHARS, subject="The message")
    return text


def _conversation_for(principal: Principal, *, external_id: str, learner: str):
    existing = principal.conversations().filter(external_id=external_id).first()
    user = _learner_of(principal, learner) if learner or existing is None else None
    if existing is not None:
        if user is not None and existing.learner_id != user.pk:
            raise Conflict(
                "This conversation belongs to another learner",
                detail=f"Conversation {external_id!r} was started for another learner.",
            )
        return existing
    try:
        with transaction.atomic():
            return ExternalConversation.objects.create(
                integration=principal.integration, external_id=external_id, learner=user
            )
    except IntegrityError:
        # A concurrent first message created it: use that one.
        return principal.conversations().get(external_id=external_id)


def _learner_of(principal: Principal, learner: str):
    if principal.integration is None:
        return principal.user
    if not learner:
        raise InvalidMessage(
            "Name the learner", detail={"learner": "The first message must name its learner."}
        )
    link = (
        IntegrationLearner.objects.filter(integration=principal.integration, external_id=learner)
        .select_related("user")
        .first()
    )
    if link is None:
        raise InvalidMessage(
            "Unknown learner",
            detail={"learner": f"No learner {learner!r} is linked to this integration."},
        )
    return link.user


def _replayed(existing: ExternalMessage, *, speaker: str, role: str, text: str):
    if (existing.speaker, existing.role, existing.text) != (speaker, role, text):
        raise Conflict(
            "This message_id was already used for another message",
            detail="Use a new message_id for a new message.",
        )
    return existing


def _ensure_open(conversation: ExternalConversation) -> None:
    if conversation.ended_at is not None:
        raise Conflict("This conversation has ended", detail="It takes no new messages.")
    limit = settings.ANALYSIS_INGEST_MAX_MESSAGES
    if conversation.arrivals >= limit:
        raise TooLarge(
            f"This conversation is full: at most {limit:,} messages.", detail={"limit": limit}
        )


def _append(conversation: ExternalConversation, **fields) -> ExternalMessage:
    conversation.arrivals += 1
    conversation.updated_at = timezone.now()
    conversation.save(update_fields=["arrivals", "updated_at"])
    return ExternalMessage.objects.create(
        conversation=conversation, arrival=conversation.arrivals, **fields
    )


def _schedule_on_commit(conversation: ExternalConversation) -> None:
    source = ExternalSource(conversation.pk)
    transaction.on_commit(lambda: batches_schedule(source=source), robust=True)
