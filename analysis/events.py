"""The analysis' live events on the learner's own socket (/ws/events/), built here and
sent after commit with core.events.

At most once, like every event: the chat and "My mistakes" pages read the same data from
the API when they load, so a lost event costs only freshness.
"""

from accounts.profiles import explanation_language
from analysis import selectors
from analysis.models import AnalysisBatch, ClusteringRun, UtteranceAnalysis
from analysis.serializers import BatchSerializer, ClusterSerializer, UtteranceSerializer
from analysis.sources import source_of
from core import jobs
from core.events import user_event_on_commit


def batch_finished_on_commit(batch: AnalysisBatch) -> None:
    """`analysis.batch_completed` with the batch's analysed messages, or
    `analysis.batch_failed`, once the batch's state is committed."""
    if batch.status == jobs.JobStatus.DONE:
        user_event_on_commit(batch.learner_id, lambda: batch_completed(batch))
    elif batch.status == jobs.JobStatus.FAILED:
        user_event_on_commit(batch.learner_id, lambda: batch_failed(batch))


def clustering_finished_on_commit(run: ClusteringRun) -> None:
    if run.status in (jobs.JobStatus.DONE, jobs.JobStatus.FAILED):
        user_event_on_commit(run.learner_id, lambda: clustering_finished(run))


def message_checked_on_commit(utterance: UtteranceAnalysis) -> None:
    """`analysis.message_checked`: the model-free marks of one message, within a second
    of its sending."""
    user_event_on_commit(utterance.learner_id, lambda: message_checked(utterance.pk))


def message_checked(utterance_id: int) -> dict | None:
    utterance = selectors.learner_utterances().filter(pk=utterance_id).first()
    if utterance is None or utterance.message is None:
        return None  # replaced by the batch's analysis meanwhile, or the message is gone
    return {
        "type": "analysis.message_checked",
        "conversation_id": utterance.message.conversation_id,
        "utterance": UtteranceSerializer(utterance, context=_context(utterance.learner)).data,
    }


def batch_completed(batch: AnalysisBatch) -> dict:
    return {
        "type": "analysis.batch_completed",
        **where(batch),
        "batch": BatchSerializer(batch).data,
        "utterances": UtteranceSerializer(
            selectors.batch_utterances(batch), many=True, context=_context(batch.learner)
        ).data,
    }


def batch_failed(batch: AnalysisBatch) -> dict:
    return {"type": "analysis.batch_failed", **where(batch), "batch": BatchSerializer(batch).data}


def clustering_finished(run: ClusteringRun) -> dict:
    if run.status == jobs.JobStatus.FAILED:
        return {"type": "analysis.clustering_failed", **where(run), "error": run.error}
    clusters = selectors.clusters_for_source(source_of(run))
    return {
        "type": "analysis.clustering_completed",
        **where(run),
        "clusters": ClusterSerializer(clusters, many=True).data,
    }


def where(row) -> dict:
    """Which conversation an event is about: ours by id, an external one by its own id."""
    if row.conversation_id is not None:
        return {"conversation_id": row.conversation_id}
    return {"external_id": row.external_conversation.external_id}


def _context(learner) -> dict:
    return {"language": explanation_language(learner)}
