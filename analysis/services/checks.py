"""The model-free pass: each learner message of our chat is checked as soon as it is
stored (a job, not in the request), and its marks reach the learner's socket within a
second. The detectors that need no model run, ERRANT types their proposals, and the
precision gate decides what is shown (analysis.marks). The batch's model pass replaces
this analysis later, adding or confirming edits."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.profiles import explanation_language
from analysis import events, marks
from analysis.core import feedback, schemas
from analysis.core.schemas import UtteranceIn
from analysis.models import MessageCheck, UtteranceAnalysis
from analysis.services import storing
from analysis.sources import OwnConversation
from conversations.models import Message, Role, Status
from conversations.tutoring import Correction, NoteText
from core import jobs


def checks_queue(conversation_id: int) -> int:
    """Queue a check of every learner message of the conversation that has none yet
    (the one just posted, and any an earlier failure left out); returns how many."""
    unchecked = Message.objects.filter(
        conversation_id=conversation_id,
        role=Role.USER,
        status=Status.COMPLETE,
        analysis_check__isnull=True,
    ).select_related("conversation")
    queued = 0
    for message in unchecked.order_by("seq"):
        try:
            with transaction.atomic():
                check = MessageCheck.objects.create(
                    message=message, learner_id=message.conversation.owner_id
                )
                jobs.enqueue(check)
        except IntegrityError:
            continue  # another request queued it first
        queued += 1
    return queued


def message_check_process(check: MessageCheck) -> None:
    """The job's work: the model-free analysis of one message, unless a batch has
    analysed it already (its analysis includes the same detectors)."""
    _check(check.message, check.learner, lost=lambda: jobs.lost(check))


def _check(message: Message, learner, *, lost) -> None:
    """Analyse and store `message` unless it has an analysis; the reply to it may have
    done so first (message_correction), or the check may have: the second writer yields."""
    if UtteranceAnalysis.objects.filter(message=message).exists():
        return
    source = OwnConversation(message.conversation_id)
    (context,) = source.contexts_for([message])
    utterance = UtteranceIn(key=str(message.pk), text=message.content, context=context)
    (result,) = marks.model_free_pass([utterance], target_language=_target_language(learner))
    try:
        _store(message, learner, source, result, lost=lost)
    except IntegrityError:
        # The other writer stored it between our look and our insert, or the learner
        # deleted the conversation (or the account) while the check ran: the message is
        # gone, and so is anything to mark. Anything else is a real error.
        stored = UtteranceAnalysis.objects.filter(message_id=message.pk).exists()
        if not stored and Message.objects.filter(pk=message.pk).exists():
            raise


def _store(
    message: Message,
    learner,
    source: OwnConversation,
    result: schemas.UtteranceAnalysis,
    *,
    lost,
) -> None:
    with transaction.atomic():
        # Locks the message on PostgreSQL, so a deletion waits until the marks are stored.
        still_there = Message.objects.select_for_update().filter(pk=message.pk).exists()
        if not still_there or lost():
            return
        if UtteranceAnalysis.objects.filter(message=message).exists():
            return
        row = storing.utterance_row(
            learner_id=learner.pk,
            item_field=source.item_field,
            message=message,
            result=result,
            now=timezone.now(),
        )
        storing.rows_store([row], [result])
        events.message_checked_on_commit(row)


def _target_language(learner) -> str:
    profile = getattr(learner, "profile", None)
    return profile.target_language if profile else "en"


# -- what the tutor says about a mistake ------------------------------------------------


def message_correction(message_id: int) -> Correction | None:
    """The correction the learner's marks show for message `message_id` (its check is run
    now if it has not run yet, so the reply never waits for the queue), or None when no
    edit passed the precision bar."""
    message = (
        Message.objects.filter(pk=message_id, role=Role.USER)
        .select_related("conversation__owner__profile")
        .first()
    )
    if message is None:
        return None
    learner = message.conversation.owner
    _check(message, learner, lost=lambda: False)
    row = UtteranceAnalysis.objects.filter(message=message).first()
    if row is None:
        return None
    shown = list(row.errors.filter(shown=True))
    return _correction(row.text, row.corrected, shown, explanation_language(learner))


def text_correction(text: str, user) -> Correction | None:
    """The same model-free pass over words the learner quotes in a question; stored nowhere."""
    (result,) = marks.model_free_pass(
        [UtteranceIn(key="quoted", text=text)], target_language=_target_language(user)
    )
    return _correction(text, result.corrected, list(result.edits), explanation_language(user))


def _correction(text: str, corrected: str, edits: list, language: str) -> Correction | None:
    if not edits or corrected.strip() == text.strip():
        return None
    notes: dict[str, NoteText] = {}
    for edit in edits:
        note = feedback.note_for_edit(edit, language)
        if note is not None and note["id"] not in notes:
            notes[note["id"]] = NoteText(
                id=note["id"],
                title=note["title"],
                rule=note["rule"],
                pattern=note["pattern"],
                tip=note["tip"],
                example=tuple(note["example"]),
            )
    return Correction(original=text, corrected=corrected, notes=tuple(notes.values()))
