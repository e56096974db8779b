"""Teaching's writes, by sub-domain; the names callers use are re-exported here."""

from teaching.services.runs import (
    TeachingRunKind,
    run_for_conversation,
    run_for_external_conversation,
    run_for_learner,
    teaching_run_changed,
    teaching_run_start,
)

__all__ = [
    "TeachingRunKind",
    "run_for_conversation",
    "run_for_external_conversation",
    "run_for_learner",
    "teaching_run_changed",
    "teaching_run_start",
]
