"""Who uses the in-process model next: a learner waiting for a reply before any
background work.

The embedded model generates one call at a time. A plain lock hands it out in no
particular order, so a chat reply could sit behind a whole analysis batch and a lesson
run (measured: 32-59 s to the first token). The gate below hands it to the waiting call
with the best priority (then the longest waiting), and lets a background call see that a
reply is waiting so that it can step aside (see LocalProvider).
"""

import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

INTERACTIVE = 0
ANALYSIS = 1
LESSONS = 2

# Background tasks by profile name; every other profile is someone waiting for a reply
# (chat, doubt_solver, test_generation, and any profile staff add for a conversation).
BACKGROUND_PRIORITY: dict[str, int] = {
    "analysis": ANALYSIS,
    "summary": ANALYSIS,
    "focus_selection": LESSONS,
    "module_generation": LESSONS,
    "module_validation": LESSONS,
    "tutor_judge": LESSONS,  # the tutor evaluation: staff waiting on a batch, not a learner
}


def priority_for(task: str) -> int:
    return BACKGROUND_PRIORITY.get(task, INTERACTIVE)


class GateTimeout(Exception):
    """The queue wait ran past its bound."""


class PriorityGate:
    """A lock whose waiters are served by (priority, arrival): lower first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._waiting: list[tuple[int, int]] = []
        self._arrivals = itertools.count()

    def acquire(self, priority: int, timeout: float) -> bool:
        """Wait for this call's turn, at most `timeout` seconds; False when it did not
        come (the call has then left the queue)."""
        ticket = (priority, next(self._arrivals))
        deadline = time.monotonic() + timeout
        with self._cond:
            heapq.heappush(self._waiting, ticket)
            try:
                while self._busy or self._waiting[0] != ticket:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._leave(ticket)
                        return False
                    self._cond.wait(remaining)
            except BaseException:
                self._leave(ticket)
                raise
            heapq.heappop(self._waiting)
            self._busy = True
        return True

    def release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    @contextmanager
    def hold(self, priority: int, timeout: float) -> Iterator[None]:
        if not self.acquire(priority, timeout):
            raise GateTimeout
        try:
            yield
        finally:
            self.release()

    def interactive_waiting(self) -> bool:
        """Whether a reply is queued (a background holder should step aside)."""
        with self._cond:
            return bool(self._waiting) and self._waiting[0][0] == INTERACTIVE

    def waiting(self) -> list[int]:
        """The queued priorities, next first (for tests and diagnostics)."""
        with self._cond:
            return [priority for priority, _ in sorted(self._waiting)]

    def _leave(self, ticket: tuple[int, int]) -> None:
        self._waiting.remove(ticket)
        heapq.heapify(self._waiting)
        self._cond.notify_all()  # whoever is next in line may go now
