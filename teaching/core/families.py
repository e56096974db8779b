"""The error families ERRANT finds between a sentence and its correction.

Used by the rule check that a module's correction really fixes the focus's kind of
mistake. The annotation is analysis's own (one spaCy pipeline per process, shared).
Other languages only get a low-confidence token diff there, so they are not checked.
"""

from analysis.core.annotate import ERRANT_LANGUAGES, annotate


def families(original: str, corrected: str, *, language: str = "en") -> set[str] | None:
    """The product error types of the edits from `original` to `corrected`; None when
    ERRANT has no model for `language`."""
    if language not in ERRANT_LANGUAGES:
        return None
    return {edit.error_type for edit in annotate(original, corrected, language=language)}
