"""Live teaching events on the learner's own socket (/ws/events/), after commit.

`teaching.module_ready` goes out only for a module the visibility selector lets through;
`teaching.run_updated` carries the run's stage and progress ("3 of 7 ready")."""

from django.db import transaction
from django.urls import reverse

from core.events import user_event_send
from teaching import selectors
from teaching.models import Module, TeachingRun


def run_data(run: TeachingRun) -> dict:
    return {
        "id": run.pk,
        "conversation_id": run.conversation_id,
        "scope": run.scope,
        "status": run.status,
        "stage": run.stage,
        "stage_label": run.get_stage_display(),
        "error": run.error,
        "progress": selectors.run_progress(run),
    }


def module_brief(module: Module) -> dict:
    return {
        "id": module.pk,
        "title": module.title,
        "language": module.language,
        "error_type": module.error_type,
        "cluster_name": module.cluster_name,
        "status": module.status,
        "url": reverse("teaching:practice", args=[module.pk]),
    }


def run_updated_on_commit(run_id: int) -> None:
    transaction.on_commit(lambda: _send_run(run_id), robust=True)


def _send_run(run_id: int) -> None:
    run = TeachingRun.objects.filter(pk=run_id).first()
    if run is not None:
        user_event_send(run.learner_id, {"type": "teaching.run_updated", "run": run_data(run)})


def module_decided_on_commit(module: Module) -> None:
    transaction.on_commit(lambda: _send_module(module.pk), robust=True)


def _send_module(module_id: int) -> None:
    module = Module.objects.select_related("run").filter(pk=module_id).first()
    if module is None:
        return
    run = module.run
    visible = selectors.modules_visible_to(module.learner).filter(pk=module.pk).exists()
    if visible:
        user_event_send(
            module.learner_id,
            {
                "type": "teaching.module_ready",
                "run_id": run.pk,
                "conversation_id": run.conversation_id,
                "module": module_brief(module),
                "progress": selectors.run_progress(run),
            },
        )
    user_event_send(module.learner_id, {"type": "teaching.run_updated", "run": run_data(run)})
