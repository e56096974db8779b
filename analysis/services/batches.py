"""Batches: form them from learner messages, analyse each once, store the results.

`batches_schedule` is the one place a batch is made. Under the conversation's row lock it
creates the next batch only when no batch of the conversation is queued or running, so
batches run one after another in message order; when a batch finishes, its `on_change`
schedules the next. A batch takes ANALYSIS_BATCH_SIZE learner messages, or whatever is
left once the conversation has ended; with nothing left and every batch finished, the
conversation's clustering run is scheduled.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from analysis import events
from analysis.models import AnalysisBatch, BatchItem, DetectedError, UtteranceAnalysis
from analysis.schemas import UtteranceAnalysis as AnalysisResult
from analysis.schemas import UtteranceIn
from analysis.sources import Source, message_position, message_text
from ops import jobs

ACTIVE = (jobs.JobStatus.QUEUED, jobs.JobStatus.RUNNING)


def batches_schedule(*, source: Source) -> AnalysisBatch | None:
    """Make and queue the conversation's next batch if one is due; returns it."""
    from analysis.services.clustering import clustering_schedule

    if not _maybe_due(source):
        return None
    with transaction.atomic():
        conversation = source.lock()
        batches = AnalysisBatch.objects.filter(**source.fields)
        if batches.filter(status__in=ACTIVE).exists():
            return None  # it schedules the next one when it finishes
        size = settings.ANALYSIS_BATCH_SIZE
        messages = source.unbatched(limit=size)
        ended = conversation.ended_at is not None
        if len(messages) < size and not (ended and messages):
            if ended and not messages:
                clustering_schedule(source=source, conversation=conversation)
            return None
        batch = _batch_create(source, conversation, messages, batches)
        jobs.enqueue(batch)
    return batch


def _maybe_due(source: Source) -> bool:
    """A lock-free first look: most posts complete no batch, and taking the write lock
    for each would slow every chat message down (the decision is made under the lock)."""
    if source.is_ended():
        return True
    return len(source.unbatched(limit=settings.ANALYSIS_BATCH_SIZE)) >= settings.ANALYSIS_BATCH_SIZE


def _batch_create(source: Source, conversation, messages: list, batches) -> AnalysisBatch:
    last = batches.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    batch = AnalysisBatch.objects.create(
        **source.fields, learner_id=source.learner_id(conversation), sequence=last + 1
    )
    BatchItem.objects.bulk_create(
        BatchItem(batch=batch, position=n, **{source.item_field: message})
        for n, message in enumerate(messages)
    )
    return batch


def batch_analyse(*, batch_id: int, task_id: str = "") -> None:
    """The task body: claim the batch, analyse it, store the results (ops.jobs retries a
    failure and marks the batch failed with the reason after the last attempt)."""
    jobs.run(AnalysisBatch, batch_id, work=_analyse, task_id=task_id)


def batch_rerun(*, batch: AnalysisBatch) -> bool:
    """Queue a failed (or cancelled) batch again; False when it is not finished that way."""
    with transaction.atomic():
        return jobs.retry(batch)


def batch_changed(batch: AnalysisBatch) -> None:
    """ops.jobs' on_change: tell the learner, then move the conversation on (both once
    the change is committed, wherever it was made)."""
    if batch.status == jobs.JobStatus.DONE:
        events.send_on_commit(batch.learner_id, lambda: _completed_event(batch))
    elif batch.status == jobs.JobStatus.FAILED:
        events.send_on_commit(batch.learner_id, lambda: _failed_event(batch))
    if batch.is_finished:
        source = Source.of(batch)
        transaction.on_commit(lambda: batches_schedule(source=source))


def _analyse(batch: AnalysisBatch) -> None:
    source = Source.of(batch)
    items = _items(batch, source)
    contexts = source.contexts_for([m for _, m in items])
    utterances = [
        UtteranceIn(key=str(item.pk), text=message_text(m), context=context)
        for (item, m), context in zip(items, contexts, strict=True)
    ]
    results = _analysed(batch, utterances)
    _store(batch, items, results)


