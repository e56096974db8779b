"""Lesson pages: overall and per conversation, practice, the collection and reviews.
Reads go through teaching.selectors (only ready lessons, only the learner's own)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from analysis.core.taxonomy import ErrorType
from conversations.models import Conversation
from core.errors import NotFound, UserFacingError
from core.shortcuts import or_404
from teaching import selectors
from teaching.services import learning, run_for_learner
from teaching.services import review as reviews

PER_PAGE = 20


@login_required
@require_GET
def lessons(request: HttpRequest) -> HttpResponse:
    modules = selectors.modules_visible_to(request.user).select_related("conversation")
    page = Paginator(modules, PER_PAGE).get_page(request.GET.get("page"))
    runs = selectors.runs_of(request.user).filter(status__in=("queued", "running"))
    context = {
        "page_obj": page,
        "runs": [(run, selectors.run_progress(run)) for run in runs],
        "overview": selectors.lessons_overview(request.user),
    }
    return render(request, "teaching/lessons.html", context)


@login_required
@require_POST
def lessons_refresh(request: HttpRequest) -> HttpResponse:
    _, created = run_for_learner(learner=request.user)
    if created:
        messages.success(request, "New lessons from all your conversations are on their way.")
    else:
        messages.info(request, "Your lessons are already being prepared; they will appear here.")
    return redirect("teaching:lessons")


@login_required
@require_GET
def conversation_lessons(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = Conversation.objects.filter(pk=conversation_id, owner=request.user).first()
    if conversation is None:
        raise Http404("No such conversation.")
    run = selectors.run_for_conversation(request.user, conversation_id)
    context = {
        "conversation": conversation,
        "run": run,
        "progress": selectors.run_progress(run) if run else None,
        "modules": selectors.modules_visible_to(request.user).filter(
            conversation_id=conversation_id
        ),
        "api_url": reverse("api:conversation-lessons", args=[conversation_id]),
        "overview": selectors.lessons_overview(request.user, conversation_id=conversation_id),
    }
    return render(request, "teaching/conversation_lessons.html", context)


@login_required
@require_GET
def practice(request: HttpRequest, module_id: int) -> HttpResponse:
    """The lesson and its practice; in a review of a saved lesson, the review's own items,
    with the explanation held back until the learner has answered."""
    module = or_404(selectors.module_get_for, request.user, module_id)
    item = request.user.collection.filter(module=module).first()
    in_review = item is not None and request.GET.get("review") == "1"
    context = {
        "module": module,
        "content": module.content,
        "problems": reviews.review_problems(item) if in_review else module.content["problems"],
        "item": item,
        "last_attempt": learning.last_attempt(learner=request.user, module=module),
        "in_review": in_review,
        "practice_url": reverse("api:module-practice", args=[module.pk]),
        "check_url": reverse("api:module-practice-check", args=[module.pk]),
        "collection_url": reverse("api:collection"),
        "next_review_url": reverse("teaching:review_next"),
    }
    return render(request, "teaching/practice.html", context)


@login_required
@require_GET
def collection(request: HttpRequest) -> HttpResponse:
    filters = {
        k: request.GET.get(k, "")[:200] for k in ("language", "error_type", "cluster", "tag")
    }
    items = selectors.collection_of(request.user, **filters)
    everything = selectors.collection_of(request.user)
    context = {
        "page_obj": Paginator(items, PER_PAGE).get_page(request.GET.get("page")),
        "filters": filters,
        "languages": sorted({i.module.language for i in everything}),
        "families": [
            (v, label)
            for v, label in ErrorType.choices
            if any(i.module.error_type == v for i in everything)
        ],
        "clusters": sorted({i.module.cluster_name for i in everything if i.module.cluster_name}),
    }
    return render(request, "teaching/collection.html", context)


@login_required
@require_POST
def collection_save(request: HttpRequest, module_id: int) -> HttpResponse:
    try:
        learning.collection_save(learner=request.user, module_id=module_id)
        messages.success(request, "Saved to your collection.")
    except NotFound as error:
        raise Http404(error.user_message) from error
    except UserFacingError as error:
        messages.info(request, error.user_message)
    return redirect("teaching:practice", module_id=module_id)


@login_required
@require_POST
def collection_item_update(request: HttpRequest, item_id: int) -> HttpResponse:
    item = or_404(selectors.item_get_for, request.user, item_id)
    tags = [t for t in request.POST.get("tags", "").split(",")]
    try:
        learning.collection_update(item=item, notes=request.POST.get("notes", ""), tags=tags)
        messages.success(request, "Saved your notes.")
    except UserFacingError as error:
        messages.error(request, error.user_message)
    return redirect(f"{reverse('teaching:collection')}#item-{item.pk}")


@login_required
@require_POST
def collection_item_remove(request: HttpRequest, item_id: int) -> HttpResponse:
    item = or_404(selectors.item_get_for, request.user, item_id)
    learning.collection_remove(item=item)
    messages.success(request, "Removed from your collection.")
    return redirect("teaching:collection")


@login_required
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    due = selectors.due_items(request.user)
    upcoming = selectors.collection_of(request.user).exclude(pk__in=due.values("pk"))
    context = {"due": due, "upcoming": upcoming.order_by("due_at")[:10]}
    return render(request, "teaching/review.html", context)


@login_required
@require_GET
def review_next(request: HttpRequest) -> HttpResponse:
    """The review session: the next due lesson, until none is left."""
    item = selectors.due_items(request.user).first()
    if item is None:
        messages.success(request, "All caught up: nothing else is due today.")
        return redirect("teaching:review")
    return redirect(f"{reverse('teaching:practice', args=[item.module_id])}?review=1")
