"""Each stage on fixtures, with the scripted model. The model's path (a family or language
the builder does not build) is tested with the builder off; the built path at the end."""

import pytest

from teaching.models import Focus, Module, ModuleSource, ModuleStatus, ValidationReport
from teaching.pipeline.focus import FALLBACK_REASON, select_focuses
from teaching.pipeline.generate import generate_modules
from teaching.pipeline.validate import validate_modules
from teaching.tests.conftest import group, module_for
from teaching.tests.factories import judge


@pytest.fixture(autouse=True)
def model_writes(request, settings):
    settings.TEACHING_BUILD_LESSONS = "built" in request.node.name


def test_focus_selection_stores_the_models_picks_with_their_reasons(run, scripted_llm):
    scripted_llm.queue({"focuses": [{"group": 2, "reason": "Comes up in every message."}]})
    select_focuses(run.pk)
    focus = Focus.objects.get(run=run)
    assert (focus.key, focus.reason, focus.language) == (
        "en|verb_tense|2",
        "Comes up in every message.",
        "en",
    )
    prompt = scripted_llm.calls[0].messages[-1]["content"]
    assert "1. Past simple (verb_tense), 3x" in prompt and "Learners of English" in prompt


def test_focus_selection_caps_focuses_and_ignores_bad_picks(run, scripted_llm, settings):
    settings.TEACHING_MAX_FOCUSES = 1
    scripted_llm.queue(
        {
            "focuses": [
                {"group": 9, "reason": "x"},
                {"group": 1, "reason": "a"},
                {"group": 2, "reason": "b"},
            ]
        }
    )
    select_focuses(run.pk)
    assert list(run.focuses.values_list("key", "reason")) == [("en|verb_tense|1", "a")]


def test_focus_selection_falls_back_to_the_top_groups(run, scripted_llm):
    scripted_llm.queue({"focuses": []})
    select_focuses(run.pk)
    assert [f.reason for f in run.focuses.all()] == [FALLBACK_REASON, FALLBACK_REASON]


def test_focus_selection_runs_per_language_with_its_guidance(run, scripted_llm):
    run.groups = [group(1), group(3, language="ko", error_type="other")]
    run.save()
    scripted_llm.queue({"focuses": [{"group": 1, "reason": "en"}]})
    scripted_llm.queue({"focuses": [{"group": 1, "reason": "ko"}]})
    select_focuses(run.pk)
    assert sorted(run.focuses.values_list("language", flat=True)) == ["en", "ko"]
    assert "Hangul" in scripted_llm.calls[1].messages[-1]["content"]


def test_focus_selection_is_idempotent(run, scripted_llm):
    scripted_llm.queue({"focuses": [{"group": 1, "reason": "a"}]})
    select_focuses(run.pk)
    select_focuses(run.pk)
    assert run.focuses.count() == 1 and len(scripted_llm.calls) == 1


def make_focuses(run, *numbers, error_type="verb_tense"):
    for position, n in enumerate(numbers):
        g = group(n)
        Focus.objects.create(
            run=run,
            key=g["key"],
            position=position,
            language="en",
            error_type=error_type,
            cluster_name="Past simple",
            reason="r",
            examples=g["examples"],
        )


def test_generation_writes_one_draft_per_focus(run, scripted_llm):
    make_focuses(run, 1, 2)
    scripted_llm.queue(module_for(1))
    scripted_llm.queue(module_for(2))
    generate_modules(run.pk)
    modules = list(Module.objects.order_by("focus__position"))
    assert [m.status for m in modules] == [ModuleStatus.DRAFT] * 2
    assert modules[1].title == "The past simple, part 2" and len(modules[0].prompt_version) == 12
    assert "Yesterday I go to the market." in scripted_llm.calls[0].messages[-1]["content"]
    generate_modules(run.pk)  # idempotent: every focus has its module
    assert Module.objects.count() == 2 and len(scripted_llm.calls) == 2


