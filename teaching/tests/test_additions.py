"""What a model adds to a built lesson is taken item by item: each passes the checks or
is dropped with its reason. Real ERRANT and the real model-free detectors."""

import pytest

from teaching.core import additions, builder
from teaching.core.schemas import ModuleContent
from teaching.models import Module
from teaching.pipeline.generate import _detector_proposals, generate_modules
from teaching.tests.conftest import module_for
from teaching.tests.factories import good_module
from teaching.tests.test_stages import make_focuses

PAIRS = [builder.Pair("Yesterday I go to the market.", "Yesterday I went to the market.")]


def problem(prompt, answer, options=(), kind="multiple_choice"):
    return {
        "kind": kind,
        "prompt": prompt,
        "options": list(options),
        "answer": answer,
        "rationale": "r",
    }


def offered(*problems, examples=None) -> ModuleContent:
    data = good_module(problems=[*problems, *good_module()["problems"]][: max(3, len(problems))])
    if examples is not None:
        data["examples"] = examples
    return ModuleContent.model_validate(data)


@pytest.fixture
def built():
    return builder.build("verb_tense", PAIRS, explanation_language="en").content


def take(built, model_content):
    return additions.accept(
        built,
        model_content,
        "verb_tense",
        annotate=builder._errant,
        propose=_detector_proposals,
    )


def test_a_good_item_is_added(built):
    good = problem("Two days ago he ___ me a letter.", "wrote", ["writes", "wrote", "write"])
    taken = take(built, offered(good))
    assert [p.prompt for p in taken.problems][:1] == [good["prompt"]]
    merged = additions.merged(built, taken)
    assert merged.problems[: len(built.problems)] == built.problems  # the core stays


def test_an_item_with_a_second_right_answer_is_dropped(built):
    two_right = problem("Two days ago he ___ me a letter.", "wrote", ["wrote", "sent"])
    taken = take(built, offered(two_right))
    assert two_right["prompt"] not in [p.prompt for p in taken.problems]
    assert any("'sent' is not a verb tense mistake" in d["reason"] for d in taken.dropped)


def test_an_item_whose_key_is_wrong_is_dropped(built):
    wrong_key = problem("She ___ two brothers.", "have", ["have", "has"])
    taken = take(built, offered(wrong_key))
    reasons = [d["reason"] for d in taken.dropped if d["item"] == wrong_key["prompt"]]
    assert reasons and "still looks wrong" in reasons[0]


def test_items_of_kinds_or_shapes_the_checks_cannot_verify_are_dropped(built):
    spot = problem("Yesterday I go home.", "go", kind="spot_mistake")
    no_blank = problem("Yesterday we went to the beach.", "went", ["go", "went"])
    taken = take(built, offered(spot, no_blank))
    reasons = {d["item"]: d["reason"] for d in taken.dropped}
    assert "not taken from the model" in reasons[spot["prompt"]]
    assert "exactly one ___" in reasons[no_blank["prompt"]]


def test_an_example_is_added_only_when_it_fixes_a_mistake_of_the_family(built):
    examples = [
        {"wrong": "Last week she buy a car.", "right": "Last week she bought a car.", "note": "n"},
        {"wrong": "I like a apples.", "right": "I like apples.", "note": "n"},
    ]
    taken = take(built, offered(examples=examples))
    assert [e.wrong for e in taken.examples] == ["Last week she buy a car."]
    assert any("fixes no verb tense mistake" in d["reason"] for d in taken.dropped)


def test_the_generate_stage_adds_what_passes_and_records_what_was_dropped(
    run, scripted_llm, settings
):
    settings.TEACHING_BUILD_LESSONS = settings.TEACHING_MODEL_ADDITIONS = True
    make_focuses(run, 1)
    model = module_for(1)
    model["problems"][2] = problem("Two days ago he ___ me a letter.", "wrote", ["wrote", "sent"])
    scripted_llm.queue(model)
    generate_modules(run.pk)
    module = Module.objects.get()
    prompts = [p["prompt"] for p in module.content["problems"]]
    assert module.source == "built" and "Yesterday we ___ to the beach." in prompts
    assert "Two days ago he ___ me a letter." not in prompts
    # The built lesson was decided before the model was asked: the learner did not wait.
    assert module.status == "validated" and module.reports.get().created_at <= module.updated_at
    log = module.build_log["model"]
    assert "Yesterday we ___ to the beach." in log["added"]
    assert any(d["item"] == "Two days ago he ___ me a letter." for d in log["dropped"])


def test_a_model_that_cannot_write_leaves_the_built_lesson_as_it_is(run, scripted_llm, settings):
    settings.TEACHING_BUILD_LESSONS = settings.TEACHING_MODEL_ADDITIONS = True
    make_focuses(run, 1)
    scripted_llm.set_default(text="not a lesson")
    generate_modules(run.pk)
    module = Module.objects.get()
    built = builder.build("verb_tense", PAIRS, explanation_language="en").content
    assert module.content == built.model_dump() and module.build_log["model"]["error"]


def test_a_model_that_times_out_leaves_the_built_lesson_as_it_is(run, scripted_llm, settings):
    settings.TEACHING_BUILD_LESSONS = settings.TEACHING_MODEL_ADDITIONS = True
    make_focuses(run, 1)
    scripted_llm.set_default(text="{", fail_after_chars=0, error="timeout")
    generate_modules(run.pk)
    module = Module.objects.get()
    built = builder.build("verb_tense", PAIRS, explanation_language="en").content
    assert module.content == built.model_dump()
    assert module.build_log["model"]["error"].startswith("ModelTimeout")
