"""A pool of threads that never makes a job wait for a free thread."""

import itertools
import logging
import queue
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class StreamThreads:
    """Runs each job at once, on an idle thread of an earlier job or on a new one.

    A model stream's pump must never wait behind another reply's pump: its worker thread
    is blocked on the deltas it would produce. A bounded pool cannot promise that, as the
    number of replies a process writes at once is `db_worker --threads`, not a setting.
    Threads live on once started, so they keep their SQLite connection between jobs;
    there are about as many as the most jobs the process has run at once.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._idle: queue.SimpleQueue[queue.SimpleQueue] = queue.SimpleQueue()
        self._started = itertools.count(1)

    def submit(self, job: Callable[[], None]) -> None:
        try:
            inbox = self._idle.get_nowait()
        except queue.Empty:
            inbox = self._start()
        inbox.put(job)

    def _start(self) -> queue.SimpleQueue:
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        name = f"{self.name}-{next(self._started)}"
        threading.Thread(target=self._serve, args=(inbox,), name=name, daemon=True).start()
        return inbox

    def _serve(self, inbox: queue.SimpleQueue) -> None:
        while True:
            job = inbox.get()
            try:
                job()
            except Exception:
                logger.exception("A job of thread pool %s failed", self.name)
            # Not kept until the next job: what it holds (a model stream, say) is freed now.
            job = None
            self._idle.put(inbox)
