"""Periodic housekeeping every worker runs."""

from core import jobs
from ops.maintenance import prune_finished_tasks


@jobs.periodic(every="TASK_PRUNE_SECONDS")
def prune_task_rows() -> None:
    prune_finished_tasks()
