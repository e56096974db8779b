"""manage.py analysis_eval FILE: score what a learner is told on reference data.

Reads M2 or JSONL and runs each detector (analysis.detectors; settings.ANALYSIS_DETECTORS
or --detectors, --no-model to leave the model out) on every sentence, one at a time as
messages arrive. Prints each detector's own figures (all its edits, before the gate) and
those of the combination the learner sees (the edits the precision gate shows, or with
--no-gate all edits of the chosen detectors): span-level precision, recall and F0.5 per
error type, the false-alarm rate on sentences that need no change, milliseconds per
sentence, and the model-free pass's p50/p95; with gold families, the adjusted Rand index
and purity of clustering the gold edits. The last line is one JSON summary (--json prints
only that).
"""

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis import detectors, marks
from analysis.core import annotate, evaluation, scoring
from analysis.core.clustering import ErrorPoint, cluster_errors
from analysis.core.schemas import UtteranceIn

MAX_FILE_BYTES = 50 * 1024 * 1024


class Command(BaseCommand):
    help = "Score the analysis profile on M2 or JSONL learner sentences with references."
    # The profile and the call accounting live in the database: on a fresh one, say
    # "run migrate" before the first query fails with a missing table.
    requires_migrations_checks = True

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--json", action="store_true", help="print only the JSON summary")
        parser.add_argument("--limit", type=int, default=0, help="only the first N sentences")
        parser.add_argument(
            "--detectors", default="", help="comma-separated (default: ANALYSIS_DETECTORS)"
        )
        parser.add_argument("--no-model", action="store_true", help="leave the model out")
        parser.add_argument(
            "--no-gate", action="store_true", help="score every edit of the chosen detectors"
        )

    def handle(self, *args, **options):
        rows = _read(options["file"], options["limit"])
        try:
            names = _names(options)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        found = _analyse(rows, names, gated=not options["no_gate"])
        refs = [annotate.annotate_pairs([(r.source, c) for c in r.corrections]) for r in rows]
        summary = _summary(
            rows, found["shown"], refs, found["invalid"], found["seconds"], found["rejected"]
        )
        summary["detectors"] = {
            name: {
                **scoring.figures(rows, refs, [e[name] for e in found["edits"]]),
                "ms_per_sentence": round(1000 * found["detector_seconds"][name] / len(rows), 2),
            }
            for name in names
        }
        summary["gated"] = not options["no_gate"]
        summary["model_free_ms"] = found["model_free_ms"]
        if not options["json"]:
            self.stdout.write(_detector_table(summary))
            self.stdout.write(_table(summary))
        self.stdout.write(json.dumps(summary, sort_keys=True))


def _names(options) -> tuple[str, ...]:
    if options["detectors"]:
        names = detectors.parse_names(options["detectors"])
    else:
        names = detectors.configured(model=True)
    if options["no_model"]:
        names = tuple(n for n in names if n not in detectors.MODEL_DETECTORS)
    if not names:
        raise ValueError("no detectors to run")
    return names


