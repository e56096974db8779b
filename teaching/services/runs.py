"""Starting and running teaching runs on the shared job mechanism."""

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from analysis.models import ExternalConversation
from conversations.models import Conversation
from core import jobs
from teaching import events
from teaching.models import Scope, Stage, TeachingRun


class TeachingRunKind(jobs.JobKind):
    """A run queued again starts from its first stage (its stages skip stored work)."""

    def retry_fields(self, row: Any) -> dict[str, Any]:
        return {"stage": Stage.QUEUED, "updated_at": timezone.now()}


def run_for_conversation(conversation_id: int) -> TeachingRun | None:
    """The hook analysis calls once a conversation's clustering is done: (re)start its
    teaching run. Safe to call twice: a queued or running run is left alone."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return None
    return teaching_run_start(learner=conversation.owner, conversation=conversation)


def run_for_external_conversation(external_conversation_id: int) -> TeachingRun | None:
    """The hook analysis calls once an external conversation's clustering is done: its
    lessons come from a run across all of the learner's conversations, whatever their
    source (the learner's clusters include the external one's mistakes); a run already
    queued for the learner will read them when it starts."""
    conversation = (
        ExternalConversation.objects.filter(pk=external_conversation_id)
        .select_related("learner")
        .first()
    )
    if conversation is None:
        return None
    run, _ = run_for_learner(learner=conversation.learner)
    return run


def run_for_learner(*, learner) -> tuple[TeachingRun, bool]:
    """On demand: a run across all of the learner's conversations, and whether it is new.
    While one is queued or running, asking again returns it: it will reach the work a
    second one would do, and quick repeated clicks must not each pay for a run."""
    with transaction.atomic():
        # A write that changes nothing serialises one learner's concurrent requests (a
        # row lock on PostgreSQL, the write lock on SQLite), so that two cannot both find
        # no run and both make one.
        type(learner).objects.filter(pk=learner.pk).update(last_login=F("last_login"))
        running = (
            TeachingRun.objects.filter(
                learner=learner,
                scope=Scope.LEARNER,
                status__in=(jobs.JobStatus.QUEUED, jobs.JobStatus.RUNNING),
            )
            .order_by("-pk")
            .first()
        )
        if running is not None:
            return running, False
        run = TeachingRun.objects.create(learner=learner, scope=Scope.LEARNER)
        jobs.enqueue(run)
        events.run_updated_on_commit(run.pk)
    return run, True


def teaching_run_start(*, learner, conversation) -> TeachingRun:
    """Queue the conversation's run; a finished one is run again from the first stage
    (focuses and modules it already has are kept: the stages skip them)."""
    with transaction.atomic():
        run, created = TeachingRun.objects.get_or_create(
            conversation=conversation,
            scope=Scope.CONVERSATION,
            defaults={"learner": learner},
        )
        if created:
            jobs.enqueue(run)
            events.run_updated_on_commit(run.pk)
        else:
            run_restart(run=run)
    return run


def run_restart(*, run: TeachingRun) -> bool:
    """Run a finished run again from its first stage; a queued or running one is left
    alone (it will reach the stages that pick up new work)."""
    return jobs.retry(run, done_too=True)


def teaching_run_changed(run: TeachingRun) -> None:
    """core.jobs' on_change (finished, failed, requeued by the sweeper): tell the learner."""
    events.run_updated_on_commit(run.pk)
