"""Clustering runs: once every batch of an ended conversation is done, its errors are
clustered into recurring mistake families, and so are the learner's errors across all
their conversations (the learner-level view, replaced by each run).

The clustering itself is the pure `analysis.core.clustering.cluster_errors`; this module
loads the errors, embeds their edits through `llm.embed`, and stores what comes back.
"""

from collections import Counter
from collections.abc import Sequence

from django.db import transaction

import llm
from analysis import events, hooks
from analysis.core.clustering import ErrorPoint, Pattern, cluster_errors, edit_text
from analysis.models import (
    AnalysisBatch,
    ClusteringRun,
    ClusterMember,
    DetectedError,
    ErrorCluster,
    Scope,
)
from analysis.sources import Source, source_of
from core import jobs
from grammar import notes


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


def clustering_rerun(*, run: ClusteringRun) -> bool:
    with transaction.atomic():
        return jobs.retry(run)


def clustering_changed(run: ClusteringRun) -> None:
    """core.jobs' on_change: tell the learner once the run is done or has failed."""
    events.clustering_finished_on_commit(run)
    if run.status == jobs.JobStatus.DONE and run.conversation_id:
        hooks.conversation_clustered.call_on_commit(run.conversation_id)
    if run.status == jobs.JobStatus.DONE and run.external_conversation_id:
        hooks.external_conversation_clustered.call_on_commit(run.external_conversation_id)


def clustering_process(run: ClusteringRun) -> None:
    """The job's work: cluster the run's errors and replace the stored clusters."""
    source = source_of(run)
    ours = _errors(DetectedError.objects.filter(shown=True, **_prefixed(source.fields)))
    everything = _errors(
        DetectedError.objects.filter(shown=True, utterance__learner_id=run.learner_id)
    )
    ours_clusters = _clusters_of(ours, user=run.learner)
    all_clusters = _clusters_of(everything, user=run.learner)
    with transaction.atomic():
        if not jobs.still_mine(run):
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
    (the mistake itself, not the sentence around it), each family named by `_note_title`
    where a note fits, else by its pattern."""

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
            source_type=error.source_type,
        )
        for error in errors
    ]
    vectors = llm.embed([edit_text(p) for p in points], user=user, purpose="analysis.clustering")
    return cluster_errors(points, vectors=vectors, note_title=_note_title)


def _note_title(pattern: Pattern, family: Sequence[ErrorPoint]) -> str | None:
    """The title of the grammar note that explains most of a family's distinct edits
    ("Past participle after *have*"); None when no one specific note does, and the
    family is named by its pattern instead."""
    found = Counter()
    for point in family:
        note = notes.note_for(notes.EditFacts.from_edit(point), "en")
        if note is not None and note.id != notes.family_note(note.family, "en").id:
            found[note.title] += 1
    if not found:
        return None
    title, count = found.most_common(1)[0]
    return title if count * 2 > len(family) else None


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
        ClusterMember.objects.bulk_create(
            ClusterMember(cluster=row, error_id=int(key)) for key in cluster.keys
        )
