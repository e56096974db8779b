"""How the pipeline hears about conversations: our chat's hooks and the idle timeout."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from analysis.models import ExternalConversation
from analysis.services.batches import batches_schedule
from analysis.services.ingestion import external_conversation_close
from analysis.sources import OURS, Source
from conversations.models import Conversation


def on_message_posted(conversation_id: int) -> None:
    """conversations.hooks.after_message_posted: a batch may be complete now."""
    batches_schedule(source=Source(OURS, conversation_id))


def on_conversation_ended(conversation_id: int) -> None:
    """conversations.hooks.after_conversation_ended: analyse what is left, then cluster."""
    batches_schedule(source=Source(OURS, conversation_id))


def conversations_end_idle(*, now: datetime | None = None) -> dict[str, int]:
    """A periodic job: end every conversation (ours and external) with no activity for
    ANALYSIS_IDLE_END_SECONDS, which completes its analysis. Returns how many."""
    from conversations.services import conversation_end

    idle = settings.ANALYSIS_IDLE_END_SECONDS
    if idle <= 0:
        return {}
    cutoff = (now or timezone.now()) - timedelta(seconds=idle)
    ended = {"conversations": 0, "external": 0}
    for conversation in Conversation.objects.filter(ended_at__isnull=True, updated_at__lt=cutoff):
        conversation_end(conversation=conversation)
        ended["conversations"] += 1
    for external in ExternalConversation.objects.filter(
        ended_at__isnull=True, updated_at__lt=cutoff
    ):
        external_conversation_close(conversation=external)
        ended["external"] += 1
    return {k: v for k, v in ended.items() if v}
