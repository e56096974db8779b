import time

import pytest
from django.db.utils import OperationalError
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from ops.management.commands.db_worker import ConcurrentWorker
from ops.models import WorkerHeartbeat
from ops.tests import sample_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def batch_worker(threads: int, worker_id: str = "test-worker") -> ConcurrentWorker:
    return ConcurrentWorker.for_all_queues(
        threads=threads, worker_id=worker_id, interval=0.01, batch=True
    )


def test_one_worker_process_runs_tasks_concurrently():
    sample_tasks.rendezvous.reset()
    results = [sample_tasks.meet_two_others.enqueue() for _ in range(3)]

    batch_worker(threads=3).run()

    rows = DBTaskResult.objects.filter(id__in=[r.id for r in results])
    assert sorted(rows.values_list("status", flat=True)) == ["SUCCESSFUL"] * 3
    thread_names = {row.return_value for row in rows}
    assert len(thread_names) == 3


def test_a_failing_task_is_recorded_and_the_worker_goes_on():
    failing = sample_tasks.explode.enqueue()

    batch_worker(threads=2).run()

    failing.refresh()
    assert failing.status == "FAILED"
    assert "boom" in failing.errors[0].traceback


def test_worker_reports_a_heartbeat_and_removes_it_on_exit():
    worker = batch_worker(threads=1, worker_id="beating")
    worker.beat()
    assert WorkerHeartbeat.objects.get(worker_id="beating").threads == 1

    worker.run()

    assert not WorkerHeartbeat.objects.filter(worker_id="beating").exists()


def test_a_database_failure_while_claiming_does_not_end_the_worker(monkeypatch):
    worker = batch_worker(threads=1, worker_id="resilient")
    failures = iter([OperationalError("server closed the connection unexpectedly")])
    real_claim = worker.claim_next

    def claim_failing_once():
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_claim()

    monkeypatch.setattr(worker, "claim_next", claim_failing_once)
    monkeypatch.setattr("ops.management.commands.db_worker.CLAIM_BACKOFF_SECONDS", 0.01)
    queued = sample_tasks.note_time.enqueue()

    worker.run()

    queued.refresh()
    assert queued.status == "SUCCESSFUL"


def test_a_batch_drain_runs_the_follow_up_a_task_queues_while_the_queue_looks_empty(
    monkeypatch,
):
    worker = batch_worker(threads=2, worker_id="draining")
    real_claim = worker.claim_next

    def claim_then_let_running_tasks_finish():
        # The interleaving that lost follow-ups: the look finds nothing, then the running
        # task queues its follow-up and ends before the drain decides it is done.
        claimed = real_claim()
        if claimed is None:
            while worker.in_flight:
                time.sleep(0.001)
        return claimed

    monkeypatch.setattr(worker, "claim_next", claim_then_let_running_tasks_finish)
    sample_tasks.queue_a_follow_up.enqueue()

    worker.run()

    runs = DBTaskResult.objects.order_by("enqueued_at").values_list("task_path", "status")
    assert list(runs) == [
        ("ops.tests.sample_tasks.queue_a_follow_up", "SUCCESSFUL"),
        ("ops.tests.sample_tasks.note_time", "SUCCESSFUL"),
    ]


def test_warm_ups_run_before_the_first_task_and_one_that_fails_does_not_stop_the_worker(
    settings, caplog
):
    settings.WORKER_WARMUPS = [
        "ops.tests.sample_tasks.fail_to_warm_up",
        "ops.tests.sample_tasks.warm_up",
    ]
    sample_tasks.WARMED_UP_AT.clear()
    queued = sample_tasks.note_time.enqueue()

    batch_worker(threads=2, worker_id="warming").run()

    queued.refresh()
    assert queued.status == "SUCCESSFUL"
    assert len(sample_tasks.WARMED_UP_AT) == 1
    assert sample_tasks.WARMED_UP_AT[0] < queued.return_value
    assert "fail_to_warm_up failed" in caplog.text


def test_the_configured_warm_ups_load_without_error(settings):
    # A worker only logs a failing warm-up, so a broken one would go unnoticed there.
    assert "analysis.core.annotate.warm" in settings.WORKER_WARMUPS
    for path in settings.WORKER_WARMUPS:
        import_string(path)()
