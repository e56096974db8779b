"""Scoring detectors and their gated combination on reference data (pure helpers for
analysis_eval and analysis_calibrate)."""

from collections.abc import Mapping, Sequence

from analysis.core import calibration, evaluation, gate
from analysis.core.schemas import Edit

COMBINED = "shown"  # the combination: the edits the gate shows


def figures(
    rows: Sequence[evaluation.Row],
    refs: Sequence[Sequence[Sequence[Edit]]],
    hyps: Sequence[Sequence[Edit]],
) -> dict:
    """TP, FP, FN, P, R, F0.5 and false alarms of one set of hypotheses."""
    scores = evaluation.score(hyps, refs)
    tp, fp, fn = scores.totals()
    p, r, f = evaluation.prf(tp, fp, fn)
    alarms, clean = evaluation.false_alarm_rate(rows, hyps)
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f0.5": round(f, 4),
        "false_alarms": alarms,
        "no_change_sentences": clean,
    }


def gate_all(
    edits: Sequence[Mapping[str, Sequence[Edit]]],
    names: Sequence[str],
    table: Mapping,
    keys: Mapping[str, str],
    min_precision: float,
) -> list[tuple[Edit, ...]]:
    """The shown edits of each sentence under `table`."""

    def lookup(detector: str, edit: Edit) -> float | None:
        return calibration.precision(table, keys[detector], edit.error_type, edit.source_type)

    return [
        gate.gate({n: e.get(n, ()) for n in names}, lookup, min_precision=min_precision).shown
        for e in edits
    ]


def header() -> str:
    return (
        f"{'detector':<22}{'TP':>5}{'FP':>5}{'FN':>5}{'P':>7}{'R':>7}{'F0.5':>7}"
        f"{'alarms':>9}{'ms':>9}"
    )


def line(name: str, f: dict, ms: float | None = None) -> str:
    alarms = f"{f['false_alarms']}/{f['no_change_sentences']}"
    timing = "" if ms is None else f"{ms:>9.1f}"
    return (
        f"{name:<22}{f['tp']:>5}{f['fp']:>5}{f['fn']:>5}{f['precision']:>7.3f}"
        f"{f['recall']:>7.3f}{f['f0.5']:>7.3f}{alarms:>9}{timing}"
    )
