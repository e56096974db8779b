import threading
import time

import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult

from ops import wake
from ops.management.commands.db_worker import ConcurrentWorker
from ops.tests import sample_tasks

LONG_POLL = 30.0


@pytest.mark.django_db(transaction=True)
def test_a_queued_task_wakes_an_idle_worker_long_before_its_next_poll():
    worker = ConcurrentWorker.for_all_queues(threads=1, worker_id="sleepy", interval=LONG_POLL)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    time.sleep(0.3)  # let it find the queue empty and start waiting

    queued = sample_tasks.note_time.enqueue()
    deadline = time.monotonic() + LONG_POLL / 3
    while time.monotonic() < deadline:
        if DBTaskResult.objects.filter(id=queued.id, status="SUCCESSFUL").exists():
            break
        time.sleep(0.05)
    worker.running = False
    worker.wake.set()
    thread.join(timeout=10)

    assert DBTaskResult.objects.get(id=queued.id).status == "SUCCESSFUL"


@pytest.mark.skipif(not settings.REDIS_URL, reason="cross-process wake-up needs REDIS_URL")
def test_a_worker_in_another_process_hears_the_wake_up_through_redis():
    heard = threading.Event()
    listening = True
    listener = threading.Thread(target=wake._listen, args=(heard, lambda: listening), daemon=True)
    listener.start()
    time.sleep(0.3)  # subscribed

    wake.notify()

    assert heard.wait(timeout=5)
    listening = False
    listener.join(timeout=5)
