"""The shared job mechanism: claim, retry, failure, cancel, heartbeat and the sweeper."""

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import jobs
from ops.testing import drain_queue, wait_for
from ops.tests import sample_jobs
from ops.tests.sample_jobs import CHANGES, SampleJob, queued

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def sample_jobs_table(settings):
    settings.JOB_RETRY_BASE_SECONDS = 0
    with sample_jobs.sample_jobs_table():
        yield


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def test_a_queued_job_runs_once_and_is_done():
    job = queued()
    assert job.queued_at is not None

    drain_queue()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.runs, job.error) == ("done", 1, 1, "")
    assert [(job.pk, "done")] == CHANGES


def test_queueing_twice_still_runs_it_once():
    job = queued()
    with transaction.atomic():
        jobs.enqueue(job)

    drain_queue()

    job.refresh_from_db()
    assert (job.status, job.runs) == ("done", 1)
    assert DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).count() == 2


def test_a_job_that_raises_is_retried_then_failed_with_a_readable_reason():
    sample_jobs.BEHAVIOUR["boom"] = lambda job: 1 / 0
    job = queued("boom")

    drain_queue()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.runs) == ("failed", 2, 2)
    assert job.error == jobs.GENERIC_FAILURE
    # One change per attempt; the first may already show the retry running.
    assert len(CHANGES) == 2 and CHANGES[-1] == (job.pk, "failed")


def test_an_expected_failure_is_retried_with_a_warning_then_failed_with_its_reason(caplog):
    def invalid(job):
        raise jobs.Retry("the output did not match its schema")

    sample_jobs.BEHAVIOUR["invalid"] = invalid
    job = queued("invalid")

    with caplog.at_level("WARNING", logger="core.jobs"):
        drain_queue()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.runs) == ("failed", 2, 2)
    assert job.error == "the output did not match its schema (after 2 attempts)"
    warnings = [r for r in caplog.records if r.name == "core.jobs"]
    assert [r.levelname for r in warnings] == ["WARNING", "WARNING"]
    assert all(r.exc_info is None for r in warnings)  # expected: no traceback
    assert "attempt 1 of 2" in warnings[0].getMessage()


def test_a_transient_failure_is_retried_into_success():
    def fail_first_time(job):
        if job.attempts == 1:
            raise ConnectionError("flaky")

    sample_jobs.BEHAVIOUR["flaky"] = fail_first_time
    job = queued("flaky")

    drain_queue()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.runs) == ("done", 2, 2)


def test_failed_is_final_at_once_with_its_reason():
    def refuse(job):
        raise jobs.Failed("The file is encrypted.")

    sample_jobs.BEHAVIOUR["refuse"] = refuse
    job = queued("refuse")

    drain_queue()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == ("failed", 1, "The file is encrypted.")


def test_a_failed_job_can_be_retried_with_fresh_attempts():
    sample_jobs.BEHAVIOUR["refuse"] = lambda job: (_ for _ in ()).throw(jobs.Failed("no"))
    job = queued("refuse")
    drain_queue()
    sample_jobs.BEHAVIOUR.clear()

    assert jobs.retry(job)
    drain_queue()

    job.refresh_from_db()
    # The count moves on (it fences each attempt's writes); this round used one attempt.
    assert (job.status, job.error) == ("done", "")
    assert job.attempts > 1 and jobs.kind_of(SampleJob).attempts_used(job.attempts) == 1
    assert not jobs.retry(job)  # a done job is not retried


def test_a_cancelled_queued_job_never_runs():
    job = queued()

    assert jobs.cancel(job)
    drain_queue()

    job.refresh_from_db()
    assert (job.status, job.runs) == ("cancelled", 0)
    assert not jobs.cancel(job)


def test_a_running_job_sees_its_cancel_through_the_heartbeat(settings, worker):
    settings.JOB_HEARTBEAT_SECONDS = 0.02
    seen = threading.Event()

    def work_until_lost(job):
        wait_for(lambda: jobs.lost(job), timeout=40, what="the cancel")
        seen.set()

    sample_jobs.BEHAVIOUR["long"] = work_until_lost
    job = queued("long")
    wait_for(lambda: SampleJob.objects.filter(pk=job.pk, status="running").exists())

    jobs.cancel(job)

    assert seen.wait(45)  # the next beat sees it; on a busy machine beats come late
    job.refresh_from_db()
    assert job.status == "cancelled"  # the finished work did not overwrite the cancel


def test_a_short_heartbeat_is_not_held_up_by_a_long_sleep_begun_before_it(settings, worker):
    settings.JOB_HEARTBEAT_SECONDS = 60
    first = queued()
    wait_for(lambda: SampleJob.objects.filter(pk=first.pk, status="done").exists())
    # The heartbeat thread now sleeps for a minute; a job that beats often joins.
    settings.JOB_HEARTBEAT_SECONDS = 0.02
    release = threading.Event()
    sample_jobs.BEHAVIOUR["slow"] = lambda job: release.wait(60)
    job = queued("slow")
    wait_for(lambda: SampleJob.objects.get(pk=job.pk).heartbeat_at is not None, what="a beat")
    beat = SampleJob.objects.get(pk=job.pk).heartbeat_at

    wait_for(lambda: SampleJob.objects.get(pk=job.pk).heartbeat_at > beat, 10, "the next beat")
    release.set()


