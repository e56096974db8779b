"""How the pipeline hears about conversations: our chat's hooks and the idle timeout."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from analysis.models import ExternalConversation
from analysis.services.batches import batches_schedule
from analysis.services.external import external_conversation_close
from analysis.sources import OwnConversation
from conversations.models import Conversation
from conversations.services import conversation_end

# Conversations ended per sweep and kind: a backlog (the first run after an upgrade) is
# worked off over several sweeps instead of queueing every analysis at once.
IDLE_SWEEP_LIMIT = 100


def on_message_posted(conversation_id: int) -> None:
    """conversations.hooks.message_posted: a batch may be complete now."""
    batches_schedule(source=OwnConversation(conversation_id))


def on_conversation_ended(conversation_id: int) -> None:
    """conversations.hooks.conversation_ended: analyse what is left, then cluster."""
    batches_schedule(source=OwnConversation(conversation_id))


def conversations_end_idle(*, now: datetime | None = None) -> dict[str, int]:
    """A periodic job: end every conversation (ours and external) with no activity for
    ANALYSIS_IDLE_END_SECONDS, which completes its analysis (at most IDLE_SWEEP_LIMIT of
    each kind per run). Returns how many."""
    seconds = settings.ANALYSIS_IDLE_END_SECONDS
    if seconds <= 0:
        return {}
    cutoff = (now or timezone.now()) - timedelta(seconds=seconds)
    ended = {"conversations": 0, "external": 0}
    idle = Conversation.objects.filter(ended_at__isnull=True, updated_at__lt=cutoff)
    for conversation in idle.order_by("updated_at")[:IDLE_SWEEP_LIMIT]:
        conversation_end(conversation=conversation)
        ended["conversations"] += 1
    idle_external = ExternalConversation.objects.filter(
        ended_at__isnull=True, updated_at__lt=cutoff
    )
    for external in idle_external.order_by("updated_at")[:IDLE_SWEEP_LIMIT]:
        external_conversation_close(conversation=external)
        ended["external"] += 1
    return {k: v for k, v in ended.items() if v}
