"""`manage.py db_worker`, django-tasks-db's worker, made to run many tasks at once.

The stock worker runs one task at a time and sleeps a second between polls. Replies
stream for many seconds each, so here one thread claims tasks (with the stock claiming
code and row locks, so several processes still share the queue safely) and hands each to a
pool of threads. It polls often but cheaply: a plain read first, the exclusive claim only
when something is ready. A side thread keeps a heartbeat row fresh and runs the periodic
jobs declared with `@jobs.periodic` (such as sweeping jobs whose worker died).
Models named in `settings.WORKER_WARMUPS` are loaded before the first claim.
"""

import logging
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.management.commands.db_worker import Command as StockCommand
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from core import jobs
from core.db import release_connection
from ops import wake
from ops.models import WorkerHeartbeat

logger = logging.getLogger("django_tasks_db")


CLAIM_BACKOFF_SECONDS = 2.0


class ConcurrentWorker(Worker):
    def __init__(self, *, threads: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.threads = threads
        self.slots = threading.BoundedSemaphore(threads)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="task")
        self.in_flight = 0
        self._lock = threading.Lock()
        self.wake = threading.Event()
        self.stopped = threading.Event()

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if not self.running:
            logger.warning("Second %s: stopping now.", signal.strsignal(signum))
            self.reset_signals()
            os._exit(1)
        logger.warning(
            "Received %s: finishing %d running task(s); press Ctrl+C again to stop now.",
            signal.strsignal(signum),
            self.in_flight,
        )
        self.running = False

    def ready_tasks(self):
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        return tasks

    def claim_next(self) -> DBTaskResult | None:
        tasks = self.ready_tasks()
        # A plain read costs nothing under WAL or MVCC; the exclusive claim below would
        # block writers on SQLite, so it is only taken when there is work.
        if not tasks.exists():
            return None
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return None
            raise

    @classmethod
    def for_all_queues(
        cls, *, threads: int, worker_id: str, interval: float | None = None, batch: bool = False
    ) -> "ConcurrentWorker":
        return cls(
            threads=threads,
            queue_names=["*"],
            interval=settings.WORKER_POLL_INTERVAL if interval is None else interval,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )

    def run(self) -> None:
        logger.info("Worker %s started with %d threads", self.worker_id, self.threads)
        heartbeat = threading.Thread(target=self.keep_alive, name="heartbeat", daemon=True)
        heartbeat.start()
        wake.subscribe(self.wake, lambda: self.running)
        try:
            self.warm_up()
            while self.running and self.dispatch_next():
                pass
        finally:
            # Also stops the heartbeat, so /health stops vouching for a dead claim loop.
            self.running = False
            self.stopped.set()
            self.pool.shutdown(wait=True)
            # A beat still under way would write the row back after it is deleted.
            heartbeat.join(timeout=settings.WORKER_HEARTBEAT_SECONDS)
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
            logger.info("Worker %s stopped", self.worker_id)

    def warm_up(self) -> None:
        """settings.WORKER_WARMUPS, before the first claim; one that fails is logged and
        left to load on first use."""
        for path in settings.WORKER_WARMUPS:
            started = time.monotonic()
            try:
                import_string(path)()
            except Exception:
                logger.exception("Warm-up %s failed; it loads on first use instead", path)
            else:
                logger.info("Warmed up %s in %.1f s", path, time.monotonic() - started)

    def dispatch_next(self) -> bool:
        """Claims one task into a free thread, or waits. False once a --batch drain is done."""
        if not self.slots.acquire(timeout=0.5):
            return True
        try:
            release_connection()
            # Cleared before looking, so a task queued from now on wakes the wait below.
            self.wake.clear()
            # Counted before looking: a task still running may queue a follow-up after the
            # look finds nothing, so a --batch drain ends only if none was running before.
            busy = self.in_flight
            task_result = self.claim_next()
        except Exception:
            # A database restart or a pool timeout must not end the worker: back off, retry.
            self.slots.release()
            logger.exception("Could not claim a task; retrying in %.0f s", CLAIM_BACKOFF_SECONDS)
            connection.close()
            time.sleep(CLAIM_BACKOFF_SECONDS)
            return True
        if task_result is None:
            self.slots.release()
            if self.batch and busy == 0:
                return False  # the queue is drained and nothing is running
            self.wake.wait(self.interval)
            return True
        with self._lock:
            self.in_flight += 1
        self.pool.submit(self.run_in_thread, task_result)
        return True

    def run_in_thread(self, task_result: DBTaskResult) -> None:
        try:
            self.run_task(task_result)
        except Exception:
            # run_task records task failures itself; this is a failure to record one.
            logger.exception("Task %s could not be run or recorded", task_result.id)
        finally:
            release_connection()
            with self._lock:
                self.in_flight -= 1
            self.slots.release()

    def keep_alive(self) -> None:
        periodic = jobs.periodic_jobs()
        last_run = dict.fromkeys((job.name for job in periodic), 0.0)
        while self.running:
            try:
                self.beat()
                for job in periodic:
                    if time.monotonic() - last_run[job.name] >= getattr(settings, job.every):
                        last_run[job.name] = time.monotonic()
                        job.func()
            except Exception:
                logger.exception("Worker heartbeat or periodic job failed; will try again")
            finally:
                release_connection()
            self.stopped.wait(settings.WORKER_HEARTBEAT_SECONDS)

    def beat(self) -> None:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "threads": self.threads,
                "running_tasks": self.in_flight,
                "last_seen": timezone.now(),
            },
        )


class Command(StockCommand):
    help = "Run the background worker: many tasks at once, with a heartbeat."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.WORKER_THREADS,
            help="Tasks run at once by this process (default: %(default)s)",
        )
        parser.set_defaults(interval=settings.WORKER_POLL_INTERVAL, reload=False)

    def handle(self, *, verbosity: int, threads: int, **options) -> None:
        self.configure_logging(verbosity)
        if "InMemory" in settings.CHANNEL_LAYERS["default"]["BACKEND"]:
            logger.warning(
                "The channel layer is in-memory: live replies from this separate worker reach "
                "no browser (they still appear on reload). Set REDIS_URL, or run "
                "`manage.py serve`, which runs the worker inside the web process."
            )
        if threads < 1:
            sys.exit("--threads must be at least 1")
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        worker = ConcurrentWorker(
            threads=threads,
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=None,
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()
