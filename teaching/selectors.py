"""Reads. `modules_visible_to` is the one gate between generated modules and a learner:
pages, API and socket events all go through it."""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from config.errors import NotFound
from teaching.models import (
    VISIBLE_STATUSES,
    CollectionItem,
    Module,
    ModuleStatus,
    Scope,
    TeachingRun,
)


def modules_visible_to(user) -> QuerySet[Module]:
    """The learner's own modules that passed validation or that staff approved."""
    if not getattr(user, "is_authenticated", False):
        return Module.objects.none()
    return Module.objects.filter(learner_id=user.pk, status__in=VISIBLE_STATUSES, final=False)


def module_get_for(user, module_id: int) -> Module:
    module = modules_visible_to(user).filter(pk=module_id).first()
    if module is None:
        raise NotFound("No such lesson.")
    return module


def run_for_conversation(user, conversation_id: int) -> TeachingRun | None:
    return TeachingRun.objects.filter(
        learner_id=user.pk, conversation_id=conversation_id, scope=Scope.CONVERSATION
    ).first()


def run_get_for(user, run_id: int) -> TeachingRun:
    run = TeachingRun.objects.filter(learner_id=user.pk, pk=run_id).first()
    if run is None:
        raise NotFound("No such run.")
    return run


def runs_of(user) -> QuerySet[TeachingRun]:
    return TeachingRun.objects.filter(learner_id=user.pk).select_related("conversation")


def run_progress(run: TeachingRun) -> dict:
    """How many of the run's lessons are ready, decided against, and still coming."""
    counts = run.focuses.aggregate(
        total=Count("id"),
        ready=Count("id", filter=Q(module__status__in=VISIBLE_STATUSES, module__final=False)),
        held=Count("id", filter=Q(module__status=ModuleStatus.REJECTED)),
    )
    total, ready, held = counts["total"], counts["ready"], counts["held"]
    pending = total - ready - held
    return {
        "total": total,
        "ready": ready,
        "held_back": held,
        "pending": pending,
        "more_coming": run.is_running,
        "text": progress_text(ready, total, held, running=run.is_running),
    }


def progress_text(ready: int, total: int, held: int, *, running: bool) -> str:
    if running and total == 0:
        return "Choosing what to teach you…"
    if running:
        return f"{ready} of {total} ready, more coming"
    if held:
        return f"{ready} of {total} ready · {held} did not pass our checks and went to a teacher"
    return f"{ready} of {total} ready"


def collection_of(user, *, language: str = "", error_type: str = "", cluster: str = "", tag=""):
    items = CollectionItem.objects.filter(
        learner_id=user.pk, module__in=modules_visible_to(user)
    ).select_related("module")
    if language:
        items = items.filter(module__language=language)
    if error_type:
        items = items.filter(module__error_type=error_type)
    if cluster:
        items = items.filter(module__cluster_name=cluster)
    if tag:
        items = items.filter(tags__icontains=tag)  # JSON text match: tags are short words
    return items


def item_get_for(user, item_id: int) -> CollectionItem:
    item = collection_of(user).filter(pk=item_id).first()
    if item is None:
        raise NotFound("No such saved lesson.")
    return item


def due_items(user, *, now=None) -> QuerySet[CollectionItem]:
    return collection_of(user).filter(due_at__lte=now or timezone.now()).order_by("due_at", "id")
