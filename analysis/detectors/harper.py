"""Harper (harper-py: Automattic's offline rule-based English checker, in Rust).

Every lint of a kept kind has its first suggestion applied; the lints of one sentence
make one proposal (overlapping ones after the first are left out). A `Linter` takes about
a second to build and must not be shared between threads, so each thread builds its own.

Kinds kept, by measurement on the learner development set (docs/analysis-detectors.md):
kinds whose edits were mostly right (capitalisation, agreement, grammar, punctuation,
repetition, ...). Left out: style advice that is no learner mistake (`Style`,
`Enhancement`, `Readability`, `Formatting`: "..." -> "…", en dashes), the kinds whose
edits were mostly wrong on learner English (`Typo`: splitting real compounds;
`WordChoice`), and `Spelling`: its first suggestion was right 55% of the time, the
spelling detector's 81%.
"""

import threading
from collections.abc import Sequence
from typing import Any

SKIPPED_KINDS = frozenset(
    {"Style", "Enhancement", "Readability", "Formatting", "Typo", "WordChoice", "Spelling"}
)

OFF_RULES = ("SpellCheck",)

# One linter for the process: building one takes a second or more (a worker thread of its
# own would make each thread's first message wait for it), and a linter may be used from
# any thread but by one at a time, which the lock ensures (a sentence takes ~10 ms).
_lock = threading.Lock()
_linters: list[Any] = []


def _linter() -> Any:
    if not _linters:
        from harper import Dialect, Linter

        linter = Linter(dialect=Dialect.AMERICAN)
        # Its spelling lints are left out anyway; not running the spell check saves about
        # a quarter of the time per sentence.
        config = linter.get_lint_config()
        config.update(dict.fromkeys(OFF_RULES, False))
        linter.set_lint_config(config)
        _linters.append(linter)
    return _linters[0]


def detect(texts: Sequence[str], **context: Any) -> list[list[str]]:
    from harper import Language

    out = []
    for text in texts:
        with _lock:
            lints = _linter().lint(text, language=Language.PLAINTEXT) if text.strip() else []
        corrected = apply_lints(
            text, [lint for lint in lints if lint.lint_kind not in SKIPPED_KINDS]
        )
        out.append([corrected] if corrected != text else [])
    return out


def apply_lints(text: str, lints: Sequence[Any]) -> str:
    """`text` with each lint's first suggestion applied; a lint overlapping one already
    applied, or without a suggestion, is left out. Spans are code points (Python str)."""
    from harper import SuggestionKind

    changes: list[tuple[int, int, str]] = []
    # Harper's order of lints on one span varies from process to process: sort fully, so
    # the same sentence always gets the same proposal.
    order = lambda x: (x.span.start, x.span.end, x.lint_kind, x.message)  # noqa: E731
    for lint in sorted(lints, key=order):
        if not lint.suggestions:
            continue
        suggestion = lint.suggestions[0]
        start, end = lint.span.start, lint.span.end
        if suggestion.kind == SuggestionKind.REPLACE:
            change = (start, end, suggestion.replacement_text)
        elif suggestion.kind == SuggestionKind.REMOVE:
            change = (start, end, "")
        else:  # INSERT_AFTER
            change = (end, end, suggestion.replacement_text)
        if changes and change[0] < changes[-1][1]:
            continue
        changes.append(change)
    for start, end, replacement in reversed(changes):
        text = text[:start] + replacement + text[end:]
    return text
