"""Reads of the analysis: per conversation, per learner, and the trend over time.

Every list is loaded with a fixed number of queries (prefetches), however many batches,
utterances, errors or clusters there are.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Prefetch, QuerySet

from analysis.models import (
    AnalysisBatch,
    ClusterMember,
    DetectedError,
    ErrorCluster,
    Scope,
    UtteranceAnalysis,
)
from analysis.sources import Source

CEFR = ("A1", "A2", "B1", "B2", "C1", "C2")
EXAMPLES_PER_CLUSTER = 5


def batches_for_source(source: Source) -> QuerySet[AnalysisBatch]:
    return (
        AnalysisBatch.objects.filter(**source.fields)
        .annotate(message_count=Count("items"))
        .order_by("sequence")
    )


def utterances_for_source(source: Source) -> QuerySet[UtteranceAnalysis]:
    """Its analysed learner messages: by a batch, or so far by the model-free pass."""
    return learner_utterances().filter(source.utterances()).order_by("message_seq")


def batch_utterances(batch: AnalysisBatch) -> QuerySet[UtteranceAnalysis]:
    return learner_utterances().filter(batch=batch).order_by("message_seq")


def learner_utterances() -> QuerySet[UtteranceAnalysis]:
    """Analyses as the learner sees them: with the edits shown, never those held back
    below the precision bar (kept for staff and evaluation)."""
    shown = DetectedError.objects.filter(shown=True).order_by("start", "id")
    return UtteranceAnalysis.objects.select_related("message").prefetch_related(
        Prefetch("errors", queryset=shown)
    )


def _with_members(queryset: QuerySet[ErrorCluster]) -> QuerySet[ErrorCluster]:
    members = ClusterMember.objects.select_related("error__utterance").order_by("error_id")
    return queryset.prefetch_related(Prefetch("members", queryset=members)).order_by("rank")


def clusters_for_source(source: Source) -> QuerySet[ErrorCluster]:
    return _with_members(ErrorCluster.objects.filter(scope=Scope.CONVERSATION, **source.fields))


def clusters_for_learner(user) -> QuerySet[ErrorCluster]:
    return _with_members(ErrorCluster.objects.filter(scope=Scope.LEARNER, learner=user))


def cluster_examples(cluster: ErrorCluster, limit: int = EXAMPLES_PER_CLUSTER) -> list:
    """Distinct examples of the cluster (from the prefetched members), newest first."""
    errors = sorted(
        (m.error for m in cluster.members.all()), key=lambda e: e.utterance.created_at, reverse=True
    )
    seen, examples = set(), []
    for error in errors:
        shape = (error.utterance.text, error.start, error.end, error.correction)
        if shape not in seen:
            seen.add(shape)
            examples.append(error)
    return examples[:limit]


@dataclass
class Trend:
    """The learner's errors per family and their level, by day."""

    days: list[date] = field(default_factory=list)
    # cluster id -> errors on each day of `days`
    counts: dict[int, list[int]] = field(default_factory=dict)
    # cluster id -> "new", "shrinking" or "persisting"
    direction: dict[int, str] = field(default_factory=dict)
    levels: list[tuple[date, str]] = field(default_factory=list)


def learner_trend(user, clusters: list[ErrorCluster]) -> Trend:
    by_day: dict[int, Counter] = defaultdict(Counter)
    days: set[date] = set()
    for cluster in clusters:
        for member in cluster.members.all():
            day = member.error.utterance.created_at.date()
            by_day[cluster.pk][day] += 1
            days.add(day)
    trend = Trend(levels=level_history(user))
    trend.days = sorted(days | {d for d, _ in trend.levels})
    for cluster in clusters:
        series = [by_day[cluster.pk][d] for d in trend.days]
        trend.counts[cluster.pk] = series
        trend.direction[cluster.pk] = _direction(series)
    return trend


def _direction(series: list[int]) -> str:
    """ "new" when only the latest day has it; "shrinking" when the latest day has fewer
    than the days before it had on average (days with none left out); else "persisting"."""
    earlier = [n for n in series[:-1] if n]
    if not earlier:
        return "new"
    return "shrinking" if series[-1] < sum(earlier) / len(earlier) else "persisting"


def level_history(user) -> list[tuple[date, str]]:
    """The most frequent estimated CEFR level per day."""
    rows = (
        UtteranceAnalysis.objects.filter(learner=user)
        .exclude(level="")
        .values_list("created_at", "level")
        .order_by("created_at")
    )
    per_day: dict[date, Counter] = defaultdict(Counter)
    for when, level in rows:
        if level in CEFR:
            per_day[when.date()][level] += 1
    return [(day, counts.most_common(1)[0][0]) for day, counts in sorted(per_day.items())]


def learner_totals(user) -> dict[str, int]:
    utterances = UtteranceAnalysis.objects.filter(learner=user)
    return {
        "utterances": utterances.count(),
        "with_errors": utterances.filter(has_errors=True).count(),
        "errors": DetectedError.objects.filter(utterance__learner=user, shown=True).count(),
    }
