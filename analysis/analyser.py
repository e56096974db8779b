"""The analysis of learner utterances: the model corrects, ERRANT derives the edits."""

from collections.abc import Sequence

from analysis.schemas import UtteranceAnalysis, UtteranceIn


class AnalysisInvalid(Exception):
    """The model's output did not validate against the analysis schema."""


def analyse_utterances(
    utterances: Sequence[UtteranceIn],
    *,
    user=None,
    learner_level: str = "",
    target_language: str = "en",
) -> list[UtteranceAnalysis]:
    raise NotImplementedError("analyse_utterances lands with the analyser step")
