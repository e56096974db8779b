"""Clustering speed: medians of cluster_errors over synthetic analysed errors.

    .venv/bin/python bench/clustering.py            # 1,000 and 10,000 errors
    .venv/bin/python bench/clustering.py --runs 7

Targets (issue #9): 1,000 errors <= 0.2 s, 10,000 <= 1 s. The errors are drawn from
eight families with many distinct edits each (random misspellings make most spelling
errors unique), as a learner's history would hold; no model, no database.
"""

import argparse
import random
import statistics
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.core.clustering import ErrorPoint, cluster_errors

VERBS = [
    ("go", "went"),
    ("buy", "bought"),
    ("see", "saw"),
    ("eat", "ate"),
    ("take", "took"),
    ("watch", "watched"),
    ("play", "played"),
    ("visit", "visited"),
    ("tell", "told"),
    ("give", "gave"),
    ("make", "made"),
    ("come", "came"),
    ("write", "wrote"),
    ("cook", "cooked"),
]
NOUNS = ["brother", "egg", "book", "car", "friend", "day", "match", "country", "song", "city"]
PREPS = [("in", "at"), ("in", "on"), ("to", "at"), ("for", "in"), ("with", "to"), ("since", "for")]
WORDS = [
    "received",
    "weather",
    "football",
    "chicken",
    "library",
    "friend",
    "beautiful",
    "bicycle",
    "because",
    "tomorrow",
    "different",
    "restaurant",
    "especially",
    "believe",
]


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(len(word))
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :]


def _point(rng: random.Random, n: int) -> ErrorPoint:
    family = rng.randrange(8)
    if family == 0:
        o, c = rng.choice(VERBS)
        return _p(n, "verb_tense", o, c, [o], [o], ["VERB"], ["VERB"], ["VBP"], ["VBD"])
    if family == 1:
        o, _ = rng.choice(VERBS)
        return _p(
            n, "subject_verb_agreement", o, o + "s", [o], [o], ["VERB"], ["VERB"], ["VBP"], ["VBZ"]
        )
    if family == 2:
        o = rng.choice(NOUNS)
        return _p(n, "noun_number", o, o + "s", [o], [o], ["NOUN"], ["NOUN"], ["NN"], ["NNS"])
    if family == 3:
        c = rng.choice(["a", "the", "an"])
        return _p(n, "determiner", "", c, [], [c], [], ["DET"], [], ["DT"])
    if family == 4:
        o, c = rng.choice(PREPS)
        return _p(n, "preposition", o, c, [o], [c], ["ADP"], ["ADP"], ["IN"], ["IN"])
    if family == 5:
        c = rng.choice(WORDS)
        o = _typo(rng, c)
        return _p(n, "spelling", o, c, [o], [c], ["NOUN"], ["NOUN"], ["NN"], ["NN"])
    if family == 6:
        return _p(n, "verb_form", "", "to", [], ["to"], [], ["PART"], [], ["TO"])
    o, c = rng.choice([("did", "made"), ("said", "told"), ("lost", "missed"), ("borrow", "lend")])
    return _p(n, "vocabulary", o, c, [o], [c], ["VERB"], ["VERB"], ["VBD"], ["VBD"])


def _p(n, kind, o, c, ol, cl, op, cp, ot, ct) -> ErrorPoint:
    features = {
        "orig_tokens": o.split(),
        "corr_tokens": c.split(),
        "orig_lemmas": ol,
        "corr_lemmas": cl,
        "orig_pos": op,
        "corr_pos": cp,
        "orig_tags": ot,
        "corr_tags": ct,
    }
    return ErrorPoint(key=str(n), error_type=kind, original=o, correction=c, features=features)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cluster_errors([_point(random.Random(0), n) for n in range(50)])  # imports, warm-up
    for size, target in ((1_000, 0.2), (10_000, 1.0)):
        rng = random.Random(size)
        points = [_point(rng, n) for n in range(size)]
        times, cpu, clusters = [], [], 0
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            clusters = len(cluster_errors(points))
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        distinct = len({(p.error_type, p.original, p.correction) for p in points})
        print(
            f"{size:>6} errors ({distinct} distinct): median {statistics.median(times):.3f} s "
            f"wall, {statistics.median(cpu):.3f} s CPU over {args.runs} runs, "
            f"{clusters} clusters (target <= {target} s)"
        )


if __name__ == "__main__":
    main()
