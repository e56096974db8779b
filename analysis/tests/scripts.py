"""Scripted model replies for evaluating the analysis without a model.

`gold` answers every sentence with its reference correction; `noisy` answers a known
share correctly, misses another, and invents a wrong edit on the rest (errors and
error-free sentences alike), so the scores it must reach are known in advance.

    python -m analysis.tests.scripts gold FILE > /tmp/script.json
    LLM_PROVIDER=scripted LLM_SCRIPT_FILE=/tmp/script.json manage.py analysis_eval FILE
"""

import json
import sys
from pathlib import Path

from analysis.core.evaluation import Row, read_rows

# An article slipped in before the last word: one plausible edit that no reference has.
NOISE_WORD = "the"


def reply(corrected: str) -> dict:
    return {"corrected": corrected, "mistakes": [], "level": "B1", "topics": [], "priority": 3}


def noisy_sentence(source: str) -> str:
    words = source.split()
    return " ".join([*words[:-1], NOISE_WORD, words[-1]])


def gold_corrections(rows: list[Row]) -> list[str]:
    return [r.corrections[0] for r in rows]


def noisy_corrections(rows: list[Row]) -> list[str]:
    """Sentences with errors: the first half gold, the next quarter unchanged (missed),
    the last quarter a wrong edit instead of the right one. Error-free sentences: the
    first half unchanged, the rest with a wrong edit (false alarms)."""
    out = []
    wrong = [r for r in rows if not r.needs_no_change]
    clean = [r for r in rows if r.needs_no_change]
    for row in rows:
        group = clean if row.needs_no_change else wrong
        share = group.index(row) / len(group)
        if row.needs_no_change:
            out.append(row.source if share < 0.5 else noisy_sentence(row.source))
        elif share < 0.5:
            out.append(row.corrections[0])
        elif share < 0.75:
            out.append(row.source)
        else:
            out.append(noisy_sentence(row.source))
    return out


def batched(corrections: list[str], per_call: int) -> list[dict]:
    """Queue entries in the order analyse_utterances asks for them."""
    if per_call == 1:
        return [reply(c) for c in corrections]
    chunks = [corrections[i : i + per_call] for i in range(0, len(corrections), per_call)]
    return [
        {"replies": [reply(c) for c in chunk]} if len(chunk) > 1 else reply(chunk[0])
        for chunk in chunks
    ]


def main() -> None:
    kind, path = sys.argv[1], Path(sys.argv[2])
    per_call = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rows = read_rows(path.read_text(encoding="utf-8"))
    corrections = gold_corrections(rows) if kind == "gold" else noisy_corrections(rows)
    entries = [
        {"text": json.dumps(r), "chunk_size": 1_000_000} for r in batched(corrections, per_call)
    ]
    print(json.dumps({"replies": entries}))


if __name__ == "__main__":
    main()
