import pytest

from analysis.analyser import (
    AnalysisInvalid,
    _reply_schema,
    analyse_utterances,
    implausible,
    validate_reply,
)
from analysis.core.annotate import annotate
from analysis.core.schemas import ContextLine, UtteranceIn

pytestmark = pytest.mark.django_db


def _reply(corrected, mistakes=(), level="A2", topics=("football",), priority=4):
    return {
        "corrected": corrected,
        "mistakes": [
            {"wrong": w, "right": r, "type": t, "explanation": e} for w, r, t, e in mistakes
        ],
        "level": level,
        "topics": list(topics),
        "priority": priority,
    }


def test_the_model_corrects_and_errant_derives_spans_types_and_its_explanation_is_kept(
    scripted_llm,
):
    text = "Yesterday I go to the football match."
    scripted_llm.queue(
        _reply(
            "Yesterday I went to the football match.",
            [("go", "went", "verb_tense", "Yesterday is past, so use went.")],
        )
    )
    [result] = analyse_utterances([UtteranceIn("m1", text)])
    [edit] = result.edits
    assert (edit.start, edit.end, edit.original, edit.correction) == (12, 14, "go", "went")
    assert text[edit.start : edit.end] == "go"
    assert (edit.error_type, edit.source_type, edit.confidence) == (
        "verb_tense",
        "R:VERB:TENSE",
        "high",
    )
    assert edit.explanation == "Yesterday is past, so use went."
    assert (result.key, result.language, result.level, result.priority) == ("m1", "en", "A2", 4)
    assert result.topics == ("football",)
    assert result.has_errors and result.note == ""
    assert scripted_llm.calls[0].profile == "analysis"


def test_an_unusable_explanation_falls_back_to_a_templated_one(scripted_llm):
    scripted_llm.queue(
        _reply(
            "My brother plays football.",
            [("play", "plays", "verb_form", "I go for a game, so use the past tense gone.")],
        )
    )
    [result] = analyse_utterances([UtteranceIn("m", "My brother play football.")])
    [edit] = result.edits
    assert edit.error_type == "subject_verb_agreement"  # ERRANT's type, not the model's
    assert edit.explanation == (
        "Use “plays” instead of “play”: the verb must agree with its subject."
    )


def test_an_error_free_sentence_has_no_edits_and_the_lowest_priority(scripted_llm):
    text = "We watched the match at my uncle's house."
    scripted_llm.queue(_reply(text, priority=4))
    [result] = analyse_utterances([UtteranceIn("m", text)])
    assert result.edits == () and not result.has_errors
    assert result.corrected == text and result.priority == 1


def test_a_missing_full_stop_at_the_end_of_a_chat_message_is_not_a_mistake(scripted_llm):
    scripted_llm.queue(_reply("I went home yesterday."))
    [result] = analyse_utterances([UtteranceIn("m", "I went home yesterday")])
    assert not result.has_errors


def test_a_rewrite_instead_of_a_correction_is_rejected_and_marked(scripted_llm):
    text = "I like football very much."
    scripted_llm.queue(_reply("I like football and tennis very much, really."))
    scripted_llm.queue(_reply("You enjoy squash a great deal."))
    other = "I like tennis very much."
    first, second = analyse_utterances([UtteranceIn("a", text), UtteranceIn("b", other)])
    assert first.edits == () and first.corrected == text
    assert first.note.startswith("correction rejected: length changed by")
    assert second.edits == () and second.corrected == other
    assert "tokens changed" in second.note


def test_content_words_the_model_adds_are_not_the_learners_mistakes(scripted_llm):
    # A real reply of the local model to a fixture sentence.
    scripted_llm.queue(_reply("Yesterday I went to the cinema with my friends last night."))
    [result] = analyse_utterances(
        [UtteranceIn("m", "I went to cinema with my friends last night.")]
    )
    assert [(e.original, e.correction, e.source_type) for e in result.edits] == [
        ("", "the", "M:DET")
    ]


def test_plausibility_allows_two_fixes_in_a_short_sentence():
    text, fixed = "She have two brother.", "She has two brothers."
    assert implausible(text, fixed, annotate(text, fixed)) == ""


