"""One mechanism for background jobs: claim, heartbeat, sweep, lost-task recovery.

A job is a row (a reply, an analysis batch, a document ingestion, a teaching run) whose
status says who works on it. Its task is declared next to the app's other tasks with
`@jobs.task(Model)` (core.jobs.declare); services queue a row with `jobs.enqueue(row)`.
A task claims its row with a conditional UPDATE (core.jobs.run), one thread per process
keeps the heartbeat of every row it works on fresh (core.jobs.heartbeat), and the work
writes only while `jobs.mine(row)` holds, so a cancel, a delete or a sweeper that gave the
attempt up stops it at its next write. The sweeper (core.jobs.sweep) hands rows whose
heartbeat went stale or whose queued task vanished back to the queue, and fails them
after their last attempt.
"""

from core.jobs.declare import Periodic, discover, periodic, periodic_jobs, task
from core.jobs.heartbeat import Beat, beating, lost
from core.jobs.kinds import (
    WORKER_LOST,
    JobKind,
    Setting,
    all_kinds,
    kind_of,
    register,
    unregister,
)
from core.jobs.models import Job, JobStatus
from core.jobs.queue import cancel, enqueue, queue_on_commit, retry
from core.jobs.run import (
    GENERIC_FAILURE,
    Defer,
    Failed,
    Retry,
    claim,
    defer,
    finish,
    mine,
    run,
    still_mine,
)
from core.jobs.sweep import WorkerLost, jobs_sweep, sweep_kind

__all__ = [
    "GENERIC_FAILURE",
    "WORKER_LOST",
    "Beat",
    "Defer",
    "Failed",
    "Job",
    "JobKind",
    "JobStatus",
    "Periodic",
    "Retry",
    "Setting",
    "WorkerLost",
    "all_kinds",
    "beating",
    "cancel",
    "claim",
    "defer",
    "discover",
    "enqueue",
    "finish",
    "jobs_sweep",
    "kind_of",
    "lost",
    "mine",
    "periodic",
    "periodic_jobs",
    "queue_on_commit",
    "register",
    "retry",
    "run",
    "still_mine",
    "sweep_kind",
    "task",
    "unregister",
]