def test_generation_repairs_a_module_that_breaks_a_rule_once(run, scripted_llm):
    make_focuses(run, 1)
    broken = module_for(1)
    broken["problems"][0]["answer"] = "gone"
    scripted_llm.queue(broken)
    scripted_llm.queue(module_for(1))
    generate_modules(run.pk)
    module = Module.objects.get()
    assert module.content["problems"][0]["answer"] == "went"
    assert "answer not an option" in scripted_llm.calls[1].messages[-1]["content"]


def test_generation_that_never_fits_the_schema_is_stored_with_its_error(run, scripted_llm):
    make_focuses(run, 1)
    scripted_llm.queue({"title": "x"})
    scripted_llm.queue({"title": "y"})
    generate_modules(run.pk)
    module = Module.objects.get()
    assert module.content == {} and "did not fit" in module.generation_error


def generated(run, scripted_llm, *modules):
    make_focuses(run, *range(1, len(modules) + 1))
    for module in modules:
        scripted_llm.queue(module)
    generate_modules(run.pk)


def test_judge_scores_map_to_validated_and_rejected(run, scripted_llm):
    generated(run, scripted_llm, module_for(1), module_for(2))
    scripted_llm.queue(judge(4))
    scripted_llm.queue(judge(2, verdict="rejected", problems=["The rationale is wrong."]))
    validate_modules(run.pk)
    first, second = Module.objects.order_by("focus__position")
    assert (first.status, second.status) == (ModuleStatus.VALIDATED, ModuleStatus.REJECTED)
    assert second.rejection_reason == "judge"
    report = second.reports.get()
    assert report.scores["correctness"] == 2 and not report.passed
    assert "judge: The rationale is wrong." in report.reasons
    assert len(report.checks) == 11 and all(c["passed"] for c in report.checks)


def test_a_low_mean_rejects_even_when_the_judge_approves(run, scripted_llm):
    generated(run, scripted_llm, module_for(1))
    scripted_llm.queue({**judge(3), "verdict": "validated"})
    validate_modules(run.pk)
    module = Module.objects.get()
    assert module.status == ModuleStatus.REJECTED
    assert any("mean score 3.00" in r for r in module.reports.get().reasons)


def test_a_rule_failure_rejects_whatever_the_judge_says(run, scripted_llm):
    generated(run, scripted_llm, module_for(1, correction="Yesterday I go to a market."))
    scripted_llm.queue(judge(5))
    validate_modules(run.pk)
    module = Module.objects.get()
    assert (module.status, module.rejection_reason) == (ModuleStatus.REJECTED, "correction_family")


def test_duplicate_of_a_validated_module_is_rejected(run, scripted_llm):
    same = module_for(1)
    generated(run, scripted_llm, same, {**module_for(2), "title": same["title"]})
    scripted_llm.queue(judge(5))
    scripted_llm.queue(judge(5))
    validate_modules(run.pk)
    assert list(
        Module.objects.order_by("focus__position").values_list("rejection_reason", flat=True)
    ) == ["", "not_duplicate"]


def test_a_module_without_content_is_rejected_without_asking_the_judge(run, scripted_llm):
    make_focuses(run, 1)
    scripted_llm.queue({"title": "x"})
    scripted_llm.queue({"title": "y"})
    generate_modules(run.pk)
    calls = len(scripted_llm.calls)
    validate_modules(run.pk)
    assert len(scripted_llm.calls) == calls
    report = ValidationReport.objects.get()
    assert (
        report.checks[0]["name"] == "schema" and Module.objects.get().rejection_reason == "schema"
    )


# -- The filter stage, on what the analysis stored -----------------------------------------


