"""Writes of the analysis app, by sub-domain; import them from here."""

from analysis.services.batches import (
    batch_changed,
    batch_process,
    batch_rerun,
    batches_rerun_failed,
    batches_schedule,
    integration_of,
)
from analysis.services.checks import (
    checks_queue,
    message_check_process,
    message_correction,
    text_correction,
)
from analysis.services.clustering import (
    clustering_changed,
    clustering_process,
    clustering_rerun,
    clustering_schedule,
)
from analysis.services.external import (
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
    "batch_changed",
    "batch_process",
    "batch_rerun",
    "batches_rerun_failed",
    "batches_schedule",
    "checks_queue",
    "clustering_changed",
    "clustering_process",
    "clustering_rerun",
    "clustering_schedule",
    "conversations_end_idle",
    "external_conversation_close",
    "external_conversation_end",
    "external_conversation_get",
    "external_message_post",
    "integration_of",
    "message_check_process",
    "message_correction",
    "on_conversation_ended",
    "on_message_posted",
    "text_correction",
]
