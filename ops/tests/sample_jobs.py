"""A job model and its task for the job mechanism's tests. The table is made by the
`sample_jobs` fixture: the model belongs to no migration."""

from django.db import models
from django_tasks import TaskContext, task

from ops import jobs

# What each run of the sample job does, by the job's note: the tests set it.
BEHAVIOUR: dict[str, object] = {}


class SampleJob(jobs.Job):
    note = models.CharField(max_length=40)
    runs = models.PositiveSmallIntegerField(default=0)

    class Meta:
        app_label = "ops"


def sample_work(job: SampleJob) -> None:
    SampleJob.objects.filter(pk=job.pk).update(runs=models.F("runs") + 1)
    behaviour = BEHAVIOUR.get(job.note)
    if callable(behaviour):
        behaviour(job)


@task(takes_context=True)
def run_sample_job(context: TaskContext, job_id: int) -> None:
    jobs.run(SampleJob, job_id, work=sample_work, task_id=str(context.task_result.id))


CHANGES: list[tuple[int, str]] = []


def register() -> None:
    jobs.register(
        SampleJob,
        task=run_sample_job,
        on_change=lambda job: CHANGES.append((job.pk, job.status)),
        max_attempts=2,
    )