def test_the_heartbeat_stays_fresh_while_a_job_runs(settings, worker):
    settings.JOB_HEARTBEAT_SECONDS = 0.02
    release = threading.Event()
    sample_jobs.BEHAVIOUR["slow"] = lambda job: release.wait(60)
    job = queued("slow")
    wait_for(lambda: SampleJob.objects.filter(pk=job.pk, status="running").exists())
    # On a busy machine the claim can be seen before the first beat is written.
    wait_for(lambda: SampleJob.objects.get(pk=job.pk).heartbeat_at is not None, what="a beat")
    first = SampleJob.objects.get(pk=job.pk).heartbeat_at

    wait_for(lambda: SampleJob.objects.get(pk=job.pk).heartbeat_at > first, what="a beat")
    release.set()
    wait_for(lambda: SampleJob.objects.filter(pk=job.pk, status="done").exists())


def left_by_a_killed_worker(job: SampleJob) -> None:
    task = DBTaskResult.objects.get(args_kwargs__args=[job.pk])
    DBTaskResult.objects.filter(pk=task.pk).update(status="RUNNING", worker_ids=["killed"])
    SampleJob.objects.filter(pk=job.pk).update(
        status="running", attempts=1, heartbeat_at=timezone.now(), task_id=str(task.pk)
    )


def test_the_sweeper_requeues_a_job_whose_worker_died_and_closes_its_task(settings):
    job = queued()
    left_by_a_killed_worker(job)
    lost_task = SampleJob.objects.get(pk=job.pk).task_id

    assert jobs.jobs_sweep() == {}
    done = jobs.jobs_sweep(now=later(settings.JOB_STALE_SECONDS + 1))
    drain_queue()

    assert done == {"requeued": 1}
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 2)
    assert DBTaskResult.objects.get(pk=lost_task).status == "FAILED"
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()


def test_the_sweeper_fails_a_job_after_its_last_attempt(settings):
    job = queued()
    left_by_a_killed_worker(job)
    SampleJob.objects.filter(pk=job.pk).update(attempts=2)

    done = jobs.jobs_sweep(now=later(settings.JOB_STALE_SECONDS + 1))

    assert done == {"failed": 1}
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", jobs.WORKER_LOST)
    assert CHANGES[-1] == (job.pk, "failed")


def test_a_queued_job_whose_task_vanished_is_queued_again(settings):
    job = queued()
    DBTaskResult.objects.all().delete()

    assert jobs.jobs_sweep() == {}  # waited too briefly to tell
    done = jobs.jobs_sweep(now=later(settings.JOB_QUEUED_STALE_SECONDS + 1))
    drain_queue()

    assert done == {"requeued": 1}
    job.refresh_from_db()
    assert job.status == "done"


def test_a_queued_job_still_in_the_queue_is_left_alone(settings):
    queued()

    assert jobs.jobs_sweep(now=later(settings.JOB_QUEUED_STALE_SECONDS + 1)) == {}


def test_two_sweepers_racing_requeue_once(settings):
    job = queued()
    left_by_a_killed_worker(job)
    when = later(settings.JOB_STALE_SECONDS + 1)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(jobs.jobs_sweep(now=when))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.get("requeued", 0) for r in results) == 1


def test_cancel_then_retry_leaves_the_superseded_attempt_nothing_to_write(worker, settings):
    """The race outside clients ran: cancel a running job and retry it at once. The
    first attempt is still working; the retry's attempt must be the only one whose
    writes land, and the first learns it is superseded at its next write."""
    settings.JOB_HEARTBEAT_SECONDS = 60  # no heartbeat tells the first attempt in time
    started, second_running, first_wrote = threading.Event(), threading.Event(), threading.Event()
    stale_writes = []

    def both_at_once(job):
        if job.runs == 0:  # as claimed, before this run counted itself
            started.set()
            second_running.wait(20)
            stale_writes.append(SampleJob.objects.filter(jobs.mine(job)).update(note="stale"))
            first_wrote.set()
        else:
            second_running.set()
            first_wrote.wait(20)

    sample_jobs.BEHAVIOUR["slow"] = both_at_once
    job = queued("slow")
    assert started.wait(60)  # the worker warms its models first
    first = SampleJob.objects.get(pk=job.pk)

    assert jobs.cancel(first)
    assert jobs.retry(first)
    wait_for(lambda: SampleJob.objects.get(pk=job.pk).status == "done", 30, what="the retry")

    job.refresh_from_db()
    assert stale_writes == [0]
    assert (job.status, job.note, job.runs) == ("done", "slow", 2)
    assert job.attempts > first.attempts
    kind = jobs.kind_of(SampleJob)
    assert kind.attempts_used(job.attempts) == 1
    # The first attempt's finish found the row no longer its own: one "done", no second.
    wait_for(lambda: (job.pk, "done") in CHANGES, what="the retry's change")
    assert CHANGES.count((job.pk, "done")) == 1
