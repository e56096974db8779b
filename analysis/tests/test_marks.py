"""The passes: model-free edits gated by the calibration table; the model adds or
confirms, and a failing model leaves the model-free edits standing."""

import json

import pytest

import llm
from analysis import analyser, marks
from analysis.core import calibration
from analysis.core.schemas import UtteranceIn
from llm.models import TaskProfile

pytestmark = pytest.mark.django_db

TEXT = "He go to see his two brother."


def _table(precision_by_detector_family):
    counts = {}
    for (detector, family, subtype), (tp, fp) in precision_by_detector_family.items():
        counts.setdefault(detector, {}).setdefault(family, {})[subtype] = [tp, fp]
    return calibration.build_table(counts)


TRUSTED = _table(
    {
        ("harper", "subject_verb_agreement", "R:VERB:SVA"): (95, 5),
        ("rules", "subject_verb_agreement", "R:VERB:SVA"): (95, 5),
        ("rules", "noun_number", "R:NOUN:NUM"): (95, 5),
    }
)


def _reply(corrected, priority=4):
    return {
        "corrected": corrected,
        "mistakes": [],
        "level": "A2",
        "topics": [],
        "priority": priority,
    }


def test_the_model_free_pass_shows_what_its_table_trusts_and_holds_the_rest():
    (result,) = marks.model_free_pass(
        [UtteranceIn("1", TEXT)], names=["harper", "rules"], table=TRUSTED, min_precision=0.7
    )
    assert [(e.correction, e.sources) for e in result.edits] == [
        ("goes", ("harper", "rules")),
        ("brothers", ("rules",)),
    ]
    assert result.corrected == "He goes to see his two brothers."
    assert result.has_errors and result.priority == 4


def test_nothing_calibrated_above_the_bar_means_nothing_shown():
    (result,) = marks.model_free_pass(
        [UtteranceIn("1", TEXT)], names=["rules"], table=_table({}), min_precision=0.7
    )
    assert result.edits == () and not result.has_errors
    assert {e.correction for e in result.held} == {"goes", "brothers"}
    assert result.corrected == TEXT and result.priority == 1


def test_other_languages_get_nothing_from_the_english_detectors():
    (result,) = marks.model_free_pass(
        [UtteranceIn("1", "Ayer yo fue al cine con mis amigos.")],
        target_language="es",
        names=["harper", "spelling", "rules"],
        table=TRUSTED,
    )
    assert result.language == "es" and result.edits == () and result.held == ()


def test_the_model_pass_keeps_the_models_level_and_an_agreeing_model_shows_its_edit(
    scripted_llm,
):
    scripted_llm.queue(_reply("He goes to see his two brother.", priority=5))
    result = marks.model_pass(
        [UtteranceIn("1", TEXT)], names=["harper", "model"], table=_table({}), min_precision=0.7
    )
    assert result.failures == []
    (analysis,) = result.analyses
    assert [(e.correction, e.sources) for e in analysis.edits] == [("goes", ("harper", "model"))]
    assert (analysis.level, analysis.priority) == ("A2", 5)


INVALID = '{"corrected": "x", "mistakes": "not a list"}'


def test_a_failing_model_leaves_the_model_free_edits_and_shows_nothing_raw(scripted_llm):
    for _ in range(4):  # first try and the gateway's repair; the retry and its repair
        scripted_llm.queue(INVALID)
    result = marks.model_pass(
        [UtteranceIn("1", TEXT)], names=["rules", "model"], table=TRUSTED, min_precision=0.7
    )
    (analysis,) = result.analyses
    assert [e.correction for e in analysis.edits] == ["goes", "brothers"]
    assert len(result.failures) == 1 and "again" in result.failures[0]
    seen = json.dumps([analysis.corrected, analysis.note, [e.explanation for e in analysis.edits]])
    assert "not a list" not in seen and "valid" not in seen.lower()


def test_a_retry_changes_the_request_and_skips_the_cache(scripted_llm):
    TaskProfile.objects.filter(name="analysis").update(temperature=0.0, cache_enabled=True)
    scripted_llm.queue(INVALID)
    scripted_llm.queue(INVALID)
    scripted_llm.queue(_reply("He goes to see his two brothers."))
    result = marks.model_pass(
        [UtteranceIn("1", TEXT)], names=["model"], table=TRUSTED, min_precision=0.7
    )
    assert result.failures == []
    first, _repair, retry = scripted_llm.calls
    assert analyser.RETRY_INSTRUCTION not in first.messages[-1]["content"]
    assert analyser.RETRY_INSTRUCTION in retry.messages[-1]["content"]
    assert (first.temperature, retry.temperature) == (0.0, analyser.RETRY_TEMPERATURE)
    held = result.analyses[0].held
    assert {e.correction for e in held} == {"goes", "brothers"}  # the model alone: held


def test_a_call_with_its_own_temperature_neither_reads_nor_fills_the_cache(scripted_llm):
    TaskProfile.objects.filter(name="analysis").update(temperature=0.0, cache_enabled=True)
    schema = analyser._reply_schema([TEXT])
    messages = [{"role": "user", "content": TEXT}]
    scripted_llm.queue(_reply("first"))
    scripted_llm.queue(_reply("second"))
    scripted_llm.queue(_reply("third"))
    assert llm.structured("analysis", messages, schema=schema).corrected == "first"
    assert llm.structured("analysis", messages, schema=schema).corrected == "first"  # cached
    again = llm.structured("analysis", messages, schema=schema, temperature=0.7)
    assert again.corrected == "second"
    assert llm.structured("analysis", messages, schema=schema).corrected == "first"
    assert len(scripted_llm.calls) == 2
