"""The SQLite backend queues one process's writers on a lock (ops/sqlite/base.py)."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ops.models import WorkerHeartbeat

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="the SQLite backend's own: runs in the SQLite pass"
    ),
]


def write_row(worker_id: str) -> None:
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, hostname="test", pid=1, threads=1, last_seen=timezone.now()
    )


def in_thread(job) -> threading.Thread:
    def run() -> None:
        try:
            job()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_transaction_holds_the_process_write_lock_until_it_ends():
    connection.ensure_connection()
    lock = connection.connection.write_lock

    with transaction.atomic():
        write_row("inside")
        assert lock.locked()
    assert not lock.locked()

    with pytest.raises(RuntimeError), transaction.atomic():
        write_row("rolled back")
        raise RuntimeError("undo")
    assert not lock.locked()
    assert not WorkerHeartbeat.objects.filter(worker_id="rolled back").exists()


def test_a_writer_waits_for_the_lock_and_goes_the_moment_it_is_free():
    holding, finished = threading.Event(), {}

    def long_transaction() -> None:
        with transaction.atomic():
            write_row("first")
            holding.set()
            time.sleep(0.3)
            finished["first"] = time.monotonic()

    def second_writer() -> None:
        write_row("second")
        finished["second"] = time.monotonic()

    first = in_thread(long_transaction)
    holding.wait(5)
    second = in_thread(second_writer)
    # Readers are not queued: WAL serves them while the transaction is open.
    assert WorkerHeartbeat.objects.filter(worker_id="first").count() == 0
    first.join(5)
    second.join(5)

    assert WorkerHeartbeat.objects.filter(worker_id__in=["first", "second"]).count() == 2
    assert finished["second"] >= finished["first"]
    # SQLite's busy handler would retry 1 to 100 ms later; the lock hands over at once.
    assert finished["second"] - finished["first"] < 0.05


def test_a_lock_held_too_long_is_waited_for_no_longer_than_the_busy_timeout():
    connection.ensure_connection()
    sqlite = connection.connection
    busy_timeout, sqlite.lock_timeout = sqlite.lock_timeout, 0.2
    sqlite.write_lock.acquire()  # as if a writer of this process hung
    try:
        started = time.monotonic()
        write_row("after the timeout")  # SQLite itself is free, so the write goes through
        waited = time.monotonic() - started
    finally:
        sqlite.write_lock.release()
        sqlite.lock_timeout = busy_timeout

    assert 0.2 <= waited < 2
    assert WorkerHeartbeat.objects.filter(worker_id="after the timeout").exists()


def test_a_sqlite_database_url_gets_the_same_turn_taking_as_the_default(tmp_path):
    """A worker given DATABASE_URL=sqlite:///… (as ops.testing.worker_process does) writes
    to the file beside the web process: without WAL, IMMEDIATE transactions and the busy
    timeout its writes failed at once with "database is locked"."""
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings; "
            "db = settings.DATABASES['default']; "
            "print(json.dumps([db['ENGINE'], db['OPTIONS']['transaction_mode'], str(db['NAME'])]))",
        ],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path}/other.sqlite3",
        },
        capture_output=True,
        text=True,
        check=True,
    )

    engine, mode, name = json.loads(shown.stdout.strip().splitlines()[-1])
    assert (engine, mode, name) == ("ops.sqlite", "IMMEDIATE", f"{tmp_path}/other.sqlite3")
