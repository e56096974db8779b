"""Scoring the analysis against reference corrections, as ERRANT's own comparison does.

Pure functions over plain data (the command reads files and calls the model): reading
M2 and JSONL, span-level true/false positives and negatives per error type, choosing per
sentence the reference that maximises the running F0.5 (errant_compare's rule), false
alarms on sentences that need no change, and clustering agreement with gold families.
"""

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from analysis.core.schemas import Edit

BETA = 0.5


@dataclass(frozen=True)
class Row:
    source: str
    corrections: tuple[str, ...]  # one per annotator; == (source,) when nothing to fix
    family: str = ""

    @property
    def needs_no_change(self) -> bool:
        return any(c == self.source for c in self.corrections)


# -- reading ---------------------------------------------------------------------------


def read_rows(text: str) -> list[Row]:
    """JSONL ({"source", "corrections", "family"?} per line) or M2, told apart by content."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return read_jsonl(text) if first.lstrip().startswith("{") else read_m2(text)


def read_jsonl(text: str) -> list[Row]:
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            corrections = tuple(data.get("corrections") or [data["source"]])
            rows.append(Row(data["source"], corrections, data.get("family") or ""))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {n}: not a JSONL row with a source ({exc})") from exc
    return rows


def read_m2(text: str) -> list[Row]:
    """M2: an "S tokens" line, then "A start end|||type|||correction|||...|||annotator"
    lines, a blank line between sentences. Each annotator's edits make one correction."""
    rows = []
    for block in text.strip().split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines or not lines[0].startswith("S "):
            raise ValueError(f"an M2 block must start with 'S ': {block[:60]!r}")
        tokens = lines[0][2:].split()
        by_annotator: dict[str, list[tuple[int, int, str]]] = {}
        for line in lines[1:]:
            span, kind, correction, *_rest, annotator = line[2:].split("|||")
            start, end = (int(x) for x in span.split())
            edits = by_annotator.setdefault(annotator, [])
            if kind not in ("noop", "UNK") and start >= 0:
                edits.append((start, end, correction))
        corrections = tuple(_apply(tokens, e) for _, e in sorted(by_annotator.items()))
        rows.append(Row(" ".join(tokens), corrections or (" ".join(tokens),)))
    return rows


def _apply(tokens: list[str], edits: list[tuple[int, int, str]]) -> str:
    out = list(tokens)
    for start, end, correction in sorted(edits, reverse=True):
        out[start:end] = correction.split()
    return " ".join(out)


# -- scoring ---------------------------------------------------------------------------


def edit_key(edit: Edit) -> tuple[int, int, str]:
    """Span-level correction, ERRANT's default: same span, same correction."""
    return (edit.start, edit.end, edit.correction)


@dataclass
class Scores:
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)

    def add(self, hyp: Sequence[Edit], ref: Sequence[Edit]) -> None:
        ref_keys = {edit_key(e) for e in ref}
        hyp_keys = {edit_key(e) for e in hyp}
        for e in hyp:
            (self.tp if edit_key(e) in ref_keys else self.fp)[e.error_type] += 1
        for e in ref:
            if edit_key(e) not in hyp_keys:
                self.fn[e.error_type] += 1

    def totals(self) -> tuple[int, int, int]:
        return sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())

    def types(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))


def prf(tp: int, fp: int, fn: int, beta: float = BETA) -> tuple[float, float, float]:
    """Precision, recall, F-beta as errant_compare computes them (1.0 when undefined)."""
    p = tp / (tp + fp) if fp else 1.0
    r = tp / (tp + fn) if fn else 1.0
    f = ((1 + beta**2) * p * r) / (beta**2 * p + r) if p + r else 0.0
    return p, r, f


def best_reference(
    running: tuple[int, int, int], hyp: Sequence[Edit], refs: Sequence[Sequence[Edit]]
) -> int:
    """Index of the reference that gives the best running F0.5 (then more TP, fewer FP,
    fewer FN), as errant_compare chooses among annotators."""

    def rank(ref: Sequence[Edit]) -> tuple[float, int, int, int]:
        s = Scores()
        s.add(hyp, ref)
        tp, fp, fn = (a + b for a, b in zip(running, s.totals(), strict=True))
        return (prf(tp, fp, fn)[2], tp, -fp, -fn)

    return max(range(len(refs)), key=lambda i: rank(refs[i]))


def score(hyps: Sequence[Sequence[Edit]], refs: Sequence[Sequence[Sequence[Edit]]]) -> Scores:
    scores = Scores()
    for hyp, sentence_refs in zip(hyps, refs, strict=True):
        chosen = sentence_refs[best_reference(scores.totals(), hyp, sentence_refs)]
        scores.add(hyp, chosen)
    return scores


def false_alarm_rate(rows: Sequence[Row], hyps: Sequence[Sequence[Edit]]) -> tuple[int, int]:
    """(sentences needing no change that got an edit, sentences needing no change)."""
    clean = [bool(h) for row, h in zip(rows, hyps, strict=True) if row.needs_no_change]
    return sum(clean), len(clean)


def purity(truth: Iterable[str], predicted: Iterable[int]) -> float:
    pairs = list(zip(truth, predicted, strict=True))
    if not pairs:
        return 0.0
    by_cluster: dict[int, Counter] = {}
    for t, p in pairs:
        by_cluster.setdefault(p, Counter())[t] += 1
    return sum(c.most_common(1)[0][1] for c in by_cluster.values()) / len(pairs)