def test_filter_stage_groups_the_analysed_mistakes_by_cluster_and_rank(alice):
    from analysis.models import ErrorCluster
    from teaching.models import TeachingRun
    from teaching.pipeline.filter import filter_sentences
    from teaching.tests.analysed import analysed_conversation

    conversation = analysed_conversation(
        alice, counts={"verb_tense": 4, "subject_verb_agreement": 2, "determiner": 1}
    )
    run = TeachingRun.objects.create(learner=alice, conversation=conversation)
    filter_sentences(run.pk)
    run.refresh_from_db()
    assert [(g["error_type"], g["count"], g["language"]) for g in run.groups] == [
        ("verb_tense", 4, "en"),
        ("subject_verb_agreement", 2, "en"),
        ("determiner", 1, "en"),
    ]
    tense = ErrorCluster.objects.get(conversation=conversation, error_type="verb_tense")
    assert run.groups[0]["cluster_id"] == tense.pk and run.groups[0]["name"] == "Verb tense"
    assert run.groups[0]["examples"][0]["sentence"] == "Yesterday I go to the market."


def test_filter_stage_leaves_out_other_conversations_and_trivial_mistakes(alice, bob):
    from analysis.models import DetectedError
    from teaching.models import TeachingRun
    from teaching.pipeline.filter import filter_sentences
    from teaching.tests.analysed import analysed_conversation

    analysed_conversation(bob, counts={"preposition": 3})
    analysed_conversation(alice, counts={"preposition": 3}, title="Another")
    conversation = analysed_conversation(alice, counts={"verb_tense": 2, "determiner": 2})
    DetectedError.objects.filter(
        utterance__batch__conversation=conversation, error_type="determiner"
    ).update(error_type="punctuation")
    run = TeachingRun.objects.create(learner=alice, conversation=conversation)
    filter_sentences(run.pk)
    run.refresh_from_db()
    assert [g["error_type"] for g in run.groups] == ["verb_tense"]
    assert run.dropped == 2


def test_generation_quotes_the_learners_sentence_exactly(run, scripted_llm):
    make_focuses(run, 1)
    scripted_llm.queue(module_for(1, learner_sentence="Yesterday I goes to market."))
    generate_modules(run.pk)
    assert Module.objects.get().content["learner_sentence"] == "Yesterday I go to the market."


# -- Built lessons: no model --------------------------------------------------------------


def test_generation_built_a_lesson_from_the_learners_sentences_without_the_model(run, scripted_llm):
    make_focuses(run, 1, 2)
    generate_modules(run.pk)
    modules = list(Module.objects.order_by("focus__position"))
    assert [m.source for m in modules] == [ModuleSource.BUILT] * 2
    assert scripted_llm.calls == []
    first = modules[0].content
    assert first["learner_sentence"] == "Yesterday I go to the market."
    assert any(p["prompt"] == "Yesterday I ___ to the market." for p in first["problems"])
    assert modules[0].prompt_version == "built-1" and modules[0].build_log["note"]


def test_a_built_lesson_is_validated_by_its_rules_without_the_judge(run, scripted_llm):
    make_focuses(run, 1)
    generate_modules(run.pk)
    assert Module.objects.get().status == ModuleStatus.VALIDATED  # decided as it is built
    validate_modules(run.pk)
    module = Module.objects.get()
    report = module.reports.get()
    assert module.status == ModuleStatus.VALIDATED and report.passed
    assert scripted_llm.calls == [] and "Not asked" in report.judge_error
    assert all(check["passed"] for check in report.checks)


def test_a_built_lesson_that_breaks_a_rule_is_still_rejected(run, scripted_llm):
    make_focuses(run, 1)
    generate_modules(run.pk)
    module = Module.objects.get()
    module.content["problems"][0]["options"] = ["went", "went"]  # a teacher's slip
    module.content["problems"][0]["kind"] = "multiple_choice"
    module.status = ModuleStatus.DRAFT
    module.save(update_fields=["content", "status"])
    validate_modules(run.pk)
    module.refresh_from_db()
    assert module.status == ModuleStatus.REJECTED and module.rejection_reason == "options_unique"


