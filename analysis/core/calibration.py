"""Calibrated precision per detector and kind of mistake. Pure: no ORM, no model.

`manage.py analysis_calibrate` runs each detector on the development set, scores its
edits against the references as `analysis_eval` does (per sentence the reference giving
the best running F0.5; on sentences needing no change every edit is wrong), and writes
the table the product reads (settings.ANALYSIS_CALIBRATION_FILE):

    {"version": 1, "prior": {"mean": 0.5, "strength": 8},
     "detectors": {"harper": {"tp": 190, "fp": 80, "precision": 0.70, "data": {...},
        "families": {"spelling": {"tp": 120, "fp": 60, "precision": 0.66,
            "subtypes": {"R:SPELL": {"tp": 118, "fp": 57, "precision": 0.67}}}}}}}

Precision is smoothed with a Beta prior centred on the level above: a detector's
overall precision is pulled towards `prior.mean`, a family's towards its detector's, an
ERRANT subtype's towards its family's, each by `prior.strength` pseudo-edits (a family or
subtype seen fewer than MIN_EDITS_TO_INHERIT times is pulled towards `prior.mean`). So 2 right
of 2 in a family of a detector that is right half the time reads (2 + 4) / (2 + 8) = 0.6,
not 1.0, while 40 of 50 reads (40 + 4) / (50 + 8) = 0.76. The product reads the
subtype's precision when the table has it, else the family's; a family the detector
never proposed on the data has no precision (None): shown only when another detector
agrees.
"""

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.core import evaluation
from analysis.core.schemas import Edit

VERSION = 1
PRIOR_MEAN = 0.5
PRIOR_STRENGTH = 8.0
# A family or subtype seen fewer times than this is pulled towards PRIOR_MEAN, not towards
# its (maybe very precise) detector: one wrong edit of a kind must not read 0.7.
MIN_EDITS_TO_INHERIT = 3

Counts = dict[str, dict[str, list[int]]]  # family -> subtype -> [tp, fp]


def count(hyps: Sequence[Sequence[Edit]], refs: Sequence[Sequence[Sequence[Edit]]]) -> Counts:
    """TP and FP of one detector's edits by family and ERRANT subtype, each sentence
    scored against the reference errant_compare would choose (as analysis_eval does)."""
    counts: Counts = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    running = (0, 0, 0)
    for hyp, sentence_refs in zip(hyps, refs, strict=True):
        chosen = sentence_refs[evaluation.best_reference(running, hyp, sentence_refs)]
        right = {evaluation.edit_key(e) for e in chosen}
        scores = evaluation.Scores()
        scores.add(hyp, chosen)
        running = tuple(a + b for a, b in zip(running, scores.totals(), strict=True))
        for edit in hyp:
            cell = counts[edit.error_type][edit.source_type]
            cell[0 if evaluation.edit_key(edit) in right else 1] += 1
    return {family: dict(subtypes) for family, subtypes in counts.items()}


def merge_counts(a: Counts, b: Counts) -> Counts:
    out: Counts = {f: {s: list(c) for s, c in subs.items()} for f, subs in a.items()}
    for family, subtypes in b.items():
        for subtype, (tp, fp) in subtypes.items():
            cell = out.setdefault(family, {}).setdefault(subtype, [0, 0])
            cell[0] += tp
            cell[1] += fp
    return out


def smoothed(tp: int, fp: int, mean: float, strength: float = PRIOR_STRENGTH) -> float:
    """The posterior mean of precision under a Beta prior of this mean and strength."""
    return (tp + strength * mean) / (tp + fp + strength)


def detector_entry(counts: Counts, *, mean: float = PRIOR_MEAN, strength: float = PRIOR_STRENGTH):
    """One detector's row of the table, from its counts."""
    tp = sum(c[0] for subs in counts.values() for c in subs.values())
    fp = sum(c[1] for subs in counts.values() for c in subs.values())
    overall = smoothed(tp, fp, mean, strength)
    families = {}
    for family in sorted(counts):
        subs = counts[family]
        f_tp, f_fp = sum(c[0] for c in subs.values()), sum(c[1] for c in subs.values())
        f_precision = smoothed(f_tp, f_fp, _inherited(overall, f_tp + f_fp, mean), strength)
        families[family] = {
            "tp": f_tp,
            "fp": f_fp,
            "precision": round(f_precision, 4),
            "subtypes": {
                subtype: {
                    "tp": s_tp,
                    "fp": s_fp,
                    "precision": round(
                        smoothed(s_tp, s_fp, _inherited(f_precision, s_tp + s_fp, mean), strength),
                        4,
                    ),
                }
                for subtype, (s_tp, s_fp) in sorted(subs.items())
            },
        }
    return {"tp": tp, "fp": fp, "precision": round(overall, 4), "families": families}


def _inherited(parent: float, edits: int, mean: float) -> float:
    return parent if edits >= MIN_EDITS_TO_INHERIT else mean


def rebuilt(table: Mapping) -> dict:
    """The table's precisions computed again from its own counts (same data, this code's
    smoothing), each detector keeping what it was calibrated on."""
    out = {"version": VERSION, "prior": {"mean": PRIOR_MEAN, "strength": PRIOR_STRENGTH}}
    out["detectors"] = {}
    for name, entry in sorted(table.get("detectors", {}).items()):
        counts = {
            family: {sub: [c["tp"], c["fp"]] for sub, c in cell["subtypes"].items()}
            for family, cell in entry["families"].items()
        }
        out["detectors"][name] = {**detector_entry(counts), "data": entry.get("data", {})}
    return out


def build_table(
    counts_by_detector: Mapping[str, Counts],
    *,
    data: Mapping[str, Any] | None = None,
    strength: float = PRIOR_STRENGTH,
    mean: float = PRIOR_MEAN,
) -> dict:
    """The table for these detectors; `data` says what they were calibrated on (kept
    in each detector's row: rows of one detector may come from another run)."""
    return {
        "version": VERSION,
        "prior": {"mean": mean, "strength": strength},
        "detectors": {
            name: {
                **detector_entry(counts_by_detector[name], mean=mean, strength=strength),
                "data": dict(data or {}),
            }
            for name in sorted(counts_by_detector)
        },
    }


def precision(table: Mapping, detector: str, family: str, subtype: str = "") -> float | None:
    """The calibrated precision of `detector` for this kind of mistake, or None."""
    entry = table.get("detectors", {}).get(detector)
    if entry is None:
        return None
    cell = entry["families"].get(family)
    if cell is None:
        return None
    sub = cell["subtypes"].get(subtype)
    return sub["precision"] if sub is not None else cell["precision"]


def dumps(table: Mapping) -> str:
    """The table as the file holds it: stable key order, one trailing newline."""
    return json.dumps(table, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def loads_same(text: str, table: Mapping) -> bool:
    """Whether `text` (as dumps wrote it) holds exactly `table`."""
    return json.loads(text) == json.loads(json.dumps(table))


def load(path: Path) -> dict:
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": VERSION, "detectors": {}}
    if table.get("version") != VERSION:
        raise ValueError(f"{path}: calibration table version {table.get('version')!r}")
    return table


def halves(n: int) -> tuple[list[int], list[int]]:
    """A fixed two-fold split of n rows (alternate rows), for cross-validation."""
    return list(range(0, n, 2)), list(range(1, n, 2))
