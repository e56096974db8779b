"""A job model and its task for the job mechanism's tests. The table is made by the
`sample_jobs` fixture: the model belongs to no migration."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, models, transaction

from core import jobs

# What each run of the sample job does, by the job's note: the tests set it.
BEHAVIOUR: dict[str, object] = {}


class SampleJob(jobs.Job):
    note = models.CharField(max_length=40)
    runs = models.PositiveSmallIntegerField(default=0)

    class Meta:
        app_label = "ops"


CHANGES: list[tuple[int, str]] = []


@jobs.task(SampleJob, on_change=lambda job: CHANGES.append((job.pk, job.status)), max_attempts=2)
def run_sample_job(job: SampleJob) -> None:
    SampleJob.objects.filter(pk=job.pk).update(runs=models.F("runs") + 1)
    behaviour = BEHAVIOUR.get(job.note)
    if callable(behaviour):
        behaviour(job)


KIND = jobs.kind_of(SampleJob)
# The table comes and goes with the tests: the kind is put back for each.
jobs.unregister(SampleJob)


@contextmanager
def sample_jobs_table(kind: jobs.JobKind = KIND) -> Iterator[None]:
    """The sample jobs' table made for a test and `kind` registered, then both removed."""
    with connection.schema_editor() as editor:
        editor.create_model(SampleJob)
    jobs.register(kind)
    BEHAVIOUR.clear()
    CHANGES.clear()
    try:
        yield
    finally:
        jobs.unregister(SampleJob)
        with connection.schema_editor() as editor:
            editor.delete_model(SampleJob)


def queued(note: str = "ok") -> SampleJob:
    with transaction.atomic():
        job = SampleJob.objects.create(note=note)
        jobs.enqueue(job)
    return job
