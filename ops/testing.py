"""pytest fixtures and helpers for anything that runs background jobs, registered for the
whole suite by the root conftest.

Jobs run on the real queue: django-tasks-db rows claimed by the product's concurrent
worker, in threads of the test process (`worker` for a live one, `drain_queue()` to run
everything queued to its end).
"""

import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, connections

from llm.models import TaskProfile
from ops.management.commands.db_worker import ConcurrentWorker


@pytest.fixture(autouse=True, scope="session")
def _close_connection_pools(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Worker threads leave PostgreSQL connections behind (in the pool, or with threads that
    ended); close them before the test database is dropped."""
    yield
    with django_db_blocker.unblock():
        gc.collect()  # connections of finished threads close when collected
        for alias in connections:
            close_pool = getattr(connections[alias], "close_pool", None)
            if close_pool is not None:
                close_pool()


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    # The shared cast signs up with real passwords; a fast hasher keeps setup quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def task_profiles(request) -> None:
    """The task profiles the gateway reads, as the llm migration seeds them (a
    transactional test that ran before this one flushed them)."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames
    )
    if not uses_db:
        return
    request.getfixturevalue("db")
    if not TaskProfile.objects.exists():
        import_module("llm.migrations.0002_seed_task_profiles").seed(apps, None)


def make_worker(*, batch: bool, threads: int = 8, worker_id: str = "test") -> ConcurrentWorker:
    return ConcurrentWorker.for_all_queues(
        threads=threads, worker_id=worker_id, interval=0.005, batch=batch
    )


def drain_queue(threads: int = 8) -> None:
    """Run every queued task to its end with a batch worker, then return."""
    batch = make_worker(batch=True, threads=threads, worker_id="batch")
    batch.run()
    batch.running = False  # also ends its heartbeat thread


@pytest.fixture
def worker(transactional_db) -> Iterator[ConcurrentWorker]:
    """A live worker in a thread for the whole test, as `db_worker` runs in production."""
    live = make_worker(batch=False, worker_id="live")
    thread = threading.Thread(target=live.run, name="test-worker", daemon=True)
    thread.start()
    yield live
    live.running = False
    thread.join(timeout=20)


# A wait ends as soon as what it waits for happens: the bound only matters when it never
# does, and a loaded 2-core machine (a CI run beside other work) is slow, not broken.
def wait_for(
    predicate: Callable[[], object], timeout: float = 30.0, what: str = "it", every: float = 0.01
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"Timed out waiting for {what}")


ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The test database, as DATABASE_URL for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def worker_process(script: dict, tmp_path: Path, **env: str) -> Iterator[subprocess.Popen]:
    """A real `manage.py db_worker` process on the test database, its model scripted by
    `script` (llm.providers.scripted's file format); killed with SIGKILL when the block
    ends, as a crashed or OOM-killed worker dies: no cleanup, its claims left behind."""
    path = tmp_path / "worker-script.json"
    path.write_text(json.dumps(script))
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--threads", "2", "-v", "0"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "LLM_PROVIDER": "scripted",
            "LLM_SCRIPT_FILE": str(path),
            **env,
        },
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
