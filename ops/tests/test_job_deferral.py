"""Jobs that wait for something (a spent daily allowance) and failed jobs the sweeper
retries by itself, on the shared job mechanism with a real database queue."""

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import jobs
from ops.testing import drain_queue
from ops.tests import sample_jobs
from ops.tests.sample_jobs import CHANGES, SampleJob, queued

pytestmark = pytest.mark.django_db(transaction=True)

AUTO_RETRIES = 2


@pytest.fixture(autouse=True)
def sample_jobs_table(settings):
    settings.JOB_RETRY_BASE_SECONDS = 0
    settings.JOB_AUTO_RETRY_BASE_SECONDS = 60
    # The sample kind, with automatic retries of its failed rows.
    with sample_jobs.sample_jobs_table(
        dataclasses.replace(sample_jobs.KIND, auto_retries_allowed=AUTO_RETRIES)
    ):
        yield


def kind() -> jobs.JobKind:
    return jobs.kind_of(SampleJob)


def waiting_tasks(job: SampleJob):
    return DBTaskResult.objects.filter(args_kwargs__args=[job.pk], status="READY")


# -- deferral ----------------------------------------------------------------------------


def test_a_deferred_job_waits_queued_until_its_time_with_a_warning_and_no_traceback(caplog):
    until = timezone.now() + timedelta(hours=5)

    def spent(job):
        raise jobs.Defer("Today's allowance is used up.", until=until)

    sample_jobs.BEHAVIOUR["spent"] = spent
    job = queued("spent")

    with caplog.at_level("WARNING", logger="core.jobs"):
        drain_queue()  # runs what is due now: the deferred attempt is not

    job.refresh_from_db()
    assert (job.status, job.runs, job.error) == ("queued", 1, "Today's allowance is used up.")
    # A new round of attempts: the wait is nobody's fault, and the count never goes back.
    assert job.attempts == kind().attempt_stride
    assert kind().attempts_used(job.attempts) == 0
    (task,) = waiting_tasks(job)
    assert abs((task.run_after - until).total_seconds()) < 2
    records = [r for r in caplog.records if r.name == "core.jobs"]
    assert [r.levelname for r in records] == ["WARNING"]
    assert records[0].exc_info is None
    assert "deferred until" in records[0].getMessage()
    assert [(job.pk, "queued")] == CHANGES


def test_a_deferred_job_runs_when_its_time_comes_and_its_reason_goes():
    def spent_once(job):
        if job.runs == 0:  # the row as claimed, before this run was counted
            raise jobs.Defer("Waiting for the allowance.", until=timezone.now())

    sample_jobs.BEHAVIOUR["once"] = spent_once
    job = queued("once")

    drain_queue()

    job.refresh_from_db()
    assert (job.status, job.runs, job.error) == ("done", 2, "")
    assert kind().attempts_used(job.attempts) == 1


def test_the_sweeper_leaves_a_deferred_job_alone_while_its_task_waits(settings):
    until = timezone.now() + timedelta(hours=5)
    sample_jobs.BEHAVIOUR["spent"] = lambda job: (_ for _ in ()).throw(
        jobs.Defer("later", until=until)
    )
    job = queued("spent")
    drain_queue()

    later = timezone.now() + timedelta(seconds=settings.JOB_QUEUED_STALE_SECONDS + 60)
    assert jobs.jobs_sweep(now=later) == {}

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("queued", kind().attempt_stride)


# -- automatic retries ---------------------------------------------------------------------


def failed_job() -> SampleJob:
    sample_jobs.BEHAVIOUR["boom"] = lambda job: 1 / 0
    job = queued("boom")
    drain_queue()
    job.refresh_from_db()
    assert job.status == "failed"
    return job


def test_a_failed_job_is_retried_by_the_sweeper_later_and_later_then_left_failed(settings):
    job = failed_job()
    base = settings.JOB_AUTO_RETRY_BASE_SECONDS

    def sweep_after(seconds: float):
        job.refresh_from_db()
        return jobs.sweep_kind(kind(), now=job.finished_at + timedelta(seconds=seconds))

    assert sweep_after(base - 1) == {}  # not yet
    assert sweep_after(base + 1) == {"retried": 1}
    drain_queue()
    job.refresh_from_db()
    assert (job.status, job.runs) == ("failed", 4)  # a new round of 2 attempts, failed again

    assert sweep_after(2 * base - 1) == {}  # the second wait is twice as long
    assert sweep_after(2 * base + 1) == {"retried": 1}
    drain_queue()
    job.refresh_from_db()
    assert (job.status, job.runs) == ("failed", 6)

    assert sweep_after(100 * base) == {}  # its automatic rounds are spent
    job.refresh_from_db()
    assert job.status == "failed"
    assert jobs.retry(job)  # its owner can still retry it


def test_a_failed_job_that_recovers_on_its_automatic_retry_is_done(settings):
    job = failed_job()
    sample_jobs.BEHAVIOUR.clear()

    done = jobs.sweep_kind(
        kind(), now=job.finished_at + timedelta(seconds=settings.JOB_AUTO_RETRY_BASE_SECONDS)
    )
    drain_queue()

    assert done == {"retried": 1}
    job.refresh_from_db()
    assert (job.status, job.error) == ("done", "")


def test_a_kind_without_automatic_retries_stays_failed(settings):
    jobs.register(sample_jobs.KIND)
    job = failed_job()

    assert jobs.sweep_kind(kind(), now=job.finished_at + timedelta(days=30)) == {}
    job.refresh_from_db()
    assert job.status == "failed"
