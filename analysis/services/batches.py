"""Batches: form them from learner messages, analyse each once, store the results.

`batches_schedule` is the one place a batch is made. Under the conversation's row lock it
creates the next batch only when no batch of the conversation is queued or running, so
batches run one after another in message order; when a batch finishes, its `on_change`
schedules the next. A batch takes ANALYSIS_BATCH_SIZE learner messages, or whatever is
left once the conversation has ended; with nothing left and every batch finished, the
conversation's clustering run is scheduled. The first batch made after the end also
queues a run over the model-free checks, so lessons need not wait for the model.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from analysis import events, marks
from analysis.core.schemas import UtteranceAnalysis as AnalysisResult
from analysis.core.schemas import UtteranceIn
from analysis.models import AnalysisBatch, BatchItem, ExternalConversation, UtteranceAnalysis
from analysis.services import storing
from analysis.services.clustering import clustering_schedule, clustering_schedule_at_end
from analysis.sources import Source, message_position, message_text, source_of
from core import jobs

ACTIVE = (jobs.JobStatus.QUEUED, jobs.JobStatus.RUNNING)


def batches_schedule(*, source: Source) -> AnalysisBatch | None:
    """Make and queue the conversation's next batch if one is due; returns it."""
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
        if ended:
            clustering_schedule_at_end(source=source, conversation=conversation)
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


def integration_of(row) -> int | None:
    """The integration a batch's or clustering run's conversation came from, whose
    allowance its model calls spend (llm.allowance); None for our own conversations and
    those the learner posted herself."""
    if row.external_conversation_id is None:
        return None
    return (
        ExternalConversation.objects.filter(pk=row.external_conversation_id)
        .values_list("integration_id", flat=True)
        .first()
    )


def batch_rerun(*, batch: AnalysisBatch) -> bool:
    """Queue a failed (or cancelled) batch again; False when it is not finished that way."""
    with transaction.atomic():
        return jobs.retry(batch)


def batches_rerun_failed(*, source: Source) -> int:
    """The learner's "Retry": queue every failed batch of the conversation again; how
    many were queued (one already queued again by a quicker click is not counted)."""
    failed = AnalysisBatch.objects.filter(**source.fields, status=jobs.JobStatus.FAILED)
    return sum(batch_rerun(batch=batch) for batch in failed.order_by("sequence"))


def batch_changed(batch: AnalysisBatch) -> None:
    """core.jobs' on_change: tell the learner, then move the conversation on (both once
    the change is committed, wherever it was made)."""
    events.batch_finished_on_commit(batch)
    if batch.is_finished:
        source = source_of(batch)
        transaction.on_commit(lambda: batches_schedule(source=source))


def batch_process(batch: AnalysisBatch) -> None:
    """The job's work: analyse the claimed batch and store the results (core.jobs retries
    a failure and marks the batch failed with the reason after the last attempt)."""
    source = source_of(batch)
    items = _items(batch, source)
    contexts = source.contexts_for([m for _, m in items])
    utterances = [
        UtteranceIn(key=str(item.pk), text=message_text(m), context=context)
        for (item, m), context in zip(items, contexts, strict=True)
    ]
    results = _analysed(batch, utterances)
    _store(batch, items, results)


def _analysed(batch: AnalysisBatch, utterances: list[UtteranceIn]) -> list[AnalysisResult]:
    """The model pass over the batch (analysis.marks): every configured detector, the
    model among them. A model that fails its schema after its retries leaves the
    model-free edits standing; what it got wrong is recorded on the batch for staff."""
    learner = get_user_model().objects.select_related("profile").get(pk=batch.learner_id)
    profile = getattr(learner, "profile", None)
    found = marks.model_pass(
        utterances,
        user=learner,
        learner_level=profile.level if profile else "",
        target_language=profile.target_language if profile else "en",
    )
    if found.failures:
        AnalysisBatch.objects.filter(jobs.mine(batch)).update(model_failures=found.failures)
    return found.analyses


def _items(batch: AnalysisBatch, source: Source) -> list[tuple[BatchItem, object]]:
    """The batch's items with their messages; a message deleted since is skipped."""
    rows = batch.items.select_related(source.item_field).order_by("position")
    pairs = [(item, getattr(item, source.item_field)) for item in rows]
    return [(item, message) for item, message in pairs if message is not None]


def _store(batch: AnalysisBatch, items: list, results: list[AnalysisResult]) -> None:
    """All results in one transaction and a few statements (a batch is on the clock). The
    batch's analysis of a message replaces the model-free pass's, and a retried attempt
    whatever an earlier one stored."""
    by_key = {result.key: result for result in results}
    source = source_of(batch)
    now = timezone.now()
    rows, ordered = [], []
    for item, message in items:
        result = by_key.get(str(item.pk))
        if result is None:
            raise ValueError(f"The analysis left out message {message_position(message)}")
        rows.append(
            storing.utterance_row(
                learner_id=batch.learner_id,
                item_field=source.item_field,
                message=message,
                result=result,
                now=now,
                batch=batch,
            )
        )
        ordered.append(result)
    messages = [message for _, message in items]
    with transaction.atomic():
        if not jobs.still_mine(batch):
            return  # another attempt owns the batch now; its results will be stored
        UtteranceAnalysis.objects.filter(batch=batch).delete()
        UtteranceAnalysis.objects.filter(**{f"{source.item_field}__in": messages}).delete()
        storing.rows_store(rows, ordered)
