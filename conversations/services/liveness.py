"""Replies never hang: a heartbeat while a worker writes one, and a sweeper for the rest.

Each worker process keeps one small thread that refreshes `heartbeat_at` of every reply
it is writing (one UPDATE for all of them, also while the model is still thinking about
its first token) and stops the model for replies that were cancelled or deleted in the
meantime. `replies_sweep` runs in every worker (settings.WORKER_PERIODIC_JOBS): a reply
whose heartbeat went stale, or that waited too long with no task left to run it, is
queued again or, after REPLY_MAX_ATTEMPTS, failed with a reason the learner can read.
Every change is a conditional UPDATE, so sweepers in many workers can race safely.
"""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import TaskResultStatus

from conversations import events
from conversations.models import Message, Status
from ops.db import release_connection

logger = logging.getLogger(__name__)

WORKER_LOST = "The tutor was interrupted and could not finish this reply. Please try again."
TOO_LONG = "The tutor took too long to answer. Please try again."
SWEEP_BATCH = 200


# --- Heartbeat ------------------------------------------------------------------------


@dataclass(eq=False)
class Beat:
    reply_id: int
    attempt: int
    started: float = field(default_factory=time.monotonic)
    on_lost: Callable[[], None] | None = None


class _Keeper:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._beats: dict[int, Beat] = {}
        self._thread: threading.Thread | None = None

    def add(self, beat: Beat) -> None:
        with self._lock:
            self._beats[beat.reply_id] = beat
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="reply-heartbeat")
                self._thread.daemon = True
                self._thread.start()

    def remove(self, beat: Beat) -> None:
        with self._lock:
            if self._beats.get(beat.reply_id) is beat:
                del self._beats[beat.reply_id]

    def _run(self) -> None:
        while True:
            time.sleep(settings.REPLY_HEARTBEAT_SECONDS)
            try:
                self.beat_all()
            except Exception:
                logger.exception("Reply heartbeat failed; will try again")
            finally:
                release_connection()

    def beat_all(self) -> None:
        with self._lock:
            beats = list(self._beats.values())
        if not beats:
            return
        current = dict(
            Message.objects.filter(
                pk__in=[b.reply_id for b in beats], status=Status.STREAMING
            ).values_list("pk", "attempts")
        )
        lost = [b for b in beats if current.get(b.reply_id) != b.attempt]
        overdue = [
            b
            for b in beats
            if b not in lost and time.monotonic() - b.started > settings.REPLY_MAX_SECONDS
        ]
        alive = [b.reply_id for b in beats if b not in lost and b not in overdue]
        if alive:
            Message.objects.filter(pk__in=alive, status=Status.STREAMING).update(
                heartbeat_at=timezone.now()
            )
        for beat in overdue:
            _fail(beat.reply_id, Q(status=Status.STREAMING, attempts=beat.attempt), TOO_LONG)
        for beat in [*lost, *overdue]:
            if beat.on_lost is not None:
                beat.on_lost()


_keeper = _Keeper()


@contextmanager
def beating(reply: Message) -> Iterator[Beat]:
    """Keep `reply` marked alive while the block runs; set `on_lost` on the yielded beat
    to be called (from the heartbeat thread) when the reply stops being ours."""
    beat = Beat(reply_id=reply.pk, attempt=reply.attempts)
    _keeper.add(beat)
    try:
        yield beat
    finally:
        _keeper.remove(beat)


# --- Sweeper --------------------------------------------------------------------------


def replies_sweep(*, now: datetime | None = None) -> Counter:
    """Requeue or fail replies no live worker is writing. Returns what it did."""
    now = now or timezone.now()
    done: Counter = Counter()
    stale = now - timedelta(seconds=settings.REPLY_STALE_SECONDS)
    for reply in Message.objects.filter(status=Status.STREAMING, heartbeat_at__lt=stale)[
        :SWEEP_BATCH
    ]:
        expected = Q(
            status=Status.STREAMING, attempts=reply.attempts, heartbeat_at=reply.heartbeat_at
        )
        done[_rescue(reply, expected, now)] += 1
    waited = now - timedelta(seconds=settings.REPLY_PENDING_STALE_SECONDS)
    for reply in Message.objects.filter(status=Status.PENDING, queued_at__lt=waited)[:SWEEP_BATCH]:
        if _task_waiting(reply):
            continue  # still in the queue: the workers are busy, not gone
        done[_rescue(reply, Q(status=Status.PENDING, queued_at=reply.queued_at), now)] += 1
    if done:
        logger.warning("Reply sweep: %s", dict(done))
    return done


def _rescue(reply: Message, expected: Q, now: datetime) -> str:
    if reply.attempts >= settings.REPLY_MAX_ATTEMPTS:
        return "failed" if _fail(reply.pk, expected, WORKER_LOST) else "raced"
    from conversations.services.messages import enqueue_on_commit

    with transaction.atomic():
        requeued = Message.objects.filter(expected, pk=reply.pk).update(
            status=Status.PENDING,
            content="",
            heartbeat_at=None,
            queued_at=now,
            task_id="",
            # A reply that never got to a worker uses up an attempt too, so a queue that
            # keeps losing it ends in a failure rather than a loop.
            attempts=F("attempts") + (1 if reply.status == Status.PENDING else 0),
        )
        if requeued:
            _close_lost_task(reply)  # before the new task exists, so only the old one
            enqueue_on_commit(reply)
    if not requeued:
        return "raced"
    reply.refresh_from_db()
    events.send(reply.conversation_id, events.message_created(reply))
    return "requeued"


def _fail(reply_id: int, expected: Q, reason: str) -> bool:
    failed = Message.objects.filter(expected, pk=reply_id).update(
        status=Status.FAILED, error=reason, completed_at=timezone.now(), heartbeat_at=None
    )
    reply = Message.objects.filter(pk=reply_id).first() if failed else None
    if reply is None:
        return False
    _close_lost_task(reply)
    events.send(reply.conversation_id, events.reply_finished(reply))
    return True


def _task_waiting(reply: Message) -> bool:
    """Whether a generation task for `reply` is still queued. Where the backend cannot
    tell, assume it was lost: queueing a reply twice is harmless, as only one claim of it
    can succeed."""
    tasks = _db_tasks_of(reply)
    return tasks is not None and tasks.filter(status=TaskResultStatus.READY).exists()


def _close_lost_task(reply: Message) -> None:
    """The database backend leaves a dead worker's task RUNNING forever; close it so the
    queue tells the truth (the reply row already does)."""
    tasks = _db_tasks_of(reply)
    if tasks is None:
        return
    tasks.filter(status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="conversations.services.liveness.WorkerLost",
        traceback="The worker stopped sending heartbeats while writing this reply.",
    )


def _db_tasks_of(reply: Message):
    """The django-tasks-db rows that generate `reply`, or None with another backend."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from conversations.tasks import generate_reply

    if not isinstance(generate_reply.get_backend(), DatabaseBackend):
        return None
    return DBTaskResult.objects.filter(
        task_path=generate_reply.module_path, args_kwargs__args__0=reply.pk
    )
