"""The model-free pass per sentence: detectors, ERRANT typing and the precision gate.

    .venv/bin/python bench/detectors.py [--runs 3] [--limit 0] [--data DIR]

Each learner sentence of dev_sentences.jsonl goes through analysis.marks.model_free_pass
alone, as a stored message would; resources are loaded first (a worker's warm-up). Each
run prints p50 and p95 per sentence (wall clock, and this process's CPU time, which a busy
machine inflates far less) and each detector's and ERRANT's share; the last line is the
median over runs. Target (issue #17): p95 <= 50 ms, goal 20 ms.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--data", default="")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from analysis import detectors, devdata, marks
    from analysis.core import annotate
    from analysis.core.schemas import UtteranceIn
    from analysis.detectors import harper

    rows = devdata.rows(devdata.SENTENCES, args.data or None)
    rows = rows[: args.limit] if args.limit else rows
    names = detectors.configured(model=False)
    annotate.warm()
    detectors.warm(names)
    table = marks.calibration_table()
    summaries = []
    for run in range(args.runs):
        # Harper keeps what it linted: a run over sentences it has seen is no measure.
        harper._linters.clear()
        detectors.warm(names)
        totals, cpu, parts = [], [], {}
        for n, row in enumerate(rows):
            utterance = [UtteranceIn(key=str(n), text=row.source)]
            started, cpu_started = time.perf_counter(), time.process_time()
            collected = marks.collect(utterance, names)
            marks.gated(collected, names, table=table)
            totals.append(1000 * (time.perf_counter() - started))
            cpu.append(1000 * (time.process_time() - cpu_started))
            for name, seconds in collected.seconds.items():
                parts.setdefault(name, []).append(1000 * seconds)
        summary = {
            "run": run + 1,
            "sentences": len(rows),
            "p50_ms": round(percentile(totals, 0.5), 2),
            "p95_ms": round(percentile(totals, 0.95), 2),
            # CPU time of this process: what the pass costs when it is not kept waiting
            # by other processes on a busy machine.
            "cpu_p50_ms": round(percentile(cpu, 0.5), 2),
            "cpu_p95_ms": round(percentile(cpu, 0.95), 2),
            "parts_p50_ms": {k: round(percentile(v, 0.5), 2) for k, v in parts.items()},
            "parts_p95_ms": {k: round(percentile(v, 0.95), 2) for k, v in parts.items()},
            "load_average": round(os.getloadavg()[0], 2),
        }
        summaries.append(summary)
        print(json.dumps(summary, sort_keys=True), flush=True)
    print(
        json.dumps(
            {
                "median_p50_ms": statistics.median(s["p50_ms"] for s in summaries),
                "median_p95_ms": statistics.median(s["p95_ms"] for s in summaries),
                "median_cpu_p50_ms": statistics.median(s["cpu_p50_ms"] for s in summaries),
                "median_cpu_p95_ms": statistics.median(s["cpu_p95_ms"] for s in summaries),
                "detectors": list(names),
            },
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main()
