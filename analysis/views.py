"""Server-rendered "My mistakes": across conversations, and for one conversation.

Both show the recurring mistake families with examples (the span highlighted, the
correction, the explanation), counts, the estimated level over time and a chart of the
families over time with its data table. static/js/analysis.js reloads the page's data when
a clustering run completes.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from analysis import selectors, services
from analysis.core import charts
from analysis.serializers import type_label
from analysis.sources import OwnConversation
from conversations import selectors as conversation_selectors
from conversations.models import Conversation
from core.shortcuts import or_404


@login_required
@require_GET
def my_mistakes(request: HttpRequest) -> HttpResponse:
    clusters = list(selectors.clusters_for_learner(request.user))
    trend = selectors.learner_trend(request.user, clusters)
    context = {
        "heading": "My mistakes",
        "scope": "learner",
        "conversation": None,
        "totals": selectors.learner_totals(request.user),
        **_page(clusters, trend),
    }
    return render(request, "analysis/mistakes.html", context)


@login_required
@require_GET
def conversation_mistakes(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _own_conversation(request, conversation_id)
    source = OwnConversation(conversation.pk)
    clusters = list(selectors.clusters_for_source(source))
    trend = selectors.learner_trend(request.user, clusters)
    batches = list(selectors.batches_for_source(source))
    context = {
        "heading": f"Mistakes in “{conversation.title}”",
        "scope": "conversation",
        "conversation": conversation,
        "batches": batches,
        "pending": any(not b.is_finished for b in batches),
        "failed": [b for b in batches if b.status == "failed"],
        # Queued again by a spent allowance: the reason says when it goes on.
        "waiting": [b for b in batches if b.status == "queued" and b.error],
        **_page(clusters, trend),
    }
    return render(request, "analysis/mistakes.html", context)


@login_required
@require_POST
def conversation_mistakes_retry(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The learner's "Try again" for the conversation's failed batches."""
    conversation = _own_conversation(request, conversation_id)
    queued = services.batches_rerun_failed(source=OwnConversation(conversation.pk))
    if queued:
        messages.success(request, "Analysing those messages again; the results appear here.")
    else:
        messages.info(request, "Nothing to retry: no part of the analysis has failed.")
    return redirect("conversation-mistakes", conversation_id=conversation.pk)


def _own_conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    """The learner's conversation; another learner's is a 404 like a missing one."""
    return or_404(conversation_selectors.conversation_get_for, request.user, conversation_id)


def _page(clusters: list, trend: selectors.Trend) -> dict:
    families = [
        {
            "cluster": cluster,
            "type_label": type_label(cluster.error_type),
            "direction": trend.direction.get(cluster.pk, ""),
            "examples": [_example(e) for e in selectors.cluster_examples(cluster)],
            "counts": trend.counts.get(cluster.pk, []),
        }
        for cluster in clusters
    ]
    over_time = [(f["cluster"].name, f["counts"]) for f in families]
    return {
        "families": families,
        "days": trend.days,
        "levels": trend.levels,
        "time_rows": [(d, [f["counts"][i] for f in families]) for i, d in enumerate(trend.days)],
        "time_chart": _svg(charts.errors_over_time(trend.days, over_time)) if families else "",
    }


def _svg(markup: str) -> str:
    # pygal builds the SVG as an XML tree, so every name in it is escaped already.
    return mark_safe(markup)  # noqa: S308


def _example(error) -> dict:
    """The sentence cut around the error's span, so the template can highlight it."""
    text = error.utterance.text
    start, end = min(error.start, len(text)), min(error.end, len(text))
    return {
        "before": text[:start],
        "span": text[start:end],
        "after": text[end:],
        "original": error.original,
        "correction": error.correction,
        "explanation": error.explanation,
    }
