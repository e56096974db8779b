"""Replies never hang: they are jobs of the shared mechanism in `core.jobs`.

The process's heartbeat thread refreshes `heartbeat_at` of every reply it is writing
(also while the model is still thinking about its first token) and stops the model for
replies that were cancelled or deleted in the meantime. The sweeper every worker runs
(`core.jobs.jobs_sweep`) queues a reply whose heartbeat went stale, or that waited too
long with no task left to run it, again or, after REPLY_MAX_ATTEMPTS, fails it with a
reason the learner can read. Only the names and timings here are the replies' own; the
task is declared in conversations/tasks.py.
"""

from collections import Counter
from datetime import datetime
from typing import Any

from django.db.models import Q

from conversations import events
from conversations.models import Message, Role, Status
from core import jobs

WORKER_LOST = "The tutor was interrupted and could not finish this reply. Please try again."
TOO_LONG = "The tutor took too long to answer. Please try again."


class ReplyKind(jobs.JobKind):
    """Replies under the shared job mechanism, with their own names and timings."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.queued = Status.PENDING
        self.running = Status.STREAMING
        self.done = Status.COMPLETE
        self.failed = Status.FAILED
        self.finished_field = "completed_at"
        self.lost_reason = WORKER_LOST
        self.overdue_reason = TOO_LONG

    @property
    def label(self) -> str:
        return "Reply"

    max_attempts = jobs.Setting("REPLY_MAX_ATTEMPTS")
    heartbeat_seconds = jobs.Setting("REPLY_HEARTBEAT_SECONDS")
    stale_seconds = jobs.Setting("REPLY_STALE_SECONDS")
    queued_stale_seconds = jobs.Setting("REPLY_PENDING_STALE_SECONDS")
    max_seconds = jobs.Setting("REPLY_MAX_SECONDS")

    def claimable(self) -> Q:
        return Q(role=Role.ASSISTANT)

    def claim_fields(self) -> dict[str, Any]:
        # Each attempt writes the reply from the start.
        return {"content": "", "error": ""}

    def load(self, pk: int) -> Message | None:
        return Message.objects.select_related("conversation__owner__profile").filter(pk=pk).first()

    def claimed(self, row: Message) -> None:
        if row.attempts > 1:
            # A retry after a lost worker: clients replace what they showed of the last try.
            events.send(row.conversation_id, events.message_created(row))

    def requeue_fields(self, row: Any, now: datetime) -> dict[str, Any]:
        # The retry streams from the start; clients replace what they showed.
        return {**super().requeue_fields(row, now), "content": ""}

    def changed(self, row: Any) -> None:
        if row.status == Status.PENDING:
            events.send(row.conversation_id, events.message_created(row))
        else:
            events.send(row.conversation_id, events.reply_finished(row))


def replies() -> jobs.JobKind:
    return jobs.kind_of(Message)


def replies_sweep(*, now: datetime | None = None) -> Counter:
    """Requeue or fail replies no live worker is writing. Returns what it did."""
    return jobs.sweep_kind(replies(), now=now)