def _read(path: Path, limit: int):
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CommandError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB")
    try:
        rows = evaluation.read_rows(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: {exc}") from exc
    if limit < 0:
        raise CommandError("--limit must be 0 (all) or more")
    rows = rows[:limit] if limit else rows
    if not rows:
        raise CommandError(f"{path}: no sentences")
    return rows


def _analyse(rows, names, *, gated: bool) -> dict:
    """Every detector's edits per sentence and what is shown. The model-free detectors
    run sentence by sentence as the per-message pass does (each timed with its gate);
    the model by ANALYSIS_UTTERANCES_PER_CALL. A sentence the model fails on counts as
    invalid and keeps its model-free edits."""
    free = [n for n in names if n not in detectors.MODEL_DETECTORS]
    model = [n for n in names if n in detectors.MODEL_DETECTORS]
    table = marks.calibration_table()
    annotate.warm()
    detectors.warm(free)  # loading dictionaries is no sentence's cost
    started = time.perf_counter()
    edits, per_sentence = [], []
    detector_seconds = dict.fromkeys(names, 0.0)
    for n, row in enumerate(rows):
        began = time.perf_counter()
        found = marks.collect([UtteranceIn(key=str(n), text=row.source)], free)
        if gated and free:
            marks.gated(found, free, table=table)
        per_sentence.append(time.perf_counter() - began)
        edits.append(found.edits[0])
        for name in free:
            detector_seconds[name] += found.seconds.get(name, 0.0)
    invalid = rejected = 0
    per_call = settings.ANALYSIS_UTTERANCES_PER_CALL
    for name in model:
        for i in range(0, len(rows), per_call):
            chunk = [
                UtteranceIn(key=str(i + k), text=r.source)
                for k, r in enumerate(rows[i : i + per_call])
            ]
            found = marks.collect(chunk, [name])
            detector_seconds[name] += found.seconds.get(name, 0.0)
            for k, analysis in enumerate(found.model.analyses):
                edits[i + k][name] = found.edits[k][name]
                invalid += analysis is None
                rejected += bool(analysis is not None and analysis.note)
    if gated:
        shown = [g.shown for g in marks.gated(marks.Collected([], edits), names, table=table)]
    else:
        shown = [tuple(e for name in names for e in found_edits[name]) for found_edits in edits]
    per_sentence.sort()
    return {
        "edits": edits,
        "shown": shown,
        "invalid": invalid,
        "rejected": rejected,
        "seconds": time.perf_counter() - started,
        "detector_seconds": detector_seconds,
        "model_free_ms": {
            "p50": round(1000 * per_sentence[len(per_sentence) // 2], 2),
            "p95": round(
                1000 * per_sentence[min(len(per_sentence) - 1, int(0.95 * len(per_sentence)))], 2
            ),
        }
        if free
        else {},
    }


def _summary(rows, hyps, refs, invalid, seconds, rejected) -> dict:
    scores = evaluation.score(hyps, refs)
    per_type = {}
    for kind in scores.types():
        tp, fp, fn = scores.tp[kind], scores.fp[kind], scores.fn[kind]
        tp_p, tp_r, tp_f = evaluation.prf(tp, fp, fn)
        per_type[kind] = {"tp": tp, "fp": fp, "fn": fn, "p": tp_p, "r": tp_r, "f0.5": tp_f}
    totals = scoring.figures(rows, refs, hyps)
    alarms, clean = totals["false_alarms"], totals["no_change_sentences"]
    summary = {
        "sentences": len(rows),
        **totals,
        "false_alarm_rate": round(alarms / clean, 4) if clean else None,
        "invalid": invalid,
        "rejected": rejected,
        "seconds_per_sentence": round(seconds / len(rows), 4),
        "per_type": {k: {m: round(v, 4) for m, v in d.items()} for k, d in per_type.items()},
    }
    summary.update(_clustering(rows, refs))
    return summary


def _clustering(rows, refs) -> dict:
    """Cluster the gold edits (first reference) and compare with the gold families."""
    points, families = [], []
    for n, (row, sentence_refs) in enumerate(zip(rows, refs, strict=True)):
        if not row.family:
            continue
        for k, e in enumerate(sentence_refs[0]):
            points.append(
                ErrorPoint(
                    f"{n}:{k}",
                    e.error_type,
                    e.original,
                    e.correction,
                    e.features,
                    source_type=e.source_type,
                )
            )
            families.append(row.family)
    if len(points) < 2:
        return {}
    from sklearn.metrics import adjusted_rand_score

    label = {key: c.label for c in cluster_errors(points) for key in c.keys}
    predicted = [label[p.key] for p in points]
    return {
        "clustered_edits": len(points),
        "clusters": len(set(predicted)),
        "families": len(set(families)),
        "ari": round(adjusted_rand_score(families, predicted), 4),
        "purity": round(evaluation.purity(families, predicted), 4),
    }


def _detector_table(s: dict) -> str:
    lines = [scoring.header()]
    for name, figures in s["detectors"].items():
        lines.append(scoring.line(name, figures, figures["ms_per_sentence"]))
    label = scoring.COMBINED if s["gated"] else "all edits"
    lines.append(scoring.line(label, s, 1000 * s["seconds_per_sentence"]))
    if s["model_free_ms"]:
        lines.append(
            f"model-free pass per sentence (detectors, ERRANT, gate): "
            f"p50 {s['model_free_ms']['p50']:.1f} ms, p95 {s['model_free_ms']['p95']:.1f} ms"
        )
    return "\n".join(lines) + "\n"


def _table(s: dict) -> str:
    lines = [f"{'type':<24}{'TP':>5}{'FP':>5}{'FN':>5}{'P':>8}{'R':>8}{'F0.5':>8}"]
    for kind, d in s["per_type"].items():
        lines.append(
            f"{kind:<24}{d['tp']:>5}{d['fp']:>5}{d['fn']:>5}"
            f"{d['p']:>8.3f}{d['r']:>8.3f}{d['f0.5']:>8.3f}"
        )
    lines.append(
        f"{'all':<24}{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}"
        f"{s['precision']:>8.3f}{s['recall']:>8.3f}{s['f0.5']:>8.3f}"
    )
    rate = "n/a" if s["false_alarm_rate"] is None else f"{s['false_alarm_rate']:.1%}"
    lines.append(
        f"false alarms: {s['false_alarms']} of {s['no_change_sentences']} sentences needing "
        f"no change ({rate}); invalid replies: {s['invalid']}; corrections rejected: "
        f"{s['rejected']}; {s['seconds_per_sentence']:.3f} s per sentence"
    )
    if "ari" in s:
        lines.append(
            f"clustering {s['clustered_edits']} gold edits: {s['clusters']} clusters for "
            f"{s['families']} families, adjusted Rand index {s['ari']:.3f}, "
            f"purity {s['purity']:.3f}"
        )
    return "\n".join(lines)
