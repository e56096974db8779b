"""The teaching pipeline, top to bottom. Each stage takes the run's id, does one thing and
stores its output; `advance` only moves the run from one stage to the next, so a retried
run (a killed worker, a model outage) resumes at the stage it was in, and every stage
skips what an earlier attempt already stored."""

from collections.abc import Callable

from django.utils import timezone

import llm
from ops import jobs
from teaching import events
from teaching.models import Stage, TeachingRun
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
    """The job's work: run the stages from the one the run is in to the end."""
    start = ORDER.index(run.stage) if run.stage in ORDER else 0
    for name, stage in STAGES[start:]:
        if jobs.lost(run):
            return
        _enter(run, name)
        try:
            stage(run.pk)
        except llm.errors.QuotaExceeded as exc:
            # Retrying today cannot help; the learner re-runs it tomorrow.
            raise jobs.Failed(exc.user_message) from exc
    if not jobs.lost(run):
        _enter(run, Stage.DONE)


def _enter(run: TeachingRun, stage: str) -> None:
    run.stage, run.updated_at = stage, timezone.now()
    TeachingRun.objects.filter(pk=run.pk).update(stage=stage, updated_at=run.updated_at)
    events.run_updated_on_commit(run.pk)
