"""Background work: the task backend, the workers and the job mechanism (core.jobs)."""

from config.settings.base import env

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Queued tasks wake idle workers at once (ops.wake); polling is only the fallback.
WORKER_POLL_INTERVAL = env.float("WORKER_POLL_INTERVAL", default=0.1)
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=5.0)
# /health calls the worker down when its last heartbeat is older than this.
WORKER_STALE_SECONDS = env.float("WORKER_STALE_SECONDS", default=30.0)
# Seconds between runs of the periodic jobs every worker runs (declared with
# @jobs.periodic in the apps' tasks.py): deleting old task rows, and the job sweeper.
TASK_PRUNE_SECONDS = env.float("TASK_PRUNE_SECONDS", default=3600.0)
JOBS_SWEEP_SECONDS = env.float("JOBS_SWEEP_SECONDS", default=10.0)
# Loaded by every worker before it claims its first task (dotted paths): loading a model
# holds the GIL for seconds, which in the middle of a chat would stall every reply the
# process is streaming.
WORKER_WARMUPS: list[str] = [
    "llm.embeddings.warm",
    "analysis.core.annotate.warm",
    "analysis.detectors.warm",
]
# Finished background-task rows are deleted after this many days.
TASK_RESULT_RETENTION_DAYS = env.int("TASK_RESULT_RETENTION_DAYS", default=2)
# Background jobs (core.jobs: analysis batches, ingestions, teaching runs; replies have
# their own REPLY_* timings). A running job refreshes its heartbeat this often; the
# sweeper requeues it when the heartbeat is older than JOB_STALE_SECONDS, or when it
# waited JOB_QUEUED_STALE_SECONDS with no task left to run it, and fails it after
# JOB_MAX_ATTEMPTS. A job that raises is retried after JOB_RETRY_BASE_SECONDS * 2**n.
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=2.0)
JOB_STALE_SECONDS = env.float("JOB_STALE_SECONDS", default=30.0)
JOB_QUEUED_STALE_SECONDS = env.float("JOB_QUEUED_STALE_SECONDS", default=120.0)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
JOB_MAX_SECONDS = env.float("JOB_MAX_SECONDS", default=1800.0)
JOB_RETRY_BASE_SECONDS = env.float("JOB_RETRY_BASE_SECONDS", default=1.0)
# A kind declared with automatic retries (analysis batches) is queued again by the sweeper
# after it failed: JOB_AUTO_RETRY_BASE_SECONDS * 2**n after its n-th failed round.
JOB_AUTO_RETRY_BASE_SECONDS = env.float("JOB_AUTO_RETRY_BASE_SECONDS", default=600.0)
