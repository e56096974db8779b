"""Clustering runs: once every batch of an ended conversation is done, its errors are
clustered into recurring mistake families, and so are the learner's errors across all
their conversations (the learner-level view, replaced by each run).

The clustering itself is the pure `analysis.clustering.cluster_errors`; this module loads
the errors, embeds their edits through `llm.embed`, and stores what comes back.
"""

from collections.abc import Sequence

from django.db import transaction

import llm
from analysis import events, hooks
from analysis.models import (
    AnalysisBatch,
    ClusteringRun,
    ClusterMember,
    DetectedError,
    ErrorCluster,
    Scope,
)
from analysis.sources import Source
from ops import jobs


def clustering_schedule(*, source: Source, conversation) -> ClusteringRun | None:
    """Within the caller's lock on the conversation: queue a run for the batches finished
    so far, unless one ran (or runs) for exactly those already."""
    done = AnalysisBatch.objects.filter(**source.fields, status=jobs.JobStatus.DONE).count()
    if done == 0:
        return None
    run, created = ClusteringRun.objects.get_or_create(
        **source.fields,
        batches_done=done,
        defaults={"learner_id": source.learner_id(conversation)},
    )
    if not created:
        return None
    jobs.enqueue(run)
    return run


def clustering_run(*, run_id: int, task_id: str = "") -> None:
    jobs.run(ClusteringRun, run_id, work=_cluster, task_id=task_id)


def clustering_rerun(*, run: ClusteringRun) -> bool:
    with transaction.atomic():
        return jobs.retry(run)


def clustering_changed(run: ClusteringRun) -> None:
    """ops.jobs' on_change: tell the learner once the run is done or has failed."""
    if run.status in (jobs.JobStatus.DONE, jobs.JobStatus.FAILED):
        events.send_on_commit(run.learner_id, lambda: _event(run))
    if run.status == jobs.JobStatus.DONE and run.conversation_id:
        hooks.call_on_commit(hooks.after_clustering, run.conversation_id)


def _cluster(run: ClusteringRun) -> None:
    source = Source.of(run)
    ours = _errors(DetectedError.objects.filter(**_prefixed(source.fields)))
    everything = _errors(DetectedError.objects.filter(utterance__learner_id=run.learner_id))
    ours_clusters = _clusters_of(ours, user=run.learner)
    all_clusters = _clusters_of(everything, user=run.learner)
    with transaction.atomic():
        if jobs.lost(run):
            return
        ErrorCluster.objects.filter(scope=Scope.CONVERSATION, **source.fields).delete()
        ErrorCluster.objects.filter(scope=Scope.LEARNER, learner_id=run.learner_id).delete()
        _store(run, ours_clusters, scope=Scope.CONVERSATION, where=source.fields)
        _store(run, all_clusters, scope=Scope.LEARNER, where={})


def _prefixed(fields: dict[str, int]) -> dict[str, int]:
    return {f"utterance__batch__{name}": value for name, value in fields.items()}


def _errors(queryset) -> list[DetectedError]:
    return list(queryset.select_related("utterance").order_by("id"))


def _clusters_of(errors: Sequence[DetectedError], *, user) -> list:
    """The pure clustering over these errors, with their edits embedded through llm.embed
    (the mistake itself, not the sentence around it)."""
    from analysis.clustering import ErrorPoint, cluster_errors, edit_text

    if not errors:
        return []
    points = [
        ErrorPoint(
            key=str(error.pk),
            error_type=error.error_type,
            original=error.original,
            correction=error.correction,
            features=error.features,
            priority=error.utterance.priority,
            when=error.utterance.created_at,
        )
        for error in errors
    ]
    vectors = llm.embed([edit_text(p) for p in points], user=user, purpose="analysis.clustering")
    return cluster_errors(points, vectors=vectors)


def _store(run: ClusteringRun, clusters: list, *, scope: str, where: dict) -> None:
    for rank, cluster in enumerate(clusters, start=1):
        row = ErrorCluster.objects.create(
            run=run,
            scope=scope,
            learner_id=run.learner_id,
            **where,
            rank=rank,
            label=cluster.label,
            name=cluster.name[:200],
            description=cluster.description,
            error_type=cluster.error_type,
            size=len(cluster.keys),
            score=cluster.score,
            top_edits=[list(edit) for edit in cluster.top_edits],
        )
        xy = list(cluster.xy) + [(0.0, 0.0)] * (len(cluster.keys) - len(cluster.xy))
        ClusterMember.objects.bulk_create(
            ClusterMember(cluster=row, error_id=int(key), x=x, y=y)
            for key, (x, y) in zip(cluster.keys, xy, strict=False)
        )


def _event(run: ClusteringRun) -> dict:
    from analysis.services.batches import _where

    if run.status == jobs.JobStatus.FAILED:
        return {"type": "analysis.clustering_failed", **_where(run), "error": run.error}
    from analysis import selectors
    from analysis.serializers import ClusterSerializer

    clusters = selectors.clusters_for_source(Source.of(run))
    return {
        "type": "analysis.clustering_completed",
        **_where(run),
        "clusters": ClusterSerializer(clusters, many=True).data,
    }
