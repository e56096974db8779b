"""What a learner is told about their English: detectors, ERRANT, the precision gate.

Two passes use it. The model-free pass (`model_free_pass`) runs on each learner message
as soon as it is stored: the detectors that need no model, ERRANT over their proposals,
the gate. The model pass (`model_pass`) runs on a batch: the same detectors plus the
model of the `analysis` profile, whose level, topics, priority and explanations it keeps;
a model that fails leaves the model-free edits standing and says so in `failures` (for
staff). Both return `UtteranceAnalysis` objects whose `edits` are the shown edits and
whose `held` are the rest.
"""

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.conf import settings

import llm
from analysis import detectors
from analysis.core import annotate, calibration, taxonomy
from analysis.core.gate import Gated, Precision, apply_edits, gate
from analysis.core.schemas import Edit, UtteranceAnalysis, UtteranceIn
from analysis.detectors import model as model_detector

Edits = dict[str, tuple[Edit, ...]]  # detector name -> its edits of one sentence


@dataclass
class Collected:
    """Every detector's edits of each utterance, before the gate."""

    languages: list[str]
    edits: list[Edits]
    model: Any = None  # detectors.model.ModelAnalyses when the model ran
    seconds: dict[str, float] = field(default_factory=dict)  # per detector, and "errant"


@dataclass
class ModelPass:
    analyses: list[UtteranceAnalysis]
    failures: list[str]  # the model's failures, for staff; the learner never sees them


# -- the calibration table ----------------------------------------------------------------

_table_lock = threading.Lock()
_table_cache: dict[str, Any] = {}


