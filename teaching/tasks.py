"""Background work of teaching, declared on the job mechanism (core.jobs)."""

from core import jobs
from llm import allowance
from teaching.models import TeachingRun
from teaching.pipeline import advance
from teaching.services import TeachingRunKind, teaching_run_changed


@jobs.task(
    TeachingRun,
    kind=TeachingRunKind,
    on_change=teaching_run_changed,
    max_attempts="TEACHING_MAX_ATTEMPTS",
)
def teaching_run(run: TeachingRun) -> None:
    with allowance.background():
        advance(run)
