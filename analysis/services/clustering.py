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
    UtteranceAnalysis,
)
from analysis.sources import OwnConversation, Source, source_of
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


def clustering_schedule_at_end(*, source: Source, conversation) -> ClusteringRun | None:
    """Within the caller's lock, as the conversation ends with its last batch queued:
    queue a run now over what the model-free checks have marked, so the first lessons do
    not wait for the model's pass (tens of seconds on the built-in model). The run after
    the last batch replaces its clusters and restarts the lessons' run. Once per
    conversation; not for external conversations (they have no checks), nor for one kept
    private: its chat is purged once its lessons are made, and the last batch needs it."""
    if not isinstance(source, OwnConversation) or not conversation.keep_raw_messages:
        return None
    if ClusteringRun.objects.filter(**source.fields).exists():
        return None
    analysed = UtteranceAnalysis.objects.filter(source.utterances())
    if not DetectedError.objects.filter(shown=True, utterance__in=analysed).exists():
        return None
    done = AnalysisBatch.objects.filter(**source.fields, status=jobs.JobStatus.DONE).count()
    run = ClusteringRun.objects.create(
        **source.fields, batches_done=done, learner_id=source.learner_id(conversation)
    )
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
    # Every analysis of the conversation: a run at End may come before the last batch,
    # and clusters the model-free checks of the messages that batch is still analysing.
    analysed = UtteranceAnalysis.objects.filter(source.utterances())
    ours = _errors(DetectedError.objects.filter(shown=True, utterance__in=analysed))
    everything = _errors(
        DetectedError.objects.filter(shown=True, utterance__learner_id=run.learner_id)
    )
    ours_clusters = _clusters_of(ours, user=run.learner)
    all_clusters = _clusters_of(everything, user=run.learner)
    with transaction.atomic():
        if not jobs.still_mine(run):
            return
        present = _still_there([*ours, *everything])
        ErrorCluster.objects.filter(scope=Scope.CONVERSATION, **source.fields).delete()
        ErrorCluster.objects.filter(scope=Scope.LEARNER, learner_id=run.learner_id).delete()
        _store(run, ours_clusters, present, scope=Scope.CONVERSATION, where=source.fields)
        _store(run, all_clusters, present, scope=Scope.LEARNER, where={})


def _still_there(errors: Sequence[DetectedError]) -> set[str]:
    """The keys of the errors that still exist, locked until the clusters are stored. A
    batch that finished while the run embedded replaced the model-free checks' analyses
    of its messages, errors and all; their members would break the foreign key, and the
    run that follows that batch clusters the new ones."""
    # No ordering: the model's orders by its utterance, an outer join PostgreSQL will not
    # lock through.
    rows = DetectedError.objects.select_for_update(of=("self",)).filter(
        pk__in=[e.pk for e in errors]
    )
    return {str(pk) for pk in rows.order_by().values_list("pk", flat=True)}


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


def _store(
    run: ClusteringRun, clusters: list, present: set[str], *, scope: str, where: dict
) -> None:
    kept = [(c, [k for k in c.keys if k in present]) for c in clusters]
    for rank, (cluster, keys) in enumerate(((c, k) for c, k in kept if k), start=1):
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
            size=len(keys),
            score=cluster.score,
            top_edits=[list(edit) for edit in cluster.top_edits],
        )
        ClusterMember.objects.bulk_create(
            ClusterMember(cluster=row, error_id=int(key)) for key in keys
        )
