"""Detectors: each proposes corrections of learner sentences; ERRANT types them.

A detector is a plain function, registered here by name like the model providers of
`llm.providers` (name -> dotted path, imported on first use). A new detector is a module
with a `detect` function and one line in DETECTORS.

    def detect(texts: Sequence[str], **context) -> list[list[str]]

For each text, in order, the corrected versions it proposes: a list of whole corrected
sentences, usually one, empty when it finds nothing (a proposal equal to the text counts
as nothing). `context` carries what a detector may use and others ignore: `user`,
`learner_level`, `target_language`, `contexts` (per text, the `ContextLine`s before it).
Detectors never raise for a sentence they cannot handle; they propose nothing for it.
What a proposal means (spans, types) comes from `analysis.core.annotate`; whether the learner
sees it, from the calibrated precision of its detector (`analysis.core.gate`).
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings

from core.registry import Registry

Detect = Callable[..., list[list[str]]]

DETECTORS: Registry[Detect] = Registry(
    "detector",
    {
        "harper": "analysis.detectors.harper.detect",
        "spelling": "analysis.detectors.spelling.detect",
        "rules": "analysis.detectors.rules.detect",
        "model": "analysis.detectors.model.detect",
    },
)

# Detectors that call a language model: the batch pass runs them, the per-message
# (model-free) pass never does.
MODEL_DETECTORS = frozenset({"model"})


def get(name: str) -> Detect:
    """The detector's function, imported on first use."""
    return DETECTORS.get(name)


def configured(*, model: bool = True) -> tuple[str, ...]:
    """The detectors settings.ANALYSIS_DETECTORS names, in order; without the model
    detectors when `model` is False."""
    names = tuple(settings.ANALYSIS_DETECTORS)
    return tuple(n for n in names if model or n not in MODEL_DETECTORS)


def parse_names(text: str) -> tuple[str, ...]:
    """ "harper,spelling" -> ("harper", "spelling"), each checked against the registry."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    for name in names:
        DETECTORS.check(name)
    return names


def propose(
    texts: Sequence[str], names: Sequence[str], **context: Any
) -> dict[str, list[list[str]]]:
    """Each named detector's proposals for the texts: {name: [[corrected, ...], ...]},
    proposals equal to their text dropped."""
    out = {}
    for name in names:
        found = get(name)(list(texts), **context)
        if len(found) != len(texts):
            raise ValueError(f"detector {name} answered {len(found)} of {len(texts)} texts")
        out[name] = [
            list(dict.fromkeys(p for p in proposals if p and p != text))
            for text, proposals in zip(texts, found, strict=True)
        ]
    return out


def warm(names: Sequence[str] | None = None) -> None:
    """Load the model-free detectors' resources now (a worker's start-up)."""
    for name in names or configured(model=False):
        if name not in MODEL_DETECTORS:
            get(name)(["She have two brother."])
