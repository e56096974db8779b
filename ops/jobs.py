"""One mechanism for background jobs: claim, heartbeat, sweep, lost-task recovery.

A job is a row — a reply, an analysis batch, a document ingestion — whose status says who
works on it. A task claims it with a conditional UPDATE, one thread per process keeps the
heartbeat of every row it works on fresh (one UPDATE per kind), and the work finishes
with writes conditional on its attempt, so a cancel, a delete or a sweeper that gave the
attempt up stops it at its next write. The sweeper (`jobs_sweep`, run periodically by
every worker) hands rows whose heartbeat went stale (a killed worker) or whose queued task
vanished back to the queue, and fails them after their last attempt. Every change is a
conditional UPDATE, so sweepers in many workers race safely.

    class Ingestion(jobs.Job): ...
    jobs.register(Ingestion, task=ingest)            # in AppConfig.ready()
    jobs.enqueue(ingestion)                          # queued on commit, with its pk only
    @task()
    def ingest(ingestion_id): jobs.run(Ingestion, ingestion_id, work=ingestion_process)

Inside the work, `raise jobs.Failed(reason)` fails the row at once; `raise jobs.Retry(reason)`
tries again (a warning, no traceback) and fails with the reason after the last attempt;
any other exception is retried with its traceback logged.
"""

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import TaskResultStatus