def test_output_that_does_not_validate_raises_analysis_invalid(scripted_llm):
    bad = {"corrected": "x", "mistakes": "none", "level": "Z9", "topics": [], "priority": 9}
    scripted_llm.queue(bad)
    scripted_llm.queue(bad)  # the gateway's one repair attempt
    with pytest.raises(AnalysisInvalid):
        analyse_utterances([UtteranceIn("m", "I go home.")])
    with pytest.raises(AnalysisInvalid):
        validate_reply(bad, ["I go home."])


def test_a_correction_far_longer_than_its_sentence_is_invalid_whatever_the_sentence_length():
    for text in ("I go home.", "I go home with my friends after the lessons every day."):
        assert validate_reply(_reply(text.replace("go", "went")), [text])
        with pytest.raises(AnalysisInvalid):
            validate_reply(_reply(text + " and so on" * 20), [text])


def test_sentences_of_similar_length_share_one_reply_schema():
    # Building the schema is a tenth of a batch's pipeline: it is built once per shape.
    assert _reply_schema(["I go home."]) is _reply_schema(["We are happy!!"])
    assert _reply_schema(["I go home."]) is not _reply_schema(["I go home.", "We go."])


def test_a_batch_is_one_call_and_its_replies_map_to_utterances_in_order(scripted_llm, settings):
    settings.ANALYSIS_UTTERANCES_PER_CALL = 10
    texts = ["Yesterday I go home.", "I like tea.", "She have a cat."]
    scripted_llm.queue(
        {
            "replies": [
                _reply("Yesterday I went home."),
                _reply("I like tea."),
                _reply("She has a cat."),
            ]
        }
    )
    results = analyse_utterances([UtteranceIn(str(n), t) for n, t in enumerate(texts)])
    assert len(scripted_llm.calls) == 1
    assert [r.key for r in results] == ["0", "1", "2"]
    assert [[e.correction for e in r.edits] for r in results] == [["went"], [], ["has"]]
    schema = scripted_llm.calls[0].json_schema
    assert schema["properties"]["replies"]["minItems"] == 3


def test_a_batch_reply_with_the_wrong_number_of_sentences_is_invalid(scripted_llm, settings):
    settings.ANALYSIS_UTTERANCES_PER_CALL = 10
    short = {"replies": [_reply("I went home.")]}
    scripted_llm.queue(short)
    scripted_llm.queue(short)
    with pytest.raises(AnalysisInvalid):
        analyse_utterances([UtteranceIn("a", "I go home."), UtteranceIn("b", "I like tea.")])


def test_the_model_sees_the_context_a_worked_example_and_the_learners_level(scripted_llm):
    context = (ContextLine("Tutor", "tutor", "What did you do yesterday?"),)
    scripted_llm.queue(_reply("I went to the park."))
    analyse_utterances([UtteranceIn("m", "I go to the park.", context)], learner_level="A2")
    messages = scripted_llm.calls[0].messages
    assert messages[0]["role"] == "system" and "level A2" in messages[0]["content"]
    assert messages[2]["role"] == "assistant"  # the worked example's answer
    assert "Tutor: What did you do yesterday?" in messages[-1]["content"]
    assert messages[-1]["content"].endswith("Sentence: I go to the park.")
    # A correction may be 40% longer than its 17 characters, rounded up to a step of 16.
    assert scripted_llm.calls[0].json_schema["properties"]["corrected"]["maxLength"] < 60


def test_the_worked_examples_topics_count_only_when_the_sentence_names_them(scripted_llm):
    scripted_llm.queue(_reply("I went home.", topics=("films", "home", "Home")))
    [result] = analyse_utterances([UtteranceIn("m", "I go home.")])
    assert result.topics == ("home",)


def test_another_target_language_gets_a_low_confidence_diff_typed_by_the_model(scripted_llm):
    text = "Tengo dos hermano."
    scripted_llm.queue(
        _reply(
            "Tengo dos hermanos.",
            [("hermano", "hermanos", "noun_number", "Dos needs the plural hermanos.")],
        )
    )
    [result] = analyse_utterances([UtteranceIn("m", text)], target_language="es")
    [edit] = result.edits
    assert result.language == "es"
    assert (edit.original, edit.correction, edit.error_type) == (
        "hermano",
        "hermanos",
        "noun_number",
    )
    assert (edit.confidence, edit.source_type) == ("low", "diff")
    assert edit.explanation == "Dos needs the plural hermanos."
    assert "Spanish" in scripted_llm.calls[0].messages[0]["content"]
