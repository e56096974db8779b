"""The sweeper (`jobs_sweep`, a periodic job of every worker): rows whose heartbeat went
stale (a killed worker) or whose queued task vanished go back to the queue, and fail
after their last attempt; failed rows of a kind with automatic retries are queued again
once their wait is over. Every change is a conditional UPDATE, so sweepers in many
workers race safely."""

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.utils import get_module_path

from core.jobs.kinds import JobKind, all_kinds
from core.jobs.queue import queue_on_commit, retry

logger = logging.getLogger("core.jobs")

SWEEP_BATCH = 200


class WorkerLost(Exception):
    """Recorded on a queue row whose worker died while running it (never raised)."""


def jobs_sweep(*, now: datetime | None = None) -> Counter:
    """Requeue or fail rows of every kind that no live worker is working on."""
    done: Counter = Counter()
    for kind in all_kinds():
        try:
            done.update(sweep_kind(kind, now=now))
        except Exception:
            # One kind's trouble (a table being migrated, say) must not stop the others.
            logger.exception("Sweeping %s failed; will try again", kind.model.__name__)
    return done


def sweep_kind(kind: JobKind, *, now: datetime | None = None) -> Counter:
    now = now or timezone.now()
    done: Counter = Counter()
    stale = now - timedelta(seconds=kind.stale_seconds)
    for row in kind.objects.filter(status=kind.running, heartbeat_at__lt=stale)[:SWEEP_BATCH]:
        expected = Q(status=kind.running, attempts=row.attempts, heartbeat_at=row.heartbeat_at)
        done[_rescue(kind, row, expected, now)] += 1
    waited = now - timedelta(seconds=kind.queued_stale_seconds)
    for row in kind.objects.filter(status=kind.queued, queued_at__lt=waited)[:SWEEP_BATCH]:
        if _task_waiting(kind, row.pk):
            continue  # still in the queue: the workers are busy, not gone
        done[_rescue(kind, row, Q(status=kind.queued, queued_at=row.queued_at), now)] += 1
    for row in _due_for_auto_retry(kind, now):
        done["retried" if retry(row) else "raced"] += 1
    if done:
        logger.warning("%s sweep: %s", kind.model.__name__, dict(done))
    return done


def _due_for_auto_retry(kind: JobKind, now: datetime) -> list[Any]:
    """Failed rows with automatic rounds left whose wait since they failed is over."""
    if not kind.auto_retries:
        return []
    soonest = now - timedelta(seconds=kind.auto_retry_after(0) or 0)
    failed = kind.objects.filter(
        status=kind.failed,
        attempts__lt=kind.auto_retries * kind.attempt_stride,
        **{f"{kind.finished_field}__lte": soonest},
    ).order_by(kind.finished_field)[:SWEEP_BATCH]
    return [row for row in failed if _waited(kind, row, now)]


def _waited(kind: JobKind, row: Any, now: datetime) -> bool:
    wait = kind.auto_retry_after(row.attempts)
    failed_at = getattr(row, kind.finished_field)
    return wait is not None and failed_at is not None and failed_at + timedelta(seconds=wait) <= now


def _rescue(kind: JobKind, row: Any, expected: Q, now: datetime) -> str:
    if kind.out_of_attempts(row.attempts):
        return "failed" if fail_row(kind, row.pk, expected, kind.lost_reason) else "raced"
    with transaction.atomic():
        requeued = kind.objects.filter(expected, pk=row.pk).update(**kind.requeue_fields(row, now))
        if requeued:
            _close_lost_task(kind, row.pk)  # before the new task exists, so only the old one
            queue_on_commit(kind, row.pk)
    if not requeued:
        return "raced"
    row.refresh_from_db()
    kind.changed(row)
    return "requeued"


def fail_row(kind: JobKind, pk: int, expected: Q, reason: str) -> bool:
    """Fail row `pk` with `reason` if it still matches `expected`; tell its owner."""
    if not kind.objects.filter(expected, pk=pk).update(**kind.fail_fields(reason, timezone.now())):
        return False
    row = kind.objects.filter(pk=pk).first()
    if row is None:
        return False
    _close_lost_task(kind, pk)
    kind.changed(row)
    return True


def _task_waiting(kind: JobKind, pk: int) -> bool:
    """Whether a task for row `pk` is still queued. Where the backend cannot tell,
    assume it was lost: queueing a row twice is harmless, as only one claim succeeds."""
    tasks = _db_tasks_of(kind, pk)
    return tasks is not None and tasks.filter(status=TaskResultStatus.READY).exists()


def _close_lost_task(kind: JobKind, pk: int) -> None:
    """The database backend leaves a dead worker's task RUNNING forever; close it so the
    queue tells the truth (the job's row already does)."""
    tasks = _db_tasks_of(kind, pk)
    if tasks is None:
        return
    tasks.filter(status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path=get_module_path(WorkerLost),
        traceback="The worker stopped sending heartbeats while running this job.",
    )


def _db_tasks_of(kind: JobKind, pk: int):
    """The django-tasks-db rows that run row `pk`, or None with another backend."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(kind.task.get_backend(), DatabaseBackend):
        return None
    return DBTaskResult.objects.filter(task_path=kind.task.module_path, args_kwargs__args__0=pk)