def test_a_family_not_built_goes_to_the_model_with_why_recorded(run, scripted_llm):
    make_focuses(run, 1, error_type="vocabulary")
    scripted_llm.queue(module_for(1))
    generate_modules(run.pk)
    module = Module.objects.get()
    assert module.source == ModuleSource.MODEL and len(scripted_llm.calls) == 1
    assert module.build_log["not_built"] == "no built lessons for vocabulary"


def test_a_built_lesson_staff_asked_to_rewrite_goes_to_the_model(run, scripted_llm):
    make_focuses(run, 1)
    generate_modules(run.pk)
    Module.objects.update(regenerate=True)
    scripted_llm.queue(module_for(1))
    generate_modules(run.pk)
    assert Module.objects.get().source == ModuleSource.MODEL


def test_a_built_lesson_explained_in_the_learners_own_language_is_validated(
    run, scripted_llm, settings, alice
):
    settings.TEACHING_EXPLANATION_LANGUAGE = "native"
    alice.profile.native_language = "ko"
    alice.profile.save(update_fields=["native_language"])
    make_focuses(run, 1)
    generate_modules(run.pk)
    validate_modules(run.pk)
    module = Module.objects.get()
    assert module.status == ModuleStatus.VALIDATED, module.reports.get().reasons
    assert any("\uac00" <= ch <= "\ud7a3" for ch in module.content["explanation"])  # Hangul


def test_focuses_of_built_families_are_chosen_without_the_model(run, scripted_llm):
    run.groups = [
        group(1, error_type="vocabulary"),
        group(2),
        group(3),
        group(4, error_type="preposition"),
    ]
    run.save()
    select_focuses(run.pk)
    focuses = list(run.focuses.order_by("position"))
    assert scripted_llm.calls == []
    # One per family first (verb tense, preposition), then the family's second.
    assert [f.key for f in focuses] == ["en|verb_tense|2", "en|preposition|4", "en|verb_tense|3"]
    assert focuses[0].reason.startswith("Choosing the tense: 3 times in your messages")
    assert "\u201cgo\u201d for \u201cwent\u201d" in focuses[0].reason


def test_room_left_by_built_focuses_goes_to_the_rest_in_rank_order(run, scripted_llm):
    run.groups = [group(1, error_type="vocabulary"), group(2)]
    run.save()
    select_focuses(run.pk)
    focuses = list(run.focuses.order_by("position"))
    assert scripted_llm.calls == []
    assert [f.key for f in focuses] == ["en|verb_tense|2", "en|vocabulary|1"]
    assert focuses[1].reason == FALLBACK_REASON


def test_focuses_of_other_languages_are_still_chosen_by_the_model_when_built(run, scripted_llm):
    run.groups = [group(1, language="ko", error_type="other"), group(2, language="ko")]
    run.save()
    scripted_llm.queue({"focuses": [{"group": 2, "reason": "ko"}]})
    select_focuses(run.pk)
    assert len(scripted_llm.calls) == 1
    assert list(run.focuses.values_list("key", "reason")) == [("ko|verb_tense|2", "ko")]


def test_built_lessons_are_generated_first_and_announced_before_the_model_writes(run, scripted_llm):
    make_focuses(run, 1)
    Focus.objects.filter(run=run).update(position=1)
    g = group(2, error_type="vocabulary")
    Focus.objects.create(
        run=run,
        key=g["key"],
        position=0,
        language="en",
        error_type="vocabulary",
        cluster_name="Words",
        reason="r",
        examples=g["examples"],
    )
    scripted_llm.queue(module_for(2))
    generate_modules(run.pk)
    built = Module.objects.get(source=ModuleSource.BUILT)
    written = Module.objects.get(source=ModuleSource.MODEL)
    assert built.status == ModuleStatus.VALIDATED and written.status == ModuleStatus.DRAFT
    assert built.validated_at <= written.updated_at and len(scripted_llm.calls) == 1
