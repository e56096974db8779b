"""The model of the `analysis` task profile (any provider) as a detector.

Today's analyser path: the profile's model writes the corrected sentence, ERRANT types
it and the analyser's rule checks set implausible rewrites aside. A chunk whose reply
fails the schema is asked again one sentence at a time, with another instruction and a
higher temperature (analyser.analyse_again: a new sample, never the cache); a sentence
that still fails, or a model that cannot be reached, proposes nothing and the failure
is reported to the caller (for staff), never raised at the learner.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

import llm
from analysis.analyser import AnalysisInvalid, analyse_again, analyse_utterances
from analysis.core.gate import apply_edits
from analysis.core.schemas import UtteranceAnalysis, UtteranceIn

logger = logging.getLogger(__name__)


@dataclass
class ModelAnalyses:
    analyses: list[UtteranceAnalysis | None]  # None where the model gave nothing usable
    failures: list[str] = field(default_factory=list)  # for staff, never for learners

    @property
    def failed(self) -> bool:
        return bool(self.failures)


def analyse(
    utterances: Sequence[UtteranceIn],
    *,
    user: Any = None,
    learner_level: str = "",
    target_language: str = "en",
) -> ModelAnalyses:
    """The model's analysis of each utterance, failures recorded rather than raised."""
    options = {"user": user, "learner_level": learner_level, "target_language": target_language}
    per_call = settings.ANALYSIS_UTTERANCES_PER_CALL
    out = ModelAnalyses([])
    for i in range(0, len(utterances), per_call):
        chunk = list(utterances[i : i + per_call])
        try:
            out.analyses += analyse_utterances(chunk, **options)
            continue
        except AnalysisInvalid as exc:
            logger.info("analysis reply invalid for %d utterance(s); asking again", len(chunk))
            first = f"invalid reply: {exc}"
        except llm.errors.QuotaExceeded:
            raise  # the whole batch waits for the allowance (llm.allowance)
        except llm.errors.LLMError as exc:
            out.failures.append(f"{exc.__class__.__name__}: {exc.detail or exc}")
            out.analyses += [None] * len(chunk)
            continue
        for utterance in chunk:
            try:
                out.analyses.append(analyse_again(utterance, **options))
            except llm.errors.QuotaExceeded:
                raise
            except (AnalysisInvalid, llm.errors.LLMError) as exc:
                detail = getattr(exc, "detail", None) or str(exc)
                out.failures.append(f"{first}; again: {detail}"[:500])
                out.analyses.append(None)
    return out


def detect(texts: Sequence[str], **context: Any) -> list[list[str]]:
    """The seam's view: each sentence as the model corrected it (its kept edits)."""
    contexts = context.get("contexts") or [()] * len(texts)
    utterances = [
        UtteranceIn(key=str(n), text=text, context=tuple(ctx))
        for n, (text, ctx) in enumerate(zip(texts, contexts, strict=True))
    ]
    found = analyse(
        utterances,
        user=context.get("user"),
        learner_level=context.get("learner_level", ""),
        target_language=context.get("target_language", "en"),
    )
    return [
        [apply_edits(text, a.edits)] if a is not None and a.edits else []
        for text, a in zip(texts, found.analyses, strict=True)
    ]
