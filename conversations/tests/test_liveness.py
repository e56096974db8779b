"""A reply never hangs: dead workers are detected, their replies requeued or failed."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conversations import services
from conversations.models import Message
from conversations.services import liveness
from conversations.tests.conftest import drain_queue, first_reply, wait_for
from ops.testing import worker_process

pytestmark = pytest.mark.django_db(transaction=True)


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def left_by_a_killed_worker(reply: Message, content: str = "Half a rep") -> None:
    """The state a killed worker process leaves: its task RUNNING, the reply streaming
    with some text and a heartbeat that is no longer refreshed."""
    task = DBTaskResult.objects.get(args_kwargs__args=[reply.pk])
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING", started_at=timezone.now(), worker_ids=["killed"]
    )
    Message.objects.filter(pk=reply.pk).update(
        status="streaming",
        attempts=1,
        content=content,
        heartbeat_at=timezone.now(),
        task_id=str(task.pk),
    )


def test_a_reply_whose_worker_died_is_requeued_and_finished(scripted_llm, alice):
    scripted_llm.queue("A complete answer.")
    conversation = services.conversation_create(owner=alice, text="Hello")
    reply = first_reply(conversation)
    left_by_a_killed_worker(reply)

    assert liveness.replies_sweep() == {}  # the heartbeat is still fresh
    done = liveness.replies_sweep(now=later(settings.REPLY_STALE_SECONDS + 1))
    drain_queue()

    assert done == {"requeued": 1}
    reply.refresh_from_db()
    assert reply.status == "complete"
    assert reply.content == "A complete answer."
    assert reply.attempts == 2
    dead_task = DBTaskResult.objects.get(worker_ids=["killed"])
    assert dead_task.status == "FAILED"  # no longer RUNNING forever


def test_after_the_last_attempt_the_reply_fails_with_a_reason(alice, settings):
    conversation = services.conversation_create(owner=alice, text="Hello")
    reply = first_reply(conversation)
    left_by_a_killed_worker(reply)
    Message.objects.filter(pk=reply.pk).update(attempts=settings.REPLY_MAX_ATTEMPTS)

    done = liveness.replies_sweep(now=later(settings.REPLY_STALE_SECONDS + 1))

    assert done == {"failed": 1}
    reply.refresh_from_db()
    assert reply.status == "failed"
    assert reply.error == liveness.WORKER_LOST
    assert reply.completed_at is not None


def test_sweepers_in_many_workers_at_once_requeue_a_reply_only_once(alice):
    conversation = services.conversation_create(owner=alice, text="Hello")
    reply = first_reply(conversation)
    left_by_a_killed_worker(reply)
    when = later(settings.REPLY_STALE_SECONDS + 1)
    results = []
    barrier = threading.Barrier(4)

    def sweep() -> None:
        barrier.wait()
        try:
            results.append(liveness.replies_sweep(now=when))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r["requeued"] for r in results) == 1
    generation_tasks = DBTaskResult.objects.filter(task_path__endswith="generate_reply")
    assert generation_tasks.filter(status="READY").count() == 1


def test_a_pending_reply_whose_task_was_lost_is_queued_again(scripted_llm, alice):
    conversation = services.conversation_create(owner=alice, text="Hello")
    reply = first_reply(conversation)
    DBTaskResult.objects.all().delete()  # the enqueue never happened (or was lost)

    assert liveness.replies_sweep() == {}
    done = liveness.replies_sweep(now=later(settings.REPLY_PENDING_STALE_SECONDS + 1))
    drain_queue()

    assert done == {"requeued": 1}
    reply.refresh_from_db()
    assert reply.status == "complete"


def test_a_pending_reply_still_waiting_in_the_queue_is_left_alone(alice):
    conversation = services.conversation_create(owner=alice, text="Hello")
    reply = first_reply(conversation)

    done = liveness.replies_sweep(now=later(settings.REPLY_PENDING_STALE_SECONDS + 1))

    assert done == {}
    reply.refresh_from_db()
    assert reply.status == "pending"


def test_a_live_worker_keeps_the_heartbeat_fresh_while_the_model_thinks(
    scripted_llm, alice, worker, settings
):
    settings.REPLY_HEARTBEAT_SECONDS = 0.05
    gate = scripted_llm.queue("Slow to start", hold_after_chars=0)
    conversation = services.conversation_create(owner=alice, text="Hello")
    reply = first_reply(conversation)
    wait_for(lambda: Message.objects.filter(pk=reply.pk, status="streaming").exists())
    first_beat = Message.objects.get(pk=reply.pk).heartbeat_at

    wait_for(lambda: Message.objects.get(pk=reply.pk).heartbeat_at > first_beat, what="a beat")
    gate.release()
    wait_for(lambda: Message.objects.filter(pk=reply.pk, status="complete").exists())


def test_a_reply_streaming_for_too_long_is_failed(scripted_llm, alice, worker, settings):
    settings.REPLY_HEARTBEAT_SECONDS = 0.05
    settings.REPLY_MAX_SECONDS = 0.3
    gate = scripted_llm.queue("Never ending", hold_after_chars=4)
    conversation = services.conversation_create(owner=alice, text="Hello")
    reply = first_reply(conversation)

    wait_for(lambda: Message.objects.filter(pk=reply.pk, status="failed").exists(), what="fail")
    gate.release()

    reply.refresh_from_db()
    assert reply.error == liveness.TOO_LONG
    assert reply.content == "Neve"


@pytest.mark.timeout(90)
def test_a_worker_process_killed_mid_reply_leads_to_a_finished_reply(scripted_llm, alice, tmp_path):
    """The real thing: a `db_worker` subprocess is killed with SIGKILL while it streams."""
    slow = {"text": "word " * 200, "chunk_size": 5, "delay": 0.05}
    with worker_process({"default": slow}, tmp_path, REPLY_FLUSH_SECONDS="0.01"):
        conversation = services.conversation_create(owner=alice, text="Tell me a long story")
        reply = first_reply(conversation)
        wait_for(
            lambda: len(Message.objects.get(pk=reply.pk).content) >= 20,
            timeout=60,
            what="the worker to stream",
        )

    reply.refresh_from_db()
    assert reply.status == "streaming"  # stuck, as a killed worker leaves it
    assert DBTaskResult.objects.get(id=reply.task_id).status == "RUNNING"

    scripted_llm.queue("The story, told in full.")
    done = liveness.replies_sweep(now=later(settings.REPLY_STALE_SECONDS + 1))
    drain_queue()

    assert done == {"requeued": 1}
    reply.refresh_from_db()
    assert reply.status == "complete"
    assert reply.content == "The story, told in full."
    assert reply.attempts == 2
