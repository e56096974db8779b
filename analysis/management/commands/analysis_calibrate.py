"""manage.py analysis_calibrate: the calibration table the precision gate reads.

Runs each detector on the development set (dev_sentences.jsonl and dev_clean.jsonl in
settings.ANALYSIS_DEV_DATA or --data), counts its right and wrong edits per family and
ERRANT subtype as analysis_eval scores them, and writes the smoothed table
(analysis.core.calibration) to settings.ANALYSIS_CALIBRATION_FILE or --output. Detectors not
run keep their rows. --cv also reports what calibration on one half of the data gives on
the other half (both ways): the honest estimate for sentences the table never saw.
"""

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis import detectors, devdata, marks
from analysis.core import annotate, calibration, scoring
from analysis.core.schemas import UtteranceIn


class Command(BaseCommand):
    help = "Calibrate each detector's precision on the learner-English development set."
    requires_migrations_checks = True

    def add_arguments(self, parser):
        parser.add_argument("--data", default="", help="the development set's folder")
        parser.add_argument("--output", default="", help="the table (default: the setting)")
        parser.add_argument(
            "--detectors", default="", help="comma-separated (default: ANALYSIS_DETECTORS)"
        )
        parser.add_argument("--no-model", action="store_true", help="leave the model out")
        parser.add_argument("--cv", action="store_true", help="report two-fold held-out figures")
        parser.add_argument("--limit", type=int, default=0, help="first N rows of each file")

    def handle(self, *args, **options):
        try:
            names = _names(options)
            folder = devdata.folder(options["data"] or None)
        except (ValueError, devdata.DevDataMissing) as exc:
            raise CommandError(str(exc)) from exc
        data = load(folder, options["limit"])
        self.stderr.write(
            f"running {', '.join(names)} on {sum(len(r) for r, _ in data.values())} sentences"
        )
        runs = {name: run(rows, names) for name, (rows, _) in data.items()}
        keys = {name: marks.detector_key(name) for name in names}
        counts = {keys[n]: _counts(data, runs, n, None) for n in names}
        output = Path(options["output"] or settings.ANALYSIS_CALIBRATION_FILE)
        table = calibration.load(output)
        about = {name: {"rows": len(rows)} for name, (rows, _) in data.items()}
        for name in about:
            if options["limit"]:
                about[name]["limit"] = options["limit"]
            else:
                about[name]["sha256"] = devdata.digest(name, folder)
        fresh = calibration.build_table(counts, data=about)
        kept = {k: v for k, v in table.get("detectors", {}).items() if k not in fresh["detectors"]}
        fresh["detectors"] = dict(sorted({**kept, **fresh["detectors"]}.items()))
        output.write_text(calibration.dumps(fresh), encoding="utf-8")
        self.stdout.write(_table_text(fresh, keys.values()))
        summary = {"table": str(output), "detectors": list(keys.values())}
        if options["cv"]:
            report = cross_validate(data, runs, names, keys)
            self.stdout.write(report["text"])
            summary["cv"] = report["figures"]
        self.stdout.write(json.dumps(summary, sort_keys=True))


def _names(options) -> tuple[str, ...]:
    names = (
        detectors.parse_names(options["detectors"])
        if options["detectors"]
        else detectors.configured(model=True)
    )
    if options["no_model"]:
        names = tuple(n for n in names if n not in detectors.MODEL_DETECTORS)
    if not names:
        raise ValueError("no detectors to calibrate")
    return names


def load(folder: Path, limit: int = 0) -> dict:
    """{file: (rows, refs)} for the calibration files."""
    out = {}
    for name in devdata.CALIBRATION_FILES:
        rows = devdata.rows(name, folder)
        rows = rows[:limit] if limit else rows
        refs = [annotate.annotate_pairs([(r.source, c) for c in r.corrections]) for r in rows]
        out[name] = (rows, refs)
    return out


def run(rows, names) -> dict:
    """Every detector's edits per row, one sentence at a time (as a message arrives),
    and the seconds each detector took per sentence."""
    edits, seconds = [], {}
    for n, row in enumerate(rows):
        started = time.perf_counter()
        found = marks.collect([UtteranceIn(key=str(n), text=row.source)], names)
        total = time.perf_counter() - started
        edits.append(found.edits[0])
        for name, s in found.seconds.items():
            seconds.setdefault(name, []).append(s)
        seconds.setdefault("total", []).append(total)
    return {"edits": edits, "seconds": seconds}


def _counts(data, runs, name, range_of):
    counts = {}
    for file, (rows, refs) in data.items():
        index = range(len(rows)) if range_of is None else range_of[file]
        hyps = [runs[file]["edits"][i][name] for i in index]
        counts = calibration.merge_counts(counts, calibration.count(hyps, [refs[i] for i in index]))
    return counts


def cross_validate(data, runs, names, keys, *, min_precision: float | None = None) -> dict:
    """In-sample and two-fold held-out figures of each detector gated alone and of the
    combination, per file."""
    bar = settings.ANALYSIS_MIN_PRECISION if min_precision is None else min_precision
    folds = {file: calibration.halves(len(rows)) for file, (rows, _) in data.items()}
    tables = {"in-sample": None, "held-out": []}
    full = calibration.build_table({keys[n]: _counts(data, runs, n, None) for n in names})
    for k in (0, 1):
        train = {file: folds[file][k] for file in data}
        tables["held-out"].append(
            calibration.build_table({keys[n]: _counts(data, runs, n, train) for n in names})
        )
    figures, lines = {}, []
    groups = [(n, (n,)) for n in names] + [(scoring.COMBINED, tuple(names))]
    for file, (rows, refs) in data.items():
        edits = runs[file]["edits"]
        lines.append(f"\n{file} ({len(rows)} sentences)")
        lines.append(scoring.header())
        for label, members in groups:
            raw = [tuple(e for n in members for e in edits[i][n]) for i in range(len(rows))]
            inside = scoring.gate_all(edits, members, full, keys, bar)
            held_out: list = [()] * len(rows)
            for k in (0, 1):
                for i in folds[file][1 - k]:
                    held_out[i] = scoring.gate_all(
                        [edits[i]], members, tables["held-out"][k], keys, bar
                    )[0]
            entry = {
                "in-sample": scoring.figures(rows, refs, inside),
                "held-out": scoring.figures(rows, refs, held_out),
            }
            if label != scoring.COMBINED:
                entry["ungated"] = scoring.figures(rows, refs, raw)
            figures.setdefault(file, {})[label] = entry
            for kind in ("ungated", "in-sample", "held-out"):
                if kind in entry:
                    lines.append(scoring.line(f"{label} {kind}", entry[kind]))
    return {"figures": figures, "text": "\n".join(lines)}


def _table_text(table, keys) -> str:
    lines = [f"{'detector / family':<40}{'TP':>5}{'FP':>5}{'precision':>11}"]
    for key in keys:
        entry = table["detectors"][key]
        lines.append(f"{key:<40}{entry['tp']:>5}{entry['fp']:>5}{entry['precision']:>11.3f}")
        for family, cell in entry["families"].items():
            lines.append(f"  {family:<38}{cell['tp']:>5}{cell['fp']:>5}{cell['precision']:>11.3f}")
    return "\n".join(lines)