from config.errors import UserFacingError
from ops.db import release_connection

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200
GENERIC_FAILURE = "Something went wrong while this was being processed. Please try again."
WORKER_LOST = "The worker processing this stopped before it finished, too many times."


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Job(models.Model):
    """A row a background task works on. Subclass it and `register` the subclass."""

    status = models.CharField(
        max_length=16, choices=JobStatus, default=JobStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # Why it failed, in words its owner can read.
    error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_running(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def is_finished(self) -> bool:
        return not self.is_running


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


# --- Kinds ----------------------------------------------------------------------------


@dataclass(eq=False)
class JobKind:
    """How the mechanism treats one model's rows. The defaults fit `Job` subclasses;
    a model with other status names (replies) subclasses this."""

    model: type[models.Model]
    task: Any
    on_change: Callable[[Any], None] | None = None
    attempts_allowed: int | None = None
    queued: str = JobStatus.QUEUED
    running: str = JobStatus.RUNNING
    done: str = JobStatus.DONE
    failed: str = JobStatus.FAILED
    finished_field: str = "finished_at"
    lost_reason: str = WORKER_LOST
    overdue_reason: str = "This took too long and was stopped. Please try again."

    @property
    def max_attempts(self) -> int:
        return self.attempts_allowed or settings.JOB_MAX_ATTEMPTS

    @property
    def heartbeat_seconds(self) -> float:
        return settings.JOB_HEARTBEAT_SECONDS

    @property
    def stale_seconds(self) -> float:
        return settings.JOB_STALE_SECONDS

    @property
    def queued_stale_seconds(self) -> float:
        return settings.JOB_QUEUED_STALE_SECONDS

    @property
    def max_seconds(self) -> float:
        return settings.JOB_MAX_SECONDS

    @property
    def objects(self) -> models.Manager:
        return self.model._default_manager

    def requeue_fields(self, row: Any, now: datetime) -> dict[str, Any]:
        return {
            "status": self.queued,
            "heartbeat_at": None,
            "queued_at": now,
            "task_id": "",
            # A job that never got to a worker uses up an attempt too, so a queue that
            # keeps losing it ends in a failure rather than a loop.
            "attempts": F("attempts") + (1 if row.status == self.queued else 0),
        }

    def fail_fields(self, reason: str, now: datetime) -> dict[str, Any]:
        return {
            "status": self.failed,
            "error": reason,
            self.finished_field: now,
            "heartbeat_at": None,
        }

    def changed(self, row: Any) -> None:
        if self.on_change is not None:
            try:
                self.on_change(row)
            except Exception:
                logger.exception("on_change of %s %s failed", self.model.__name__, row.pk)


_kinds: dict[type, JobKind] = {}


def register(
    model: type[models.Model],
    *,
    task: Any,
    on_change: Callable[[Any], None] | None = None,
    max_attempts: int | None = None,
) -> JobKind:
    """Put `model`'s rows under the mechanism; `task` takes a row's pk."""
    return register_kind(
        JobKind(model=model, task=task, on_change=on_change, attempts_allowed=max_attempts)
    )


def register_kind(kind: JobKind) -> JobKind:
    _kinds[kind.model] = kind
    return kind


def unregister(model: type[models.Model]) -> None:
    """Take `model` out of the mechanism (tests whose job table comes and goes)."""
    _kinds.pop(model, None)


def kind_of(model: type[models.Model]) -> JobKind:
    try:
        return _kinds[model]
    except KeyError:
        raise LookupError(f"{model.__name__} is not a registered job model") from None


# --- Queueing -------------------------------------------------------------------------


def enqueue(job: Job) -> None:
    """Mark `job` queued and queue its task once the row is committed. Queueing twice is
    harmless: only one claim of a row can succeed."""
    kind = kind_of(type(job))
    now = timezone.now()
    if kind.objects.filter(pk=job.pk, status=kind.queued).update(queued_at=now):
        job.queued_at = now
    queue_on_commit(kind, job.pk)


def queue_on_commit(kind: JobKind, pk: int, *, delay: float = 0.0) -> None:
    """Queue `kind.task(pk)` after commit. A queue that refuses is logged, not raised:
    the row is stored, and the sweeper queues it again once it has waited too long."""

    def queue_task() -> None:
        task = kind.task
        if delay > 0:
            task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
        try:
            task.enqueue(pk)
        except Exception:
            logger.error(
                "%s %s is stored but not queued; the sweeper will queue it", kind.model.__name__, pk
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


def retry(job: Job) -> bool:
    """Queue a failed or cancelled `job` again, with a fresh set of attempts."""
    kind = kind_of(type(job))
    now = timezone.now()
    with transaction.atomic():
        queued = kind.objects.filter(
            pk=job.pk, status__in=(kind.failed, JobStatus.CANCELLED)
        ).update(status=kind.queued, attempts=0, error="", queued_at=now, finished_at=None)
        if queued:
            queue_on_commit(kind, job.pk)
    if queued:
        job.refresh_from_db()
        kind.changed(job)
    return bool(queued)


# --- Running --------------------------------------------------------------------------


def run(
    model: type[models.Model], pk: int, *, work: Callable[[Any], None], task_id: str = ""
) -> None:
    """Claim row `pk` and run `work(row)` on it, keeping it alive; see the module doc."""
    kind = kind_of(model)
    job = claim(kind, pk, task_id=task_id)
    if job is None:
        return
    with beating(kind, job):
        try:
            work(job)
        except Failed as exc:
            finish(kind, job, status=kind.failed, error=exc.reason)
        except Retry as exc:
            logger.warning(
                "%s %s: %s (attempt %s of %s)",
                model.__name__,
                pk,
                exc.reason,
                job.attempts,
                kind.max_attempts,
            )
            _retry_or_fail(kind, job, exc)
        except Exception as exc:
            logger.exception("%s %s failed (attempt %s)", model.__name__, pk, job.attempts)
            _retry_or_fail(kind, job, exc)
        else:
            finish(kind, job, status=kind.done)
    job.refresh_from_db()
    kind.changed(job)


def claim(kind: JobKind, pk: int, *, task_id: str = "") -> Any | None:
    """Take row `pk` atomically; of two workers, exactly one gets it."""
    now = timezone.now()
    claimed = kind.objects.filter(pk=pk, status=kind.queued).update(
        status=kind.running,
        attempts=F("attempts") + 1,
        heartbeat_at=now,
        started_at=now,
        error="",
        task_id=task_id[:64],
    )
    return kind.objects.filter(pk=pk).first() if claimed else None


def finish(kind: JobKind, job: Any, *, status: str, error: str = "") -> bool:
    """End our attempt; False when the row stopped being ours in the meantime."""
    now = timezone.now()
    finished = kind.objects.filter(pk=job.pk, status=kind.running, attempts=job.attempts).update(
        status=status, error=error, heartbeat_at=None, **{kind.finished_field: now}
    )
    return bool(finished)


def _retry_or_fail(kind: JobKind, job: Any, exc: Exception) -> None:
    mine = Q(pk=job.pk, status=kind.running, attempts=job.attempts)
    if job.attempts >= kind.max_attempts:
        reason = _failure_reason(exc, job.attempts)
        kind.objects.filter(mine).update(**kind.fail_fields(reason, timezone.now()))
        return
    delay = settings.JOB_RETRY_BASE_SECONDS * 2 ** (job.attempts - 1)
    with transaction.atomic():
        if kind.objects.filter(mine).update(**kind.requeue_fields(job, timezone.now())):
            queue_on_commit(kind, job.pk, delay=delay)


def _failure_reason(exc: Exception, attempts: int) -> str:
    if isinstance(exc, Retry):
        return f"{exc.reason} (after {attempts} attempts)"
    return exc.user_message if isinstance(exc, UserFacingError) else GENERIC_FAILURE


def lost(job: Any) -> bool:
    """Inside a job's work: whether the row stopped being ours (cancelled, deleted, or
    given up by the sweeper). Known from the heartbeat, so it costs no query."""
    beat = _keeper.get(type(job), job.pk)
    if beat is None:
        kind = kind_of(type(job))
        return not kind.objects.filter(
            pk=job.pk, status=kind.running, attempts=job.attempts
        ).exists()
    return beat.lost.is_set()


# --- Heartbeat ------------------------------------------------------------------------


@dataclass(eq=False)
class Beat:
    kind: JobKind
    pk: int
    attempt: int
    started: float = field(default_factory=time.monotonic)
    lost: threading.Event = field(default_factory=threading.Event)
    # Called from the heartbeat thread when the row stops being ours.
    on_lost: Callable[[], None] | None = None


class _Keeper:
    """One thread per process that keeps every running row's heartbeat fresh."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._beats: dict[tuple[type, int], Beat] = {}
        self._thread: threading.Thread | None = None

    def add(self, beat: Beat) -> None:
        with self._lock:
            self._beats[(beat.kind.model, beat.pk)] = beat
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="job-heartbeat")
                self._thread.daemon = True
                self._thread.start()

    def remove(self, beat: Beat) -> None:
        with self._lock:
            if self._beats.get((beat.kind.model, beat.pk)) is beat:
                del self._beats[(beat.kind.model, beat.pk)]

    def get(self, model: type, pk: int) -> Beat | None:
        with self._lock:
            return self._beats.get((model, pk))

    def _interval(self) -> float:
        with self._lock:
            kinds = {beat.kind for beat in self._beats.values()}
        return min(
            (kind.heartbeat_seconds for kind in kinds), default=settings.JOB_HEARTBEAT_SECONDS
        )

    def _run(self) -> None:
        while True:
            time.sleep(self._interval())
            try:
                self.beat_all()
            except Exception:
                logger.exception("Job heartbeat failed; will try again")
            finally:
                release_connection()

    def beat_all(self) -> None:
        with self._lock:
            beats = list(self._beats.values())
        by_kind: dict[JobKind, list[Beat]] = defaultdict(list)
        for beat in beats:
            by_kind[beat.kind].append(beat)
        for kind, kind_beats in by_kind.items():
            _beat_kind(kind, kind_beats)


def _beat_kind(kind: JobKind, beats: list[Beat]) -> None:
    current = dict(
        kind.objects.filter(pk__in=[b.pk for b in beats], status=kind.running).values_list(
            "pk", "attempts"
        )
    )
    lost = [b for b in beats if current.get(b.pk) != b.attempt]
    overdue = [
        b for b in beats if b not in lost and time.monotonic() - b.started > kind.max_seconds
    ]
    alive = [b.pk for b in beats if b not in lost and b not in overdue]
    if alive:
        kind.objects.filter(pk__in=alive, status=kind.running).update(heartbeat_at=timezone.now())
    for beat in overdue:
        _fail(kind, beat.pk, Q(status=kind.running, attempts=beat.attempt), kind.overdue_reason)
    for beat in [*lost, *overdue]:
        beat.lost.set()
        if beat.on_lost is not None:
            beat.on_lost()


_keeper = _Keeper()


@contextmanager
def beating(kind: JobKind, row: Any) -> Iterator[Beat]:
    """Keep `row` marked alive while the block runs; set `on_lost` on the yielded beat
    to be called (from the heartbeat thread) when the row stops being ours."""
    beat = Beat(kind=kind, pk=row.pk, attempt=row.attempts)
    _keeper.add(beat)
    try:
        yield beat
    finally:
        _keeper.remove(beat)


# --- Sweeper --------------------------------------------------------------------------


def jobs_sweep(*, now: datetime | None = None) -> Counter:
    """Requeue or fail rows of every kind that no live worker is working on."""
    done: Counter = Counter()
    for kind in list(_kinds.values()):
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
    if done:
        logger.warning("%s sweep: %s", kind.model.__name__, dict(done))
    return done


def _rescue(kind: JobKind, row: Any, expected: Q, now: datetime) -> str:
    if row.attempts >= kind.max_attempts:
        return "failed" if _fail(kind, row.pk, expected, kind.lost_reason) else "raced"
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


def _fail(kind: JobKind, pk: int, expected: Q, reason: str) -> bool:
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
        exception_class_path="ops.jobs.WorkerLost",
        traceback="The worker stopped sending heartbeats while running this job.",
    )


def _db_tasks_of(kind: JobKind, pk: int):
    """The django-tasks-db rows that run row `pk`, or None with another backend."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(kind.task.get_backend(), DatabaseBackend):
        return None
    return DBTaskResult.objects.filter(task_path=kind.task.module_path, args_kwargs__args__0=pk)
