import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from analysis.core import evaluation
from analysis.tests import scripts

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
JSONL = FIXTURES / "learner_sentences.jsonl"
M2 = FIXTURES / "sample.m2"


def _run(path, *args, detectors=("--detectors", "model", "--no-gate")):
    """The command's lines and summary; by default the model's edits alone, ungated (the
    scripted model is what these tests measure)."""
    import io

    out = io.StringIO()
    call_command("analysis_eval", str(path), *detectors, *args, stdout=out)
    lines = out.getvalue().strip().splitlines()
    return lines, json.loads(lines[-1])


def _queue(script, corrections):
    for entry in scripts.batched(corrections, 1):
        script.queue(entry, chunk_size=1_000_000)


def test_m2_is_read_with_one_correction_per_annotator():
    rows = evaluation.read_rows(M2.read_text())
    assert [r.source for r in rows][:2] == [
        "Yesterday I go to the park with my friend .",
        "She have two brother .",
    ]
    assert rows[0].corrections == ("Yesterday I went to the park with my friend .",)
    assert rows[1].corrections == ("She has two brothers .",)
    assert rows[2].corrections == (
        "I went to the cinema last night .",
        "I went to a cinema last night .",
    )
    assert rows[3].corrections == (rows[3].source,) and rows[3].needs_no_change


def test_scores_follow_errant_compare():
    assert evaluation.prf(0, 0, 0) == (1.0, 1.0, 1.0)
    p, r, f = evaluation.prf(2, 2, 6)
    assert (p, r) == (0.5, 0.25)
    assert f == pytest.approx(1.25 * 0.5 * 0.25 / (0.25 * 0.5 + 0.25))


def test_gold_echo_on_the_fixture_scores_perfectly_and_recovers_the_families(scripted_llm):
    rows = evaluation.read_rows(JSONL.read_text())
    _queue(scripted_llm, scripts.gold_corrections(rows))
    lines, summary = _run(JSONL)
    assert summary["sentences"] == 98
    assert (summary["tp"], summary["fp"], summary["fn"]) == (80, 0, 0)
    assert (summary["precision"], summary["recall"], summary["f0.5"]) == (1.0, 1.0, 1.0)
    assert (summary["false_alarms"], summary["no_change_sentences"]) == (0, 18)
    assert summary["families"] == 10 and summary["ari"] >= 0.8 and summary["purity"] >= 0.9
    assert lines[0].split() == ["detector", "TP", "FP", "FN", "P", "R", "F0.5", "alarms", "ms"]
    assert lines[1].split()[:4] == ["model", "80", "0", "0"]
    assert ["type", "TP", "FP", "FN", "P", "R", "F0.5"] in [line.split() for line in lines]
    assert any(line.startswith("verb_tense") for line in lines)


def test_a_noisy_model_gets_exactly_the_scores_it_must(scripted_llm):
    rows = evaluation.read_rows(JSONL.read_text())
    _queue(scripted_llm, scripts.noisy_corrections(rows))
    _, summary = _run(JSONL, "--json")
    # 80 sentences with one error each: 40 corrected, 20 missed, 20 given a wrong edit
    # instead; 18 error-free: 9 left alone, 9 given a wrong edit.
    assert (summary["tp"], summary["fp"], summary["fn"]) == (40, 29, 40)
    assert summary["precision"] == round(40 / 69, 4)
    assert summary["recall"] == 0.5
    p, r = 40 / 69, 0.5
    assert summary["f0.5"] == round(1.25 * p * r / (0.25 * p + r), 4)
    assert (summary["false_alarms"], summary["false_alarm_rate"]) == (9, 0.5)
    assert summary["per_type"]["determiner"]["fp"] == 29  # every wrong edit adds "the"


def test_m2_input_picks_the_reference_that_suits_the_answer(scripted_llm):
    # "a cinema" is the second annotator's correction: it counts as right.
    _queue(
        scripted_llm,
        [
            "Yesterday I went to the park with my friend .",
            "She has two brother .",
            "I went to a cinema last night .",
            "We watched the match at home .",
        ],
    )
    lines, summary = _run(M2, "--limit", "4")
    assert (summary["tp"], summary["fp"], summary["fn"]) == (3, 0, 1)
    assert summary["false_alarm_rate"] == 0.0
    assert "ari" not in summary  # M2 carries no families
    assert lines[-1].startswith("{")


def test_json_prints_only_the_summary_and_limit_takes_the_first_rows(scripted_llm):
    rows = evaluation.read_rows(JSONL.read_text())
    _queue(scripted_llm, scripts.gold_corrections(rows)[:5])
    lines, summary = _run(JSONL, "--json", "--limit", "5")
    assert len(lines) == 1 and summary["sentences"] == 5


def test_a_missing_or_malformed_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("analysis_eval", str(tmp_path / "none.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no source"}\n')
    with pytest.raises(CommandError, match="line 1"):
        call_command("analysis_eval", str(bad))


def test_each_detector_and_what_the_gate_shows_are_reported(scripted_llm, tmp_path, settings):
    settings.ANALYSIS_CALIBRATION_FILE = str(tmp_path / "none.json")  # nothing calibrated
    rows = evaluation.read_rows(JSONL.read_text())
    _queue(scripted_llm, scripts.gold_corrections(rows)[:12])
    lines, summary = _run(JSONL, "--limit", "12", detectors=("--detectors", "harper,model"))
    assert set(summary["detectors"]) == {"harper", "model"}
    model = summary["detectors"]["model"]
    assert (model["tp"], model["fp"]) == (12, 0) and model["ms_per_sentence"] >= 0
    # Uncalibrated, the model alone shows nothing; only what harper agrees with is shown.
    assert summary["gated"] is True
    assert summary["tp"] <= summary["detectors"]["harper"]["tp"]
    assert summary["fp"] == 0
    assert set(summary["model_free_ms"]) == {"p50", "p95"}
    assert [line.split()[0] for line in lines[:4]] == ["detector", "harper", "model", "shown"]
    assert lines[4].startswith("model-free pass per sentence")


def test_no_model_leaves_the_model_out(scripted_llm):
    _, summary = _run(JSONL, "--limit", "3", "--json", detectors=("--no-model",))
    assert "model" not in summary["detectors"] and scripted_llm.calls == []


def test_unknown_detectors_are_a_clear_error():
    with pytest.raises(CommandError, match="Unknown detector 'nope'"):
        call_command("analysis_eval", str(JSONL), "--detectors", "harper,nope")
