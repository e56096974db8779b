"""The columns every job row has. A job is a row whose status says who works on it."""

from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Job(models.Model):
    """A row a background task works on. Subclass it and declare its task with
    `@jobs.task(TheModel)` in the app's tasks.py."""

    status = models.CharField(
        max_length=16, choices=JobStatus, default=JobStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # Why it failed, in words its owner can read.
    error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_running(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def is_finished(self) -> bool:
        return not self.is_running
