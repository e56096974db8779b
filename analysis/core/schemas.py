"""Plain data that the analysis core hands to the rest of the product.

Frozen dataclasses with no ORM: the pipeline stores them, the clustering reads
them, tests build them by hand.
"""

from dataclasses import dataclass, field

from analysis.core.taxonomy import TAXONOMY

__all__ = ["TAXONOMY", "ContextLine", "Edit", "UtteranceAnalysis", "UtteranceIn"]

CONFIDENCES = ("high", "low")
MAX_CONTEXT_LINES = 3


@dataclass(frozen=True)
class ContextLine:
    speaker: str
    role: str  # "learner" or anything else (tutor, interviewer, ...)
    text: str


@dataclass(frozen=True)
class UtteranceIn:
    key: str
    text: str
    context: tuple[ContextLine, ...] = ()  # the messages just before it, oldest first

    def __post_init__(self) -> None:
        if len(self.context) > MAX_CONTEXT_LINES:
            raise ValueError(f"at most {MAX_CONTEXT_LINES} context lines, got {len(self.context)}")


@dataclass(frozen=True)
class Edit:
    """One error. start/end are character offsets into the ORIGINAL text:
    text[start:end] == original (an insertion is a zero-width span)."""

    start: int
    end: int
    original: str
    correction: str
    error_type: str  # one of TAXONOMY
    source_type: str  # ERRANT's type, e.g. "R:VERB:TENSE", or "diff" for the fallback
    explanation: str  # one line, at the learner's level
    confidence: str  # "high" (ERRANT) or "low" (token diff fallback)
    # For clustering: orig_tokens, corr_tokens, orig_lemmas, corr_lemmas,
    # orig_pos, corr_pos (lists of str).
    features: dict = field(default_factory=dict)
    # The detectors that proposed it (analysis.detectors), its calibrated precision
    # (analysis.core.gate: None when nothing calibrated it) and whether the learner sees it.
    sources: tuple[str, ...] = ()
    precision: float | None = None
    shown: bool = True

    def __post_init__(self) -> None:
        if self.error_type not in TAXONOMY:
            raise ValueError(f"unknown error type {self.error_type!r}")
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"confidence must be one of {CONFIDENCES}, got {self.confidence!r}")
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span {self.start}..{self.end}")


@dataclass(frozen=True)
class UtteranceAnalysis:
    key: str
    language: str  # ISO 639-1, e.g. "en"
    corrected: str
    edits: tuple[Edit, ...]
    level: str  # CEFR "A1".."C2", or "" when unknown
    topics: tuple[str, ...]
    priority: int  # 1..5
    # Why the model's correction was set aside (e.g. "correction rejected: 7 of 9 tokens
    # changed"), or "": the utterance then reads as error-free, marked as such.
    note: str = ""
    # Edits below the precision bar (analysis.core.gate): kept for staff and evaluation,
    # never shown to the learner as mistakes.
    held: tuple[Edit, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.priority <= 5:
            raise ValueError(f"priority must be 1..5, got {self.priority}")

    @property
    def has_errors(self) -> bool:
        return bool(self.edits)
