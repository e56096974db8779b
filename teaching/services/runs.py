"""Starting and running teaching runs on the shared job mechanism."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ops import jobs
from teaching import events
from teaching.models import Scope, Stage, TeachingRun

FINISHED = (jobs.JobStatus.DONE, jobs.JobStatus.FAILED, jobs.JobStatus.CANCELLED)


def run_for_conversation(conversation_id: int) -> TeachingRun | None:
    """The hook analysis calls once a conversation's clustering is done: (re)start its
    teaching run. Safe to call twice: a queued or running run is left alone."""
    from conversations.models import Conversation

    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return None
    return teaching_run_start(learner=conversation.owner, conversation=conversation)


def run_for_learner(*, learner) -> TeachingRun:
    """On demand: a run across all of the learner's conversations."""
    with transaction.atomic():
        run = TeachingRun.objects.create(learner=learner, scope=Scope.LEARNER)
        jobs.enqueue(run)
        events.run_updated_on_commit(run.pk)
    return run


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
    with transaction.atomic():
        restarted = TeachingRun.objects.filter(Q(pk=run.pk), Q(status__in=FINISHED)).update(
            status=jobs.JobStatus.QUEUED,
            stage=Stage.QUEUED,
            attempts=0,
            error="",
            finished_at=None,
            updated_at=timezone.now(),
        )
        if restarted:
            run.refresh_from_db()
            jobs.enqueue(run)
            events.run_updated_on_commit(run.pk)
    return bool(restarted)


def teaching_run_process(*, run_id: int, task_id: str = "") -> None:
    from teaching.pipeline import advance

    jobs.run(TeachingRun, run_id, work=advance, task_id=task_id)


def teaching_run_changed(run: TeachingRun) -> None:
    """ops.jobs' on_change (finished, failed, requeued by the sweeper): tell the learner."""
    events.run_updated_on_commit(run.pk)
