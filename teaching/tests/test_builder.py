"""The lesson builder on each family, with ERRANT (no model): every item verified, planted
bad keys and distractors caught."""

import pytest

from teaching.core import builder
from teaching.core.builder import Pair, build
from teaching.core.schemas import BLANK

FAMILIES = {
    "verb_tense": [
        Pair("Yesterday I go to the market.", "Yesterday I went to the market.", "go", "went"),
        Pair("Last week I see a film.", "Last week I saw a film.", "see", "saw"),
    ],
    "verb_form": [Pair("I enjoy to swim in the sea.", "I enjoy swimming in the sea.")],
    "subject_verb_agreement": [Pair("She have two brothers.", "She has two brothers.")],
    "noun_number": [Pair("I have two brother.", "I have two brothers.")],
    "determiner": [Pair("I bought a apple.", "I bought an apple.")],
    "preposition": [Pair("I am interested on music.", "I am interested in music.")],
    "spelling": [Pair("I recieved your letter.", "I received your letter.")],
    "word_order": [Pair("I don't know what is it.", "I don't know what it is.")],
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_gets_a_lesson_whose_every_item_is_right(family):
    built = build(family, FAMILIES[family], explanation_language="en")

    assert built.content is not None, built.reason
    content = built.content
    assert content.learner_sentence == FAMILIES[family][0].sentence
    assert content.examples[0].wrong == FAMILIES[family][0].sentence  # their own pair first
    assert len(content.problems) >= 3
    assert {p.kind for p in content.problems} >= {"multiple_choice", "fill_blank", "rewrite"}
    assert builder.audit(content, family) == []
    for problem in content.problems:
        if problem.kind == "multiple_choice":
            assert len(problem.options) == len({o.lower() for o in problem.options}) >= 2
            assert problem.options.count(problem.answer) == 1
            assert problem.prompt.count(BLANK) == 1


def test_worked_examples_are_the_learners_pairs_then_the_notes_own():
    built = build(
        "subject_verb_agreement", FAMILIES["subject_verb_agreement"], explanation_language="en"
    )
    own, note = built.content.examples
    assert (own.wrong, own.right) == ("She have two brothers.", "She has two brothers.")
    assert "She has" in own.note  # the pattern quotes the learner's words
    assert note.wrong != own.wrong and "She has" not in note.note


def test_the_choice_offers_the_learners_own_wrong_form_and_inflections():
    built = build("verb_form", FAMILIES["verb_form"], explanation_language="en")
    choice = next(p for p in built.content.problems if p.kind == "multiple_choice")

    assert choice.prompt == f"I enjoy {BLANK} in the sea."
    assert choice.answer == "swimming"
    assert "to swim" in choice.options  # what the learner wrote
    assert {"swim", "swims"} & set(choice.options)  # lemminflect's forms


def test_notes_come_in_the_learners_explanation_language():
    english = build("preposition", FAMILIES["preposition"], explanation_language="en").content
    spanish = build("preposition", FAMILIES["preposition"], explanation_language="es").content

    assert spanish.explanation != english.explanation
    assert spanish.tips != english.tips
    assert "*" not in spanish.explanation  # the note's Markdown made plain


def test_a_planted_wrong_key_is_caught():
    pair = FAMILIES["verb_tense"][0]
    b = builder._Builder("verb_tense", builder._errant, "en")
    edits = builder._errant([(pair.sentence, pair.corrected)])[0]
    gap = b._gap(pair, builder._focus_edit("verb_tense", pair, edits))

    assert b.key_is_right(gap, "went")
    assert not b.key_is_right(gap, "goes")
    assert "key 'goes' leaves an edit" in b.dropped[-1]


def test_planted_distractors_that_are_right_or_of_another_family_are_dropped(monkeypatch):
    # A distractor list that plants the key itself (a second right answer, differently
    # cased) and a form of another family ("going" is a verb form, not a tense).
    monkeypatch.setattr(builder, "distractors", lambda family, gap: ["Went", "going", "goes"])
    built = build("verb_tense", FAMILIES["verb_tense"][:1], explanation_language="en")
    choice = next(p for p in built.content.problems if p.kind == "multiple_choice")

    assert sorted(choice.options) == ["go", "goes", "went"]
    assert any("'going'" in d and "verb_form" in d for d in built.dropped)


def test_the_audit_catches_a_stored_item_with_two_right_answers_or_a_wrong_key():
    content = build(
        "subject_verb_agreement", FAMILIES["subject_verb_agreement"], explanation_language="en"
    ).content
    choice = next(p for p in content.problems if p.kind == "multiple_choice")
    for planted in ("HAS", "had"):  # the key again; a wrong form of another family
        bad = choice.model_copy(update={"options": [*choice.options, planted][:4]})
        assert builder.audit(
            content.model_copy(update={"problems": [bad]}), "subject_verb_agreement"
        )
    wrong_key = choice.model_copy(update={"answer": "have"})
    assert builder.audit(
        content.model_copy(update={"problems": [wrong_key]}), "subject_verb_agreement"
    )


def test_a_family_without_built_lessons_or_edits_gives_no_lesson_with_a_reason():
    assert build("vocabulary", [], explanation_language="en").reason.startswith("no built")
    nothing = build("preposition", FAMILIES["verb_form"], explanation_language="en")
    assert nothing.content is None and "no edit of the family" in nothing.reason


def test_determiners_offer_the_before_a_plural_noun_only_as_a_wrong_answer():
    pair = Pair("I like a books.", "I like the books.")
    built = build("determiner", [pair], explanation_language="en")
    choice = next(p for p in built.content.problems if p.kind == "multiple_choice")

    assert choice.answer == "the" and "a" in choice.options
    assert builder.audit(built.content, "determiner") == []
