"""Putting rows in the queue, taking them out (cancel) and putting them back (retry).

Tasks are queued once the row is committed, with its pk only."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.jobs.kinds import JobKind, kind_of
from core.jobs.models import Job, JobStatus

logger = logging.getLogger("core.jobs")


def enqueue(job: Job) -> None:
    """Mark `job` queued and queue its task once the row is committed. Queueing twice is
    harmless: only one claim of a row can succeed."""
    kind = kind_of(type(job))
    now = timezone.now()
    # A row made queued with its time (a reply) needs no second write on the hot path.
    if job.queued_at is None and kind.objects.filter(pk=job.pk, status=kind.queued).update(
        queued_at=now
    ):
        job.queued_at = now
    queue_on_commit(kind, job.pk)


def queue_on_commit(
    kind: JobKind, pk: int, *, delay: float = 0.0, run_after: datetime | None = None
) -> None:
    """Queue `kind.task(pk)` after commit, to run `delay` seconds later or at `run_after`.
    A queue that refuses is logged, not raised: the row is stored, and the sweeper queues
    it again once it has waited too long."""

    def queue_task() -> None:
        task = kind.task
        if run_after is not None:
            task = task.using(run_after=run_after)
        elif delay > 0:
            task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
        try:
            task.enqueue(pk)
        except Exception:
            logger.error(
                "%s %s is stored but not queued; the sweeper will queue it", kind.label, pk
            )
            raise

    transaction.on_commit(queue_task, robust=True)


def cancel(job: Job) -> bool:
    """Stop `job`: a queued one never runs, a running one stops at its next check."""
    kind = kind_of(type(job))
    now = timezone.now()
    cancelled = kind.objects.filter(pk=job.pk, status__in=(kind.queued, kind.running)).update(
        status=JobStatus.CANCELLED, finished_at=now, heartbeat_at=None
    )
    if cancelled:
        job.status, job.finished_at = JobStatus.CANCELLED, now
        kind.changed(job)
    return bool(cancelled)


def retry(job: Job, *, done_too: bool = False) -> bool:
    """Queue a failed or cancelled `job` again (a done one too with `done_too`), with a
    fresh set of attempts and whatever its kind resets on a retry. The attempt counter
    moves on rather than back (JobKind.retried_attempts): an attempt cancelled a moment
    ago may still be running, and must find the row no longer its own."""
    kind = kind_of(type(job))
    finished = [kind.failed, JobStatus.CANCELLED, *([kind.done] if done_too else [])]
    now = timezone.now()
    with transaction.atomic():
        queued = kind.objects.filter(pk=job.pk, status__in=finished).update(
            status=kind.queued,
            attempts=kind.retried_attempts(),
            error="",
            queued_at=now,
            finished_at=None,
            **kind.retry_fields(job),
        )
        if queued:
            queue_on_commit(kind, job.pk)
    if queued:
        job.refresh_from_db()
        kind.changed(job)
    return bool(queued)
