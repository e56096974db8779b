"""The precision gate: which proposed edits a learner sees. Pure: no ORM, no model.

Every detector's edits of one sentence are merged: the same span and correction from two
detectors is one edit with both as its sources. Each edit carries the calibrated
precision of its best source for its kind of mistake (analysis.core.calibration). It is shown
when that precision reaches the bar (settings.ANALYSIS_MIN_PRECISION) or when at least
two detectors agree on it; of shown edits that overlap, the better supported one stays.
Everything else is held: stored for staff and evaluation, never shown as a mistake.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from analysis.core.evaluation import edit_key
from analysis.core.schemas import Edit

AGREEMENT = 2  # detectors proposing the same edit that show it whatever their precision

# (detector name, edit) -> calibrated precision, or None when nothing calibrated it.
Precision = Callable[[str, Edit], float | None]


@dataclass(frozen=True)
class Gated:
    shown: tuple[Edit, ...]  # in text order
    held: tuple[Edit, ...]


def gate(
    edits_by_detector: Mapping[str, Sequence[Edit]],
    precision: Precision,
    *,
    min_precision: float,
    agreement: int = AGREEMENT,
) -> Gated:
    """Merge the detectors' edits of one sentence and split them into shown and held."""
    merged: dict[tuple[int, int, str], list[tuple[str, Edit]]] = {}
    for detector, edits in edits_by_detector.items():
        for edit in edits:
            found = merged.setdefault(edit_key(edit), [])
            if detector not in (d for d, _ in found):
                found.append((detector, edit))
    candidates = [_merged(found, precision) for found in merged.values()]
    wanted = [e for e in candidates if _passes(e, min_precision, agreement)]
    wanted.sort(key=lambda e: (-len(e.sources), -(e.precision or 0.0), e.start, e.end))
    shown: list[Edit] = []
    for edit in wanted:
        if not any(overlap(edit, other) for other in shown):
            shown.append(edit)
    kept = {edit_key(e) for e in shown}
    held = [replace(e, shown=False) for e in candidates if edit_key(e) not in kept]
    order = lambda e: (e.start, e.end, e.correction)  # noqa: E731
    return Gated(tuple(sorted(shown, key=order)), tuple(sorted(held, key=order)))


def _merged(found: list[tuple[str, Edit]], precision: Precision) -> Edit:
    """One edit for all its sources; its precision is its best source's, and its other
    fields come from that source's edit (the model's explanation, say)."""
    scored = [(precision(detector, edit), detector, edit) for detector, edit in found]
    best = max(scored, key=lambda s: -1.0 if s[0] is None else s[0])
    return replace(
        best[2],
        sources=tuple(detector for _, detector, _ in scored),
        precision=None if best[0] is None else round(best[0], 4),
        shown=True,
    )


def _passes(edit: Edit, min_precision: float, agreement: int) -> bool:
    if len(edit.sources) >= agreement:
        return True
    return edit.precision is not None and edit.precision >= min_precision


def overlap(a: Edit, b: Edit) -> bool:
    """Whether two edits touch the same characters (two insertions at one point do)."""
    if a.start == a.end or b.start == b.end:
        return a.start == b.start or (b.start < a.start < b.end) or (a.start < b.start < a.end)
    return a.start < b.end and b.start < a.end


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """`text` with non-overlapping edits applied: the sentence as corrected. An insertion
    goes before the token at its offset (punctuation after the word before it); a
    deletion takes one space with it."""
    out = text
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        start, end, correction = edit.start, edit.end, edit.correction
        if start == end and correction:
            if not correction[0].isalnum():
                while start > 0 and out[start - 1].isspace():
                    start -= 1
                out = out[:start] + correction + out[start:]
            elif start >= len(out.rstrip()):
                out = out.rstrip() + " " + correction + out[len(out.rstrip()) :]
            else:
                out = out[:start] + correction + " " + out[start:]
        elif not correction:
            if end < len(out) and out[end] == " ":
                end += 1
            elif start > 0 and out[start - 1] == " ":
                start -= 1
            out = out[:start] + out[end:]
        else:
            out = out[:start] + correction + out[end:]
    return " ".join(out.split())
