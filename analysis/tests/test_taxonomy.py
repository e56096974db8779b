import pytest

from analysis.core import taxonomy
from analysis.core.schemas import TAXONOMY, Edit, UtteranceAnalysis, UtteranceIn
from analysis.core.taxonomy import ErrorType, from_errant


def test_taxonomy_lists_the_product_types_in_order():
    assert TAXONOMY == (
        "verb_tense",
        "verb_form",
        "subject_verb_agreement",
        "determiner",
        "preposition",
        "noun_number",
        "pronoun",
        "word_order",
        "spelling",
        "vocabulary",
        "punctuation",
        "other",
    )
    assert set(TAXONOMY) == set(ErrorType.values)


@pytest.mark.parametrize(
    ("errant_type", "expected"),
    [
        ("R:VERB:TENSE", "verb_tense"),
        ("M:VERB:TENSE", "verb_tense"),
        ("R:VERB:SVA", "subject_verb_agreement"),
        ("R:VERB:FORM", "verb_form"),
        ("R:VERB:INFL", "verb_form"),
        ("R:NOUN:NUM", "noun_number"),
        ("R:NOUN:INFL", "noun_number"),
        ("M:DET", "determiner"),
        ("U:DET", "determiner"),
        ("R:PREP", "preposition"),
        ("R:PRON", "pronoun"),
        ("R:WO", "word_order"),
        ("R:SPELL", "spelling"),
        ("R:ORTH", "punctuation"),
        ("M:PUNCT", "punctuation"),
        ("R:NOUN", "vocabulary"),
        ("R:VERB", "vocabulary"),
        ("R:ADJ", "vocabulary"),
        ("R:ADV", "vocabulary"),
        ("R:MORPH", "vocabulary"),
        ("R:CONTR", "other"),
        ("R:OTHER", "other"),
        ("UNK", "other"),
        ("R:SOMETHING:NEW", "other"),
    ],
)
def test_errant_types_map_to_the_product_taxonomy(errant_type, expected):
    assert from_errant(errant_type) == expected


def test_a_missing_to_is_a_verb_pattern_and_another_particle_a_preposition():
    assert from_errant("M:PART", original="", correction="to") == "verb_form"
    assert from_errant("R:PART", original="on", correction="up") == "preposition"


def test_loose_model_labels_are_coerced_into_the_taxonomy():
    assert taxonomy.coerce("Verb tense") == "verb_tense"
    assert taxonomy.coerce("article") == "determiner"
    assert taxonomy.coerce("nonsense") == "other"


def test_an_edit_refuses_a_type_outside_the_taxonomy():
    with pytest.raises(ValueError):
        Edit(0, 2, "go", "went", "tense-ish", "R:VERB:TENSE", "", "high", {})


def test_an_utterance_takes_at_most_three_context_lines():
    from analysis.core.schemas import ContextLine

    line = ContextLine("Tutor", "tutor", "Hi")
    UtteranceIn("k", "text", (line, line, line))
    with pytest.raises(ValueError):
        UtteranceIn("k", "text", (line, line, line, line))


def test_an_analysis_without_edits_has_no_errors():
    clean = UtteranceAnalysis("k", "en", "I went home.", (), "A2", ("travel",), 1)
    edit = Edit(2, 4, "go", "went", "verb_tense", "R:VERB:TENSE", "Past tense.", "high", {})
    wrong = UtteranceAnalysis("k", "en", "I went home.", (edit,), "A2", (), 3)
    assert not clean.has_errors
    assert wrong.has_errors
