"""Reads. `modules_visible_to` is the one gate between generated modules and a learner:
pages, API and socket events all go through it."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from core import jobs
from core.errors import NotFound
from teaching.models import (
    VISIBLE_STATUSES,
    CollectionItem,
    Module,
    ModuleStatus,
    PracticeAttempt,
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
        # A queued run with a reason is waiting for the allowance to renew: say so.
        "text": (
            run.error
            if run.status == jobs.JobStatus.QUEUED and run.error
            else progress_text(ready, total, held, running=run.is_running)
        ),
        "note": outcome_note(ready, total, held, running=run.is_running, failed=run.error),
    }


def progress_text(ready: int, total: int, held: int, *, running: bool) -> str:
    if running and total == 0:
        return "Choosing what to teach you…"
    if running:
        return f"{ready} of {total} ready, more coming"
    if held:
        return f"{ready} of {total} ready · {held} did not pass our checks and went to a teacher"
    return f"{ready} of {total} ready"


def outcome_note(ready: int, total: int, held: int, *, running: bool, failed: str) -> str:
    """What a finished run with nothing ready gives the learner to do instead."""
    if running or ready or failed:
        return ""
    if held:
        return (
            "Nothing to practise from here yet: a teacher is checking what we made. "
            "Meanwhile, your own sentences are below, corrected: read each one aloud."
        )
    return (
        "No mistake came up often enough here for a lesson. "
        "Practise what is due below, or make lessons from all your conversations."
    )


MAX_LISTED = 5


def lessons_overview(user, *, conversation_id: int | None = None) -> dict:
    """Beside the ready lessons: what went to a teacher (with the learner's own sentences,
    corrected, to read meanwhile) and what to practise now. Never an empty page."""
    held = Module.objects.filter(
        learner_id=user.pk, status=ModuleStatus.REJECTED, final=False
    ).select_related("focus")
    ready = modules_visible_to(user)
    if conversation_id is not None:
        held = held.filter(conversation_id=conversation_id)
        ready = ready.filter(conversation_id=conversation_id)
    held = list(held.order_by("-created_at")[:MAX_LISTED])
    return {
        "held_back": [
            {"id": m.pk, "name": m.cluster_name or m.error_type.replace("_", " ")} for m in held
        ],
        "corrections": _corrections(held),
        "practise": _practise_now(user, ready),
    }


def _corrections(held: list[Module]) -> list[dict]:
    pairs, seen = [], set()
    for module in held:
        for example in getattr(module.focus, "examples", None) or []:
            sentence, corrected = example.get("sentence", ""), example.get("corrected", "")
            if sentence and corrected and sentence != corrected and sentence not in seen:
                seen.add(sentence)
                pairs.append({"sentence": sentence, "corrected": corrected})
    return pairs[:MAX_LISTED]


def _practise_now(user, ready: QuerySet[Module]) -> list[dict]:
    """Reviews that are due, then ready lessons never practised, newest first."""
    due = [
        {
            "title": item.module.title,
            "url": reverse("teaching:practice", args=[item.module_id]) + "?review=1",
            "why": "Due for review",
        }
        for item in due_items(user)[:MAX_LISTED]
    ]
    tried = PracticeAttempt.objects.filter(learner_id=user.pk, module_id=OuterRef("pk"))
    fresh = ready.exclude(Exists(tried)).order_by("-created_at")[: MAX_LISTED - len(due)]
    return due + [
        {
            "title": module.title,
            "url": reverse("teaching:practice", args=[module.pk]),
            "why": "Not practised yet",
        }
        for module in fresh
    ]


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
