"""One thread per process keeps the heartbeat of every row it works on fresh (one UPDATE
per kind), and tells the work when its row stopped being its own."""

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.db import release_connection
from core.jobs.kinds import JobKind, kind_of
from core.jobs.sweep import fail_row

logger = logging.getLogger("core.jobs")


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
        # Set when a row joins: its kind may beat more often than the thread now sleeps.
        self._joined = threading.Event()

    def add(self, beat: Beat) -> None:
        with self._lock:
            self._beats[(beat.kind.model, beat.pk)] = beat
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="job-heartbeat")
                self._thread.daemon = True
                self._thread.start()
        self._joined.set()

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
        last = time.monotonic()
        while True:
            # The interval is read again when a row joins, so a kind with a short one is
            # not left waiting out a long sleep begun for another.
            self._joined.wait(max(0.0, last + self._interval() - time.monotonic()))
            self._joined.clear()
            if time.monotonic() < last + self._interval():
                continue
            last = time.monotonic()
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
        expected = Q(status=kind.running, attempts=beat.attempt)
        fail_row(kind, beat.pk, expected, kind.overdue_reason)
    for beat in [*lost, *overdue]:
        beat.lost.set()
        if beat.on_lost is not None:
            beat.on_lost()


keeper = _Keeper()


@contextmanager
def beating(kind: JobKind, row: Any) -> Iterator[Beat]:
    """Keep `row` marked alive while the block runs; set `on_lost` on the yielded beat
    to be called (from the heartbeat thread) when the row stops being ours."""
    beat = Beat(kind=kind, pk=row.pk, attempt=row.attempts)
    keeper.add(beat)
    try:
        yield beat
    finally:
        keeper.remove(beat)


def lost(job: Any) -> bool:
    """Inside a job's work: whether the row stopped being ours (cancelled, deleted, or
    given up by the sweeper). Known from the heartbeat, so it costs no query."""
    beat = keeper.get(type(job), job.pk)
    if beat is None:
        kind = kind_of(type(job))
        return not kind.objects.filter(kind.mine(job)).exists()
    return beat.lost.is_set()
