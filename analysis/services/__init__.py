"""Writes of the analysis app, by sub-domain; import them from here."""

from analysis.services.batches import batch_analyse, batch_changed, batch_rerun, batches_schedule
from analysis.services.clustering import (
    clustering_changed,
    clustering_rerun,
    clustering_run,
    clustering_schedule,
)
from analysis.services.ingestion import (
    Principal,
    external_conversation_close,
    external_conversation_end,
    external_conversation_get,
    external_message_post,
)
from analysis.services.lifecycle import (
    conversations_end_idle,
    on_conversation_ended,
    on_message_posted,
)

__all__ = [
    "Principal",
    "batch_analyse",
    "batch_changed",
    "batch_rerun",
    "batches_schedule",
    "clustering_changed",
    "clustering_rerun",
    "clustering_run",
    "clustering_schedule",
    "conversations_end_idle",
    "external_conversation_close",
    "external_conversation_end",
    "external_conversation_get",
    "external_message_post",
    "on_conversation_ended",
    "on_message_posted",
]
