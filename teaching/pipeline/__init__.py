"""The teaching pipeline, top to bottom. Each stage takes the run's id, does one thing and
stores its output; `advance` only moves the run from one stage to the next, so a retried
run (a killed worker, a model outage) resumes at the stage it was in, and every stage
skips what an earlier attempt already stored."""

from collections.abc import Callable

from django.utils import timezone

from core import jobs
from teaching import events
from teaching.models import Stage, TeachingRun
from teaching.pipeline.common import attempt
from teaching.pipeline.filter import filter_sentences
from teaching.pipeline.focus import select_focuses
from teaching.pipeline.generate import generate_modules
from teaching.pipeline.purge import purge_private_chat
from teaching.pipeline.validate import validate_modules

STAGES: tuple[tuple[str, Callable[[int], None]], ...] = (
    (Stage.FILTER, filter_sentences),  # analysed sentences -> mistake groups per language
    (Stage.FOCUS, select_focuses),  # mistake groups -> focuses, each with a reason
    (Stage.GENERATE, generate_modules),  # focus -> draft module
    (Stage.VALIDATE, validate_modules),  # draft -> validated | rejected, with its report
    (Stage.PURGE, purge_private_chat),  # a private conversation's raw chat goes
)
ORDER = [name for name, _ in STAGES]


def advance(run: TeachingRun) -> None:
    """The job's work: run the stages from the one the run is in to the end. Each stage
    and each write checks that the run is still this attempt's (a cancel and a retry may
    have handed it to another), so a superseded attempt stops and stores nothing."""
    start = ORDER.index(run.stage) if run.stage in ORDER else 0
    with attempt(run):
        for name, stage in STAGES[start:]:
            if not _enter(run, name):
                return
            # A spent allowance ends the attempt here; the run waits for the allowance
            # to renew and resumes at this stage (teaching.tasks, llm.allowance).
            stage(run.pk)
        _enter(run, Stage.DONE)


def _enter(run: TeachingRun, stage: str) -> bool:
    """Move this attempt's run to `stage`; False when the run is no longer its own."""
    now = timezone.now()
    if not TeachingRun.objects.filter(jobs.mine(run)).update(stage=stage, updated_at=now):
        return False
    run.stage, run.updated_at = stage, now
    events.run_updated_on_commit(run.pk)
    return True