def _analysed(batch: AnalysisBatch, utterances: list[UtteranceIn]) -> list[AnalysisResult]:
    """The analyser's results. A small model's output that does not validate is expected
    now and then, not a crash: ops.jobs asks again, and after ANALYSIS_MAX_ATTEMPTS tries
    the batch fails with the reason."""
    from analysis.analyser import AnalysisInvalid, analyse_utterances

    learner = get_user_model().objects.select_related("profile").get(pk=batch.learner_id)
    profile = getattr(learner, "profile", None)
    try:
        return analyse_utterances(
            utterances,
            user=learner,
            learner_level=profile.level if profile else "",
            target_language=profile.target_language if profile else "en",
        )
    except AnalysisInvalid as exc:
        raise jobs.Retry(f"The analysis did not match its schema: {exc}") from exc


def _items(batch: AnalysisBatch, source: Source) -> list[tuple[BatchItem, object]]:
    """The batch's items with their messages; a message deleted since is skipped."""
    rows = batch.items.select_related(source.item_field).order_by("position")
    pairs = [(item, getattr(item, source.item_field)) for item in rows]
    return [(item, message) for item, message in pairs if message is not None]


def _store(batch: AnalysisBatch, items: list, results: list[AnalysisResult]) -> None:
    """All results in one transaction and three statements (a batch is on the clock)."""
    by_key = {result.key: result for result in results}
    source = Source.of(batch)
    now = timezone.now()
    rows, edits = [], []
    for item, message in items:
        result = by_key.get(str(item.pk))
        if result is None:
            raise ValueError(f"The analysis left out message {message_position(message)}")
        rows.append(_utterance_row(batch, source, message, result, now))
        edits.append(result.edits)
    with transaction.atomic():
        if jobs.lost(batch):
            return  # another attempt owns the batch now; its results will be stored
        # A retried attempt replaces whatever an earlier one stored.
        UtteranceAnalysis.objects.filter(batch=batch).delete()
        UtteranceAnalysis.objects.bulk_create(rows)
        DetectedError.objects.bulk_create(
            _error_row(utterance, edit)
            for utterance, its_edits in zip(rows, edits, strict=True)
            for edit in its_edits
        )


def _utterance_row(batch, source: Source, message, result: AnalysisResult, now):
    return UtteranceAnalysis(
        batch=batch,
        learner_id=batch.learner_id,
        **{source.item_field: message},
        message_seq=message_position(message),
        text=message_text(message),
        language=result.language[:8],
        corrected=result.corrected,
        level=result.level[:2],
        topics=list(result.topics),
        priority=result.priority,
        has_errors=result.has_errors,
        low_confidence=any(edit.confidence == "low" for edit in result.edits),
        created_at=now,
    )


def _error_row(utterance: UtteranceAnalysis, edit) -> DetectedError:
    return DetectedError(
        utterance=utterance,
        start=edit.start,
        end=edit.end,
        original=edit.original[:500],
        correction=edit.correction[:500],
        error_type=edit.error_type,
        source_type=edit.source_type[:32],
        explanation=edit.explanation[:500],
        confidence=edit.confidence,
        features=edit.features,
    )


def _completed_event(batch: AnalysisBatch) -> dict:
    from analysis import selectors
    from analysis.serializers import BatchSerializer, UtteranceSerializer

    return {
        "type": "analysis.batch_completed",
        **_where(batch),
        "batch": BatchSerializer(batch).data,
        "utterances": UtteranceSerializer(selectors.batch_utterances(batch), many=True).data,
    }


def _failed_event(batch: AnalysisBatch) -> dict:
    from analysis.serializers import BatchSerializer

    return {"type": "analysis.batch_failed", **_where(batch), "batch": BatchSerializer(batch).data}


def _where(row) -> dict:
    if row.conversation_id is not None:
        return {"conversation_id": row.conversation_id}
    return {"external_id": row.external_conversation.external_id}
