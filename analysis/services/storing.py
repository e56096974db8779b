"""Storing analyses: one row per analysed learner message, one per edit (shown or held).

A message has one analysis at a time: the model-free pass stores the first, and the
batch's model pass replaces it (the same detectors, and the model adding or confirming
edits)."""

from collections.abc import Sequence
from datetime import datetime

from analysis.core.schemas import Edit
from analysis.core.schemas import UtteranceAnalysis as AnalysisResult
from analysis.models import DetectedError, UtteranceAnalysis
from analysis.sources import message_position, message_text


def utterance_row(
    *, learner_id: int, item_field: str, message, result: AnalysisResult, now: datetime, batch=None
) -> UtteranceAnalysis:
    return UtteranceAnalysis(
        batch=batch,
        learner_id=learner_id,
        **{item_field: message},
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


def error_rows(utterance: UtteranceAnalysis, result: AnalysisResult) -> list[DetectedError]:
    """Its shown edits, then those held back below the precision bar."""
    held = getattr(result, "held", ())
    return [_error_row(utterance, e, shown=True) for e in result.edits] + [
        _error_row(utterance, e, shown=False) for e in held
    ]


def rows_store(rows: Sequence[UtteranceAnalysis], results: Sequence[AnalysisResult]) -> None:
    """Within the caller's transaction: the analyses and their edits, in two statements."""
    UtteranceAnalysis.objects.bulk_create(rows)
    pairs = zip(rows, results, strict=True)
    DetectedError.objects.bulk_create(e for row, result in pairs for e in error_rows(row, result))


def _error_row(utterance: UtteranceAnalysis, edit: Edit, *, shown: bool) -> DetectedError:
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
        sources=list(getattr(edit, "sources", ())),
        precision=getattr(edit, "precision", None),
        shown=shown,
    )