def calibration_table() -> dict:
    """settings.ANALYSIS_CALIBRATION_FILE, read again when it changes."""
    path = Path(settings.ANALYSIS_CALIBRATION_FILE)
    try:
        stamp = (str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        stamp = (str(path), 0)
    with _table_lock:
        if _table_cache.get("stamp") != stamp:
            _table_cache["table"] = calibration.load(path)
            _table_cache["stamp"] = stamp
        return _table_cache["table"]


def detector_key(name: str) -> str:
    """The detector's name in the calibration table. A model's precision is its own: the
    `model` detector is calibrated per model ("model:SmolLM2-135M-Instruct"), so a
    profile moved to another model is uncalibrated until analysis_calibrate runs."""
    if name not in detectors.MODEL_DETECTORS:
        return name
    return f"{name}:{llm.model_info('analysis').model}"


def precision_lookup(table: Mapping, names: Sequence[str]) -> Precision:
    keys = {name: detector_key(name) for name in names}

    def lookup(detector: str, edit: Edit) -> float | None:
        key = keys.get(detector) or detector_key(detector)
        return calibration.precision(table, key, edit.error_type, edit.source_type)

    return lookup


# -- collecting every detector's edits ----------------------------------------------------


def collect(
    utterances: Sequence[UtteranceIn],
    names: Sequence[str],
    *,
    user: Any = None,
    learner_level: str = "",
    target_language: str = "en",
) -> Collected:
    """Each named detector's edits of each utterance. The model-free detectors are
    English-only (other languages get nothing from them); their proposals are typed by
    ERRANT in one pass."""
    texts = [u.text for u in utterances]
    languages = [annotate.detect_language(t, expected=target_language) for t in texts]
    found = Collected(languages, [{} for _ in texts])
    english = [i for i, lang in enumerate(languages) if lang == "en"]
    free = [n for n in names if n not in detectors.MODEL_DETECTORS]
    proposals: dict[str, list[list[str]]] = {}
    for name in free:
        started = time.perf_counter()
        proposals[name] = detectors.propose([texts[i] for i in english], [name])[name]
        found.seconds[name] = time.perf_counter() - started
    started = time.perf_counter()
    pairs = list(
        dict.fromkeys(
            (texts[i], p)
            for name in free
            for j, i in enumerate(english)
            for p in proposals[name][j]
        )
    )
    typed = dict(zip(pairs, annotate.annotate_pairs(pairs), strict=True))
    for name in free:
        for j, i in enumerate(english):
            edits = {}
            for proposal in proposals[name][j]:
                for edit in typed[(texts[i], proposal)]:
                    edits.setdefault((edit.start, edit.end, edit.correction), edit)
            found.edits[i][name] = tuple(edits.values())
    found.seconds["errant"] = time.perf_counter() - started
    for name in names:
        if name in detectors.MODEL_DETECTORS:
            started = time.perf_counter()
            found.model = model_detector.analyse(
                utterances, user=user, learner_level=learner_level, target_language=target_language
            )
            found.seconds[name] = time.perf_counter() - started
            for i, analysis in enumerate(found.model.analyses):
                found.edits[i][name] = analysis.edits if analysis is not None else ()
    for edits in found.edits:
        for name in names:
            edits.setdefault(name, ())
    return found


# -- the passes ----------------------------------------------------------------------------


def gated(
    collected: Collected,
    names: Sequence[str] | None = None,
    *,
    table: Mapping | None = None,
    min_precision: float | None = None,
) -> list[Gated]:
    """The gate over each utterance's edits from `names` (default: all collected)."""
    table = calibration_table() if table is None else table
    bar = settings.ANALYSIS_MIN_PRECISION if min_precision is None else min_precision
    names = list(names) if names is not None else sorted({n for e in collected.edits for n in e})
    lookup = precision_lookup(table, names)
    return [
        gate({n: edits.get(n, ()) for n in names}, lookup, min_precision=bar)
        for edits in collected.edits
    ]


def model_free_pass(
    utterances: Sequence[UtteranceIn],
    *,
    target_language: str = "en",
    names: Sequence[str] | None = None,
    table: Mapping | None = None,
    min_precision: float | None = None,
) -> list[UtteranceAnalysis]:
    """The per-message pass: no model call, tens of milliseconds a sentence."""
    names = detectors.configured(model=False) if names is None else names
    collected = collect(utterances, names, target_language=target_language)
    results = gated(collected, names, table=table, min_precision=min_precision)
    return [
        _analysis(u, lang, result)
        for u, lang, result in zip(utterances, collected.languages, results, strict=True)
    ]


def model_pass(
    utterances: Sequence[UtteranceIn],
    *,
    user: Any = None,
    learner_level: str = "",
    target_language: str = "en",
    names: Sequence[str] | None = None,
    table: Mapping | None = None,
    min_precision: float | None = None,
) -> ModelPass:
    """The batch pass: every configured detector, the model among them. The model adds
    or confirms edits; where it fails, the model-free edits stand."""
    names = detectors.configured(model=True) if names is None else names
    collected = collect(
        utterances,
        names,
        user=user,
        learner_level=learner_level,
        target_language=target_language,
    )
    results = gated(collected, names, table=table, min_precision=min_precision)
    model_analyses = collected.model.analyses if collected.model else [None] * len(utterances)
    analyses = [
        _analysis(u, lang, result, model=found)
        for u, lang, result, found in zip(
            utterances, collected.languages, results, model_analyses, strict=True
        )
    ]
    return ModelPass(analyses, collected.model.failures if collected.model else [])


def _analysis(
    utterance: UtteranceIn,
    language: str,
    result: Gated,
    *,
    model: UtteranceAnalysis | None = None,
) -> UtteranceAnalysis:
    shown = result.shown
    corrected = apply_edits(utterance.text, shown) if shown else utterance.text
    priority = max((taxonomy.DEFAULT_PRIORITY[e.error_type] for e in shown), default=1)
    if model is not None:
        return replace(
            model,
            key=utterance.key,
            corrected=corrected,
            edits=shown,
            held=result.held,
            priority=model.priority if shown else 1,
        )
    return UtteranceAnalysis(
        key=utterance.key,
        language=language,
        corrected=corrected,
        edits=shown,
        level="",
        topics=(),
        priority=priority,
        held=result.held,
    )
