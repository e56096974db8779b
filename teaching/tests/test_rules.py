import pytest
from pydantic import ValidationError

from teaching.core import rules
from teaching.core.rules import module_key
from teaching.core.schemas import ModuleContent
from teaching.tests.factories import content, good_module


def checks_of(module: ModuleContent, **options) -> dict[str, rules.Check]:
    defaults = {
        "language": "en",
        "error_type": "verb_tense",
        "among": {"en", "es"},
        "sentences": ["Yesterday I go to the market."],
    }
    return {c.name: c for c in rules.module_checks(module, **{**defaults, **options})}


def failing(module: ModuleContent, **options) -> set[str]:
    return {name for name, check in checks_of(module, **options).items() if not check.passed}


def with_problem(index: int, **changes) -> ModuleContent:
    data = good_module()
    data["problems"][index] = {**data["problems"][index], **changes}
    return ModuleContent.model_validate(data)


def test_a_good_module_passes_every_check():
    assert failing(content()) == set()
    assert len(checks_of(content())) == 11


def test_a_word_to_spot_must_be_in_its_sentence_exactly_once():
    good = with_problem(0, kind="spot_mistake", prompt="Yesterday I go there.", answer="go")
    assert "spot_fits" not in failing(good)
    twice = with_problem(0, kind="spot_mistake", prompt="I go and go.", answer="go")
    absent = with_problem(0, kind="spot_mistake", prompt="Yesterday I went.", answer="go")
    assert "spot_fits" in failing(twice) and "spot_fits" in failing(absent)


def test_a_sentence_to_correct_must_need_correcting():
    same = with_problem(0, kind="rewrite", prompt="I went.", answer="I went")
    assert "rewrite_differs" in failing(same)
    fine = with_problem(0, kind="rewrite", prompt="I go yesterday.", answer="I went yesterday.")
    assert "rewrite_differs" not in failing(fine)


def test_a_built_lesson_is_decided_by_its_rules_without_a_judge():
    passed = [rules.Check("a", True, "ok")]
    assert rules.decide(passed, None, min_score=3, min_mean=3.5, judged=False).passed
    assert not rules.decide(passed, None, min_score=3, min_mean=3.5).passed
    failed = [rules.Check("a", False, "no")]
    assert not rules.decide(failed, None, min_score=3, min_mean=3.5, judged=False).passed


def test_every_check_gives_a_reason():
    assert all(check.reason for check in checks_of(content()).values())


def test_duplicate_options_are_caught():
    assert failing(with_problem(0, options=["went", "go", "Went"])) >= {"options_unique"}


def test_two_correct_answers_are_caught():
    module = with_problem(0, options=["went", "went.", "go"])
    assert "single_correct_answer" in failing(module)


def test_answer_not_among_options_is_caught():
    assert failing(with_problem(0, answer="gone")) == {"answer_in_options"}


def test_fill_in_without_a_blank_is_caught():
    assert failing(with_problem(1, prompt="Last night I (eat) pasta.")) == {"blank_fits"}


def test_fill_in_answer_too_long_for_its_blank_is_caught():
    module = with_problem(1, answer="ate a very big plate of")
    assert failing(module) == {"blank_fits"}


def test_explanation_in_the_wrong_language_is_caught():
    spanish = "Cuando hablas de algo que ya pasó, usa el pasado simple. El verbo ir cambia."
    assert failing(content(explanation=spanish)) == {"explanation_language"}


def test_quoted_english_words_do_not_make_an_explanation_english():
    korean = (
        "“he”, “she”, “it”과 단수 명사에는 “has”(“She has two brothers”), “I”, “you”, “we”, "
        "“they”와 복수 명사에는 “have”를 써요."
    )
    assert "explanation_language" not in failing(
        content(explanation=korean), language="ko", among={"en", "ko"}
    )
    english = "Use “has” with he, she and it, and “have” with I, you, we and they."
    assert "explanation_language" in failing(
        content(explanation=english), language="ko", among={"en", "ko"}
    )


def test_no_op_correction_is_caught():
    module = content(correction="yesterday I go to the market")
    assert "correction_differs" in failing(module)


def test_correction_of_another_family_is_caught():
    module = content(correction="Yesterday I go to a market.")
    assert failing(module) == {"correction_family"}
    assert "determiner" in checks_of(module)["correction_family"].reason


def test_family_is_not_checked_without_an_errant_model():
    check = checks_of(content(), language="ko", among={"ko", "en"})["correction_family"]
    assert check.passed and "not checked" in check.reason


def test_a_sentence_the_learner_never_wrote_is_caught():
    assert failing(content(learner_sentence="Yesterday I go to the cinema.")) >= {
        "learner_sentence"
    }


def test_duplicate_of_an_existing_module_is_caught():
    existing = {module_key("TALKING about yesterday:  the past simple!", "verb_tense")}
    assert failing(content(), existing=existing) == {"not_duplicate"}
    assert failing(content(), existing={module_key(content().title, "determiner")}) == set()


def test_schema_limits_lengths_and_counts():
    with pytest.raises(ValidationError):
        content(title="x" * 81)
    with pytest.raises(ValidationError):
        content(problems=good_module()["problems"][:2])
    with pytest.raises(ValidationError):
        ModuleContent.model_validate({**good_module(), "extra": 1})
    schema = ModuleContent.model_json_schema()
    assert schema["properties"]["title"]["maxLength"] == 80
    assert schema["properties"]["problems"]["maxItems"] == 8  # built lessons: 4 kinds x 2
