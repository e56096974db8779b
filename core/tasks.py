"""The job mechanism's own periodic work."""

from core import jobs


@jobs.periodic(every="JOBS_SWEEP_SECONDS")
def sweep_jobs() -> None:
    jobs.jobs_sweep()
