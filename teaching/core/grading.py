"""Grading a learner's free answer to a correct-the-sentence problem with ERRANT.

The answer is right when ERRANT finds nothing left to change against the correction but
case, a sentence's final punctuation or a contraction ("does not" for "doesn't"): those
are other ways of writing the same right sentence. Otherwise the feedback names each
thing still wrong, in the words of analysis' own templated explanations.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.core.annotate import annotate

Annotate = Callable[..., Sequence[Any]]

# ERRANT categories that never make a sentence wrong on their own.
_HARMLESS = frozenset({"ORTH", "CONTR"})
_FINAL = frozenset(".!?\u2026")


@dataclass(frozen=True)
class Graded:
    correct: bool
    feedback: list[str]


def grade_rewrite(answer: str, correction: str, *, annotate_fn: Annotate | None = None) -> Graded:
    annotate_fn = annotate_fn or annotate
    answer = " ".join(answer.split())
    if not answer:
        return Graded(False, ["Write the whole sentence, corrected."])
    edits = annotate_fn(answer, correction, language="en")
    left = [e for e in edits if not _harmless(e, answer)]
    if not left:
        return Graded(True, [])
    return Graded(False, [_describe(e) for e in left[:3]])


def _harmless(edit: Any, answer: str) -> bool:
    category = edit.source_type.split(":", 1)[-1] if edit.source_type else ""
    if category in _HARMLESS or edit.original.casefold() == edit.correction.casefold():
        return True
    # Only the full stop (or ! or ?) at the very end, added, dropped or changed.
    at_end = not answer[edit.end :].strip()
    marks = set(edit.original + edit.correction) - {" "}
    return at_end and bool(marks) and marks <= _FINAL


def _describe(edit: Any) -> str:
    if getattr(edit, "explanation", ""):
        return edit.explanation
    if edit.original and edit.correction:
        return f"\u201c{edit.original}\u201d should be \u201c{edit.correction}\u201d."
    if edit.correction:
        return f"A word is missing: \u201c{edit.correction}\u201d."
    return f"\u201c{edit.original}\u201d is not needed."
