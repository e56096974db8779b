"""Running a row: claim it, keep it alive while the work runs, finish the attempt.

Inside the work, `raise jobs.Failed(reason)` fails the row at once; `raise
jobs.Retry(reason)` tries again (a warning, no traceback) and fails with the reason after
the last attempt; `raise jobs.Defer(reason, until=when)` queues it again to run then
(a warning, no traceback); any other exception is retried with its traceback logged. A
work function may return fields to store with its done status.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import UserFacingError
from core.jobs.heartbeat import beating
from core.jobs.kinds import JobKind, kind_of
from core.jobs.queue import queue_on_commit

logger = logging.getLogger("core.jobs")

GENERIC_FAILURE = "Something went wrong while this was being processed. Please try again."


class Failed(Exception):
    """Raised by a job's work: fail it now with this reason, without retrying."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Retry(Exception):
    """Raised by a job's work for a failure that is expected now and then and may pass on
    another try (a small model's output that does not match its schema): the attempt is
    retried like any other, logged as a warning rather than a traceback, and after the
    last attempt the job fails with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Defer(Exception):
    """Raised by a job's work that cannot go on before `until` (a spent daily allowance):
    the job goes back to the queue to run then, with a fresh set of attempts, and the
    log says so with a warning, no traceback. `reason` stays on the queued row for its
    owner to read until the job runs again."""

    def __init__(self, reason: str, *, until: datetime) -> None:
        super().__init__(reason)
        self.reason = reason
        self.until = until


def mine(job: Any) -> Q:
    """The guard of every write a running job makes: the row is still this attempt's."""
    return kind_of(type(job)).mine(job)


def still_mine(job: Any) -> bool:
    """Whether the row is still this attempt's, asked of the database now (`lost` knows
    only what the last heartbeat saw). It touches the row, so inside the transaction that
    stores an attempt's results it also holds off a cancel or retry until that commits:
    the check and the writes after it see the same owner."""
    kind = kind_of(type(job))
    return bool(kind.objects.filter(kind.mine(job)).update(heartbeat_at=timezone.now()))


def run(
    model: type[models.Model], pk: int, *, work: Callable[[Any], Any], task_id: str = ""
) -> None:
    """Claim row `pk` and run `work(row)` on it, keeping it alive; see the module doc."""
    kind = kind_of(model)
    job = claim(kind, pk, task_id=task_id)
    if job is None:
        return
    with beating(kind, job):
        try:
            fields = work(job) or {}
        except Failed as exc:
            changed = finish(kind, job, status=kind.failed, error=exc.reason)
        except Defer as exc:
            logger.warning(
                "%s %s deferred until %s: %s",
                model.__name__,
                pk,
                exc.until.isoformat(timespec="seconds"),
                exc.reason,
            )
            changed = defer(kind, job, exc)
        except Retry as exc:
            logger.warning(
                "%s %s: %s (attempt %s of %s)",
                model.__name__,
                pk,
                exc.reason,
                kind.attempts_used(job.attempts),
                kind.max_attempts,
            )
            changed = _retry_or_fail(kind, job, exc)
        except Exception as exc:
            if not kind.objects.filter(kind.mine(job)).exists():
                # Deleted, cancelled or superseded meanwhile (its file gone, say): the
                # failure is the stop, not a fault worth a traceback.
                logger.info("%s %s stopped: no longer this attempt's (%r)", model.__name__, pk, exc)
                changed = False
            else:
                logger.exception(
                    "%s %s failed (attempt %s)",
                    model.__name__,
                    pk,
                    kind.attempts_used(job.attempts),
                )
                changed = _retry_or_fail(kind, job, exc)
        else:
            changed = finish(kind, job, status=kind.done, **fields)
    if changed:
        job.refresh_from_db()
        kind.changed(job)


def claim(kind: JobKind, pk: int, *, task_id: str = "") -> Any | None:
    """Take row `pk` atomically; of two workers, exactly one gets it."""
    now = timezone.now()
    claimed = (
        kind.objects.filter(kind.claimable(), pk=pk, status=kind.queued).update(
            status=kind.running,
            attempts=F("attempts") + 1,
            heartbeat_at=now,
            started_at=now,
            task_id=task_id[:64],
            **kind.claim_fields(),
        )
        if pk is not None
        else 0
    )
    if not claimed:
        return None
    row = kind.load(pk)
    if row is not None:
        kind.claimed(row)
    return row


def finish(kind: JobKind, job: Any, *, status: str, error: str = "", **fields: Any) -> bool:
    """End our attempt with `status` (and `fields`); False when the row stopped being
    ours in the meantime."""
    now = timezone.now()
    finished = kind.objects.filter(kind.mine(job)).update(
        status=status, error=error, heartbeat_at=None, **{kind.finished_field: now}, **fields
    )
    return bool(finished)


def defer(kind: JobKind, job: Any, exc: Defer) -> bool:
    """Queue our attempt's row again to run at `exc.until`. The wait is nobody's fault,
    so the job gets a new round of attempts: the attempt counter moves on to the next
    round (never back: it fences the attempts' writes)."""
    now = timezone.now()
    with transaction.atomic():
        deferred = kind.objects.filter(kind.mine(job)).update(
            **{
                **kind.requeue_fields(job, now),
                "attempts": kind.retried_attempts(),
                "error": exc.reason,
            }
        )
        if deferred:
            queue_on_commit(kind, job.pk, run_after=max(exc.until, now))
    return bool(deferred)


def _retry_or_fail(kind: JobKind, job: Any, exc: Exception) -> bool:
    if kind.out_of_attempts(job.attempts):
        reason = _failure_reason(exc, kind.attempts_used(job.attempts))
        return bool(
            kind.objects.filter(kind.mine(job)).update(**kind.fail_fields(reason, timezone.now()))
        )
    delay = settings.JOB_RETRY_BASE_SECONDS * 2 ** max(kind.attempts_used(job.attempts) - 1, 0)
    with transaction.atomic():
        requeued = kind.objects.filter(kind.mine(job)).update(
            **kind.requeue_fields(job, timezone.now())
        )
        if requeued:
            queue_on_commit(kind, job.pk, delay=delay)
    return bool(requeued)


def _failure_reason(exc: Exception, attempts: int) -> str:
    if isinstance(exc, Retry):
        return f"{exc.reason} (after {attempts} attempts)"
    return exc.user_message if isinstance(exc, UserFacingError) else GENERIC_FAILURE
