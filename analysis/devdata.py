"""Where the learner-English development set lives, and reading it.

settings.ANALYSIS_DEV_DATA names the folder (default: `shared/data/learner-english-dev`
beside the repository, else /work/shared/data/learner-english-dev). It holds
dev_sentences.jsonl (learner sentences with four references), dev_clean.jsonl (sentences
needing no change) and dev_families.jsonl; see its README. The data is for development
and evaluation only: it is not part of the product's package.
"""

import hashlib
from pathlib import Path

from django.conf import settings

from analysis.core import evaluation

SENTENCES, CLEAN, FAMILIES = "dev_sentences.jsonl", "dev_clean.jsonl", "dev_families.jsonl"
CALIBRATION_FILES = (SENTENCES, CLEAN)


class DevDataMissing(FileNotFoundError):
    pass


def folder(path: str | Path | None = None) -> Path:
    """The development set's folder; DevDataMissing (saying where it looked) if absent."""
    found = Path(path or settings.ANALYSIS_DEV_DATA)
    if not (found / SENTENCES).is_file():
        raise DevDataMissing(
            f"the learner-English development set is not at {found} (no {SENTENCES}); "
            "set ANALYSIS_DEV_DATA to its folder"
        )
    return found


def rows(name: str, path: str | Path | None = None) -> list[evaluation.Row]:
    return evaluation.read_rows((folder(path) / name).read_text(encoding="utf-8"))


def digest(name: str, path: str | Path | None = None) -> str:
    return hashlib.sha256((folder(path) / name).read_bytes()).hexdigest()[:16]
