"""Teaching's writes, by sub-domain; the names callers use are re-exported here."""

from teaching.services.runs import (
    run_for_conversation,
    run_for_learner,
    teaching_run_changed,
    teaching_run_process,
    teaching_run_start,
)

__all__ = [
    "run_for_conversation",
    "run_for_learner",
    "teaching_run_changed",
    "teaching_run_process",
    "teaching_run_start",
]
