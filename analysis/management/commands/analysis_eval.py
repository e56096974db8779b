"""manage.py analysis_eval FILE: score the configured `analysis` profile on reference data.

Reads M2 or JSONL, analyses every sentence through analyse_utterances (the profile's
model, then ERRANT), and prints span-level precision, recall and F0.5 per error type,
the false-alarm rate on sentences that need no change, and seconds per sentence; with
gold families, the adjusted Rand index and purity of clustering the gold edits. The
last line is one JSON summary (--json prints only that).
"""

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis import annotate, evaluation
from analysis.analyser import AnalysisInvalid, analyse_utterances
from analysis.clustering import ErrorPoint, cluster_errors
from analysis.schemas import UtteranceIn

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

    def handle(self, *args, **options):
        rows = _read(options["file"], options["limit"])
        hyps, invalid, seconds, rejected = _analyse(rows)
        refs = [annotate.annotate_pairs([(r.source, c) for c in r.corrections]) for r in rows]
        summary = _summary(rows, hyps, refs, invalid, seconds, rejected)
        if not options["json"]:
            self.stdout.write(_table(summary))
        self.stdout.write(json.dumps(summary, sort_keys=True))


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


def _analyse(rows):
    """Edits per sentence; a chunk the model answers invalidly counts as no edits."""
    per_call = settings.ANALYSIS_UTTERANCES_PER_CALL
    hyps, invalid, rejected = [], 0, 0
    started = time.perf_counter()
    for i in range(0, len(rows), per_call):
        chunk = [
            UtteranceIn(key=str(i + n), text=r.source) for n, r in enumerate(rows[i : i + per_call])
        ]
        try:
            analyses = analyse_utterances(chunk)
        except AnalysisInvalid:
            invalid += len(chunk)
            hyps += [()] * len(chunk)
            continue
        hyps += [a.edits for a in analyses]
        rejected += sum(1 for a in analyses if a.note)
    return hyps, invalid, time.perf_counter() - started, rejected


def _summary(rows, hyps, refs, invalid, seconds, rejected) -> dict:
    scores = evaluation.score(hyps, refs)
    p, r, f = evaluation.prf(*scores.totals())
    alarms, clean = evaluation.false_alarm_rate(rows, hyps)
    per_type = {}
    for kind in scores.types():
        tp, fp, fn = scores.tp[kind], scores.fp[kind], scores.fn[kind]
        tp_p, tp_r, tp_f = evaluation.prf(tp, fp, fn)
        per_type[kind] = {"tp": tp, "fp": fp, "fn": fn, "p": tp_p, "r": tp_r, "f0.5": tp_f}
    tp, fp, fn = scores.totals()
    summary = {
        "sentences": len(rows),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f0.5": round(f, 4),
        "false_alarms": alarms,
        "no_change_sentences": clean,
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
                ErrorPoint(f"{n}:{k}", e.error_type, e.original, e.correction, e.features)
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
