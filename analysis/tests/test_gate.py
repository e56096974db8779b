"""The precision gate (pure): what is shown, what is held, and agreement."""

from analysis.core.gate import apply_edits, gate, overlap
from analysis.core.schemas import Edit


def _edit(start, end, original, correction, error_type="spelling", source_type="R:SPELL"):
    return Edit(start, end, original, correction, error_type, source_type, "", "high")


TEXT = "She have two brother."
HAS = _edit(4, 8, "have", "has", "subject_verb_agreement", "R:VERB:SVA")
HAD = _edit(4, 8, "have", "had", "verb_tense", "R:VERB:TENSE")
BROTHERS = _edit(13, 20, "brother", "brothers", "noun_number", "R:NOUN:NUM")


def _table(values):
    return lambda detector, edit: values.get((detector, edit.error_type))


def test_an_edit_below_the_bar_is_held_not_shown():
    result = gate(
        {"harper": [HAS]},
        _table({("harper", "subject_verb_agreement"): 0.55}),
        min_precision=0.7,
    )
    assert result.shown == ()
    (held,) = result.held
    assert (held.correction, held.shown, held.sources, held.precision) == (
        "has",
        False,
        ("harper",),
        0.55,
    )


def test_an_edit_at_the_bar_is_shown_with_its_source_and_precision():
    result = gate({"rules": [BROTHERS]}, _table({("rules", "noun_number"): 0.7}), min_precision=0.7)
    (shown,) = result.shown
    assert (shown.shown, shown.sources, shown.precision) == (True, ("rules",), 0.7)
    assert result.held == ()


def test_two_detectors_agreeing_show_an_edit_whatever_their_precision():
    result = gate({"harper": [HAS], "rules": [HAS]}, _table({}), min_precision=0.7)
    (shown,) = result.shown
    assert shown.sources == ("harper", "rules") and shown.precision is None


def test_an_uncalibrated_detector_alone_is_never_shown():
    result = gate({"model": [HAS]}, _table({}), min_precision=0.0)
    assert result.shown == () and len(result.held) == 1


def test_of_overlapping_edits_the_better_supported_one_is_shown():
    precision = _table({("harper", "subject_verb_agreement"): 0.8, ("model", "verb_tense"): 0.9})
    result = gate({"harper": [HAS], "model": [HAD]}, precision, min_precision=0.7)
    assert [e.correction for e in result.shown] == ["had"]  # higher precision
    assert [e.correction for e in result.held] == ["has"]
    agreed = gate({"harper": [HAS], "rules": [HAS], "model": [HAD]}, precision, min_precision=0.7)
    assert [e.correction for e in agreed.shown] == ["has"]  # two sources beat one


def test_shown_edits_come_in_text_order():
    precision = _table({("a", "noun_number"): 0.9, ("a", "subject_verb_agreement"): 0.9})
    result = gate({"a": [BROTHERS, HAS]}, precision, min_precision=0.7)
    assert [e.correction for e in result.shown] == ["has", "brothers"]


def test_overlap_of_spans_and_insertions():
    assert overlap(HAS, HAD)
    assert not overlap(HAS, BROTHERS)
    insert_at_4 = _edit(4, 4, "", "do", "verb_form", "M:VERB")
    assert overlap(insert_at_4, _edit(4, 4, "", "did", "verb_form", "M:VERB"))
    assert not overlap(insert_at_4, _edit(0, 3, "She", "He", "pronoun", "R:PRON"))


def test_apply_edits_builds_the_corrected_sentence():
    assert apply_edits(TEXT, [HAS, BROTHERS]) == "She has two brothers."
    the = _edit(10, 10, "", "the", "determiner", "M:DET")
    assert apply_edits("I went to cinema.", [the]) == "I went to the cinema."
    comma = _edit(8, 8, "", ",", "punctuation", "M:PUNCT")
    assert apply_edits("However I agree.", [comma]) == "However, I agree."
    extra = _edit(7, 10, "the", "", "determiner", "U:DET")
    assert apply_edits("I like the music.", [extra]) == "I like music."
