"""Staff review in the admin: filters, the readable report, and every action with its
LogEntry row (who, when, what)."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry

from teaching.admin import content_fields
from teaching.models import Module, ModuleStatus, Stage, TeachingRun, ValidationReport
from teaching.tests.helpers import module_row

ADMIN = "/admin/teaching/module/"


@pytest.fixture
def staff_client(client, carol):
    client.force_login(carol)
    return client


@pytest.fixture
def rejected(alice):
    module = module_row(
        alice, status=ModuleStatus.REJECTED, rejection_reason="judge", prompt_version="abc123def456"
    )
    ValidationReport.objects.create(
        module=module,
        prompt_version="abc123def456",
        checks=[
            {"name": "options_unique", "passed": True, "reason": "distinct options"},
            {
                "name": "explanation_language",
                "passed": False,
                "reason": "explanation is in es, not en",
            },
        ],
        scores={"correctness": 2, "clarity": 4, "level_fit": 3, "pedagogy": 3},
        judge_verdict="rejected",
        judge_problems=["The second example is wrong."],
        reasons=["judge: correctness scored 2 (needs 3)"],
    )
    return module


def act(staff_client, action, module):
    return staff_client.post(
        ADMIN, {"action": action, "_selected_action": [module.pk]}, follow=True
    )


def log_of(module) -> list[str]:
    return list(
        LogEntry.objects.filter(object_id=str(module.pk), action_flag=CHANGE).values_list(
            "change_message", flat=True
        )
    )


def test_rejected_modules_filter_by_reason_language_family_and_prompt_version(
    staff_client, rejected, alice
):
    module_row(alice, n=2, title="Another one")
    for query in (
        "status=rejected",
        "rejection_reason=judge",
        "language=en&status=rejected",
        "error_type=verb_tense&status=rejected",
        "prompt_version=abc123def456",
    ):
        page = staff_client.get(f"{ADMIN}?{query}").content.decode()
        assert rejected.title in page and "Another one" not in page, query


def test_the_validation_report_reads_clearly_beside_the_module(staff_client, rejected):
    page = staff_client.get(f"{ADMIN}{rejected.pk}/change/").content.decode()
    assert "✗" in page and "explanation is in es, not en" in page
    assert "correctness: 2/5" in page and "The second example is wrong." in page


def test_approve_makes_it_visible_and_is_logged(staff_client, rejected, carol, api):
    act(staff_client, "approve", rejected)
    rejected.refresh_from_db()
    assert rejected.status == ModuleStatus.APPROVED
    assert api.get(f"/api/v1/modules/{rejected.pk}/").status_code == 200
    entry = LogEntry.objects.get(object_id=str(rejected.pk))
    assert (entry.user, entry.change_message) == (carol, "Approved")


def test_edit_and_approve_validates_the_edit_and_is_logged(staff_client, rejected, carol):
    url = f"{ADMIN}{rejected.pk}/change/"
    fields = content_fields({**rejected.content, "title": "Past simple: went, saw, ate"})
    bad = staff_client.post(url, {**fields, "problem_0_prompt": "", "problem_0_kind": ""})
    assert bad.status_code == 200 and "The lesson is not complete" in bad.content.decode()
    staff_client.post(url, {**fields, "approve": "on"})
    rejected.refresh_from_db()
    assert (rejected.status, rejected.title) == (
        ModuleStatus.APPROVED,
        "Past simple: went, saw, ate",
    )
    entry = LogEntry.objects.get(object_id=str(rejected.pk))
    assert entry.user == carol and "approved" in entry.change_message


def test_the_lesson_form_has_a_field_per_part_and_a_preview_not_json(staff_client, rejected):
    page = staff_client.get(f"{ADMIN}{rejected.pk}/change/").content.decode()
    assert 'name="content"' not in page and "&quot;problems&quot;" not in page
    assert 'name="title"' in page and 'value="Talking about yesterday: the past simple"' in page
    assert 'name="problem_0_option_1"' in page and 'value="went"' in page
    assert 'name="problem_0_answer"' in page and 'name="example_1_note"' in page
    assert "As the learner sees it" in page and "Key: <strong>went</strong>" in page


def test_an_edit_that_breaks_a_rule_is_refused_with_the_reason(staff_client, rejected):
    url = f"{ADMIN}{rejected.pk}/change/"
    fields = content_fields(rejected.content)
    # The key of a choice must be among its options.
    page = staff_client.post(url, {**fields, "problem_0_answer": "gone", "approve": "on"})
    body = page.content.decode()
    assert page.status_code == 200 and "The lesson breaks the rules" in body
    rejected.refresh_from_db()
    assert rejected.status == ModuleStatus.REJECTED


def test_a_saved_edit_is_rechecked_and_its_report_says_so(staff_client, rejected):
    url = f"{ADMIN}{rejected.pk}/change/"
    fields = content_fields(rejected.content)
    staff_client.post(url, {**fields, "problem_1_answer": "ate"})
    rejected.refresh_from_db()
    report = rejected.reports.first()
    assert report.passed and "teacher's edit" in report.judge_error
    assert rejected.status == ModuleStatus.REJECTED  # saved, not shown until approved


def test_regenerate_writes_and_validates_it_again(
    staff_client, rejected, scripted_llm, carol, settings
):
    from teaching.tests.conftest import module_for
    from teaching.tests.factories import judge

    settings.TEACHING_BUILD_LESSONS = False  # the model's path; the built one is below
    TeachingRun.objects.filter(pk=rejected.run_id).update(status="done", stage=Stage.DONE)
    act(staff_client, "regenerate", rejected)
    rejected.refresh_from_db()
    assert rejected.regenerate and rejected.status == ModuleStatus.DRAFT
    assert log_of(rejected) == ["Regeneration requested"]
    run = TeachingRun.objects.get(pk=rejected.run_id)
    assert run.status == "queued"
    # The run goes again from its first stage; only this module is written again.
    TeachingRun.objects.filter(pk=run.pk).update(stage=Stage.FOCUS)
    scripted_llm.queue(module_for(1, title="Yesterday: go becomes went"))
    scripted_llm.queue(judge(5))
    from core import jobs
    from teaching.pipeline import advance

    jobs.run(TeachingRun, run.pk, work=advance)
    rejected.refresh_from_db()
    assert (rejected.status, rejected.title, rejected.regenerate) == (
        ModuleStatus.VALIDATED,
        "Yesterday: go becomes went",
        False,
    )
    assert rejected.reports.count() == 2  # the old report stays as history


def test_reject_for_good_hides_it_and_stops_regeneration(staff_client, rejected, carol):
    act(staff_client, "reject_for_good", rejected)
    rejected.refresh_from_db()
    assert rejected.final and rejected.status == ModuleStatus.REJECTED
    act(staff_client, "regenerate", rejected)
    assert log_of(rejected) == ["Rejected for good"]
    act(staff_client, "approve", rejected)
    rejected.refresh_from_db()
    assert rejected.status == ModuleStatus.REJECTED


def test_counts_per_prompt_version_and_per_run(staff_client, rejected, alice):
    module_row(alice, n=2, prompt_version="abc123def456", conversation=rejected.conversation)
    page = staff_client.get(f"{ADMIN}outcomes/").content.decode()
    assert "abc123def456" in page and "50%" in page
    runs = staff_client.get("/admin/teaching/teachingrun/").content.decode()
    assert '<td class="field-validated_count">1</td>' in runs
    assert '<td class="field-rejected_count">1</td>' in runs


def test_learners_cannot_reach_the_review(client, alice, rejected):
    client.force_login(alice)
    assert client.get(ADMIN).status_code == 302
    assert Module.objects.get(pk=rejected.pk).status == ModuleStatus.REJECTED


def test_regenerating_a_model_written_lesson_builds_it_when_the_builder_can(
    staff_client, rejected, scripted_llm, settings
):
    from core import jobs
    from teaching.pipeline import advance

    # The heartbeat's own connection cannot see this test's uncommitted run; loading
    # spaCy cold can outlast a beat, which would read as the run being lost.
    settings.JOB_HEARTBEAT_SECONDS = 600

    TeachingRun.objects.filter(pk=rejected.run_id).update(status="done", stage=Stage.DONE)
    act(staff_client, "regenerate", rejected)
    TeachingRun.objects.filter(pk=rejected.run_id).update(stage=Stage.GENERATE)
    jobs.run(TeachingRun, rejected.run_id, work=advance)
    rejected.refresh_from_db()
    run = TeachingRun.objects.get(pk=rejected.run_id)
    assert (run.status, run.stage) == ("done", Stage.DONE), run.error
    assert (rejected.status, rejected.source) == (ModuleStatus.VALIDATED, "built"), [
        r.reasons for r in rejected.reports.all()
    ]
    assert scripted_llm.calls == []
