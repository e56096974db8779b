import json
from pathlib import Path

import pytest

from analysis.core.annotate import annotate, annotate_pairs, detect_language

FIXTURE = Path(__file__).parent / "fixtures" / "learner_sentences.jsonl"


def _spans(original, corrected, **kwargs):
    return [
        (e.start, e.end, e.original, e.correction, e.source_type, e.error_type)
        for e in annotate(original, corrected, **kwargs)
    ]


@pytest.mark.parametrize(
    ("original", "corrected", "source_type", "error_type"),
    [
        (
            "Yesterday I go to the park.",
            "Yesterday I went to the park.",
            "R:VERB:TENSE",
            "verb_tense",
        ),
        (
            "My brother play football.",
            "My brother plays football.",
            "R:VERB:SVA",
            "subject_verb_agreement",
        ),
        ("I have two brother.", "I have two brothers.", "R:NOUN:NUM", "noun_number"),
        ("He is good in football.", "He is good at football.", "R:PREP", "preposition"),
        ("I recieved a letter.", "I received a letter.", "R:SPELL", "spelling"),
        ("I buyed a car.", "I bought a car.", "R:VERB:INFL", "verb_form"),
        ("He said me a story.", "He told me a story.", "R:VERB", "vocabulary"),
        ("I gave it to she.", "I gave it to her.", "R:PRON", "pronoun"),
    ],
)
def test_errant_types_known_pairs(original, corrected, source_type, error_type):
    [edit] = annotate(original, corrected)
    assert (edit.source_type, edit.error_type, edit.confidence) == (source_type, error_type, "high")


def test_a_replacement_spans_exactly_the_learners_words():
    text = "Yesterday I go to the park."
    [edit] = annotate(text, "Yesterday I went to the park.")
    assert (edit.start, edit.end) == (12, 14)
    assert text[edit.start : edit.end] == edit.original == "go"
    assert edit.correction == "went"
    assert edit.features["orig_lemmas"] == ["go"]
    assert edit.features["corr_lemmas"] == ["go"]
    assert edit.features["corr_tags"] == ["VBD"]


def test_an_insertion_is_a_zero_width_span_before_the_next_word():
    text = "I went to cinema last night."
    [edit] = annotate(text, "I went to the cinema last night.")
    assert (edit.start, edit.end, edit.original, edit.correction) == (10, 10, "", "the")
    assert text[edit.start :].startswith("cinema")
    assert edit.source_type == "M:DET"


def test_a_missing_full_stop_goes_at_the_end_of_the_text():
    [edit] = annotate("I went home", "I went home.")
    assert (edit.start, edit.end, edit.correction, edit.error_type) == (11, 11, ".", "punctuation")


def test_a_multi_word_span_keeps_the_learners_spacing():
    text = "I like  very  much football."
    [edit] = annotate(text, "I like football very much.")
    assert text[edit.start : edit.end] == edit.original == "very  much football"
    assert edit.error_type == "word_order"


def test_an_error_free_sentence_has_no_edits():
    assert annotate("We watched the match at home.", "We watched the match at home.") == ()


def test_every_fixture_span_is_a_substring_of_its_source():
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    results = annotate_pairs([(r["source"], r["corrections"][0]) for r in rows])
    for row, edits in zip(rows, results, strict=True):
        assert len(edits) == (1 if row.get("family") else 0), row
        for edit in edits:
            assert row["source"][edit.start : edit.end] == edit.original


def test_a_spelling_edit_to_a_word_the_dictionary_does_not_know_is_not_believed():
    assert annotate("I recieved it.", "I receeved it.") == ()


def test_a_spelling_variant_the_dictionary_knows_is_not_an_error():
    assert annotate("I like the color red.", "I like the colour red.") == ()


def test_the_learners_target_language_wins_a_close_detection():
    # lingua alone scores this Spanish (0.62) over English (0.34).
    assert detect_language("I recieved it", expected="en") == "en"
    assert detect_language("Yo tengo dos hermanos y una hermana.", expected="en") == "es"
    assert detect_language("나는 어제 학교에 갔어요.", expected="en") == "ko"


def test_other_languages_get_a_low_confidence_token_diff():
    text = "Ayer yo voy a la playa con mis amigo."
    edits = annotate(text, "Ayer yo fui a la playa con mis amigos.", language="es")
    assert [(e.original, e.correction) for e in edits] == [("voy", "fui"), ("amigo", "amigos")]
    for edit in edits:
        assert text[edit.start : edit.end] == edit.original
        assert (edit.source_type, edit.confidence) == ("diff", "low")


def test_the_token_diff_types_misspellings_and_punctuation():
    edits = annotate("Me gusta la musica", "Me gusta la música.", language="es")
    assert [(e.original, e.correction, e.error_type) for e in edits] == [
        ("musica", "música", "spelling"),
        ("", ".", "punctuation"),
    ]
    assert edits[1].start == edits[1].end == len("Me gusta la musica")


def test_threads_annotating_at_once_get_the_same_edits_as_one_thread():
    from concurrent.futures import ThreadPoolExecutor

    pairs = [
        ("Yesterday I go home.", "Yesterday I went home."),
        ("She have a cat.", "She has a cat."),
        ("I went to cinema.", "I went to the cinema."),
    ] * 4
    expected = [annotate(o, c) for o, c in pairs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda p: annotate(*p), pairs))
    assert got == expected
