"""Replies never hang: they are jobs of the shared mechanism in `ops.jobs`.

The process's heartbeat thread refreshes `heartbeat_at` of every reply it is writing
(also while the model is still thinking about its first token) and stops the model for
replies that were cancelled or deleted in the meantime. The sweeper every worker runs
(`ops.jobs.jobs_sweep`) queues a reply whose heartbeat went stale, or that waited too
long with no task left to run it, again or, after REPLY_MAX_ATTEMPTS, fails it with a
reason the learner can read. Only the names and timings here are the replies' own.
"""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from conversations import events
from conversations.models import Message, Status
from ops import jobs

WORKER_LOST = "The tutor was interrupted and could not finish this reply. Please try again."
TOO_LONG = "The tutor took too long to answer. Please try again."


@dataclass(eq=False)
class ReplyKind(jobs.JobKind):
    """Replies under the shared job mechanism, with their own names and timings."""

    queued: str = Status.PENDING
    running: str = Status.STREAMING
    done: str = Status.COMPLETE
    failed: str = Status.FAILED
    finished_field: str = "completed_at"
    lost_reason: str = WORKER_LOST
    overdue_reason: str = TOO_LONG

    @property
    def max_attempts(self) -> int:
        return settings.REPLY_MAX_ATTEMPTS

    @property
    def heartbeat_seconds(self) -> float:
        return settings.REPLY_HEARTBEAT_SECONDS

    @property
    def stale_seconds(self) -> float:
        return settings.REPLY_STALE_SECONDS

    @property
    def queued_stale_seconds(self) -> float:
        return settings.REPLY_PENDING_STALE_SECONDS

    @property
    def max_seconds(self) -> float:
        return settings.REPLY_MAX_SECONDS

    def requeue_fields(self, row: Any, now: datetime) -> dict[str, Any]:
        # The retry streams from the start; clients replace what they showed.
        return {**super().requeue_fields(row, now), "content": ""}

    def changed(self, row: Any) -> None:
        if row.status == Status.PENDING:
            events.send(row.conversation_id, events.message_created(row))
        else:
            events.send(row.conversation_id, events.reply_finished(row))


def _reply_kind() -> ReplyKind:
    from conversations.tasks import generate_reply

    return ReplyKind(model=Message, task=generate_reply)


REPLIES = jobs.register_kind(_reply_kind())


@contextmanager
def beating(reply: Message) -> Iterator[jobs.Beat]:
    """Keep `reply` marked alive while the block runs; set `on_lost` on the yielded beat
    to be called (from the heartbeat thread) when the reply stops being ours."""
    with jobs.beating(REPLIES, reply) as beat:
        yield beat


def replies_sweep(*, now: datetime | None = None) -> Counter:
    """Requeue or fail replies no live worker is writing. Returns what it did."""
    return jobs.sweep_kind(REPLIES, now=now)
