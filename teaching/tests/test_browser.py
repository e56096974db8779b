"""A learner in headless Chromium: an ended conversation's lessons appear live, one is
practised, saved, found in the collection and comes back as due; staff read a rejected
one in the admin. The real product runs in a subprocess with the scripted model."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from conversations.tests.browser_support import ProductServer
from conversations.tests.test_browser import (  # noqa: F401
    CHROMIUM_FLAGS,
    browser,
    server_log_on_failure,
)
from teaching.tests.analysed import scripted_module

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

USERNAME, PASSWORD = "noor", "a-long-practice-passphrase"
STAFF = "tess"
SHOTS = Path(settings.BASE_DIR) / "var" / "browser"
SCORE = {"correctness": 4, "clarity": 4, "level_fit": 4, "pedagogy": 4}
LOW = {"correctness": 2, "clarity": 3, "level_fit": 3, "pedagogy": 2}


def reply(data: dict, *, delay: float = 0.0) -> dict:
    return {"text": json.dumps(data), "chunk_size": 40, "delay": delay}


# Focus selection, two modules (slowly, to watch them arrive), then the judge twice.
SCRIPT = {
    "replies": [
        reply(
            {
                "focuses": [
                    {"group": 1, "reason": "Every past event."},
                    {"group": 2, "reason": "She/he takes has."},
                ]
            }
        ),
        reply(scripted_module("verb_tense", "Talking about yesterday"), delay=0.05),
        reply(scripted_module("subject_verb_agreement", "He has, she has"), delay=0.05),
        reply({"scores": SCORE, "verdict": "validated", "problems": []}),
        reply({"scores": LOW, "verdict": "rejected", "problems": ["Problem 3 is ambiguous."]}),
    ]
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # The model's path (judged, one rejected); built lessons are tested in test_runs.
    product = ProductServer(
        tmp_path_factory.mktemp("teaching"),
        script=SCRIPT,
        env={"TEACHING_BUILD_LESSONS": "false"},
    )
    try:
        product.start()
        product.manage(
            "shell",
            "-c",
            "from accounts.services import learner_sign_up\n"
            "from teaching.tests.analysed import analysed_conversation\n"
            f"u = learner_sign_up(username={USERNAME!r}, password={PASSWORD!r}, "
            "native_language='es', target_language='en', level='B1')\n"
            "s = learner_sign_up(username='tess', password='a-long-practice-passphrase', "
            "native_language='es', target_language='en', level='C1')\n"
            "s.is_staff = s.is_superuser = True; s.save()\n"
            "c = analysed_conversation(u, counts={'verb_tense': 6, 'subject_verb_agreement': 4})\n"
            "print('conversation', c.pk)",
        )
        yield product
    finally:
        product.stop()


def log_in(browser, server, username):  # noqa: F811
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")
    return context, page


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True, animations="disabled")
    print(f"Screenshot: {SHOTS / name}")


def make_due(server) -> None:
    server.manage(
        "shell",
        "-c",
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from teaching.models import CollectionItem\n"
        "CollectionItem.objects.update(due_at=timezone.now() - timedelta(minutes=1))",
    )


def answer_all(problems) -> None:
    """Every item answered right, whatever its kind and place."""
    for index in range(problems.count()):
        problem = problems.nth(index)
        answer = problem.get_attribute("data-answer")
        if problem.locator("input[type=radio]").count():
            problem.locator(f'input[type=radio][value="{answer}"]').check()
        else:
            problem.locator("input[type=text]").fill(answer)


def test_lessons_appear_live_are_practised_saved_and_come_back_due(server, browser):  # noqa: F811
    context, page = log_in(browser, server, USERNAME)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    with server_log_on_failure(server):
        # The ended conversation links to its lessons; none are made yet.
        page.get_by_role("link", name="Weekend plans").click()
        page.get_by_role("link", name="See the lessons made from it").click()
        page.wait_for_url(re.compile(r"/lessons/conversations/\d+/$"))
        conversation_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        assert "made once the conversation has ended" in page.locator("#run-progress").inner_text()

        # Clustering is done: analysis calls teaching's hook, and lessons arrive live.
        server.manage(
            "shell",
            "-c",
            "from teaching.services import run_for_conversation; "
            f"run_for_conversation({conversation_id})",
        )
        page.wait_for_selector(".lesson-card >> text=Talking about yesterday", timeout=60_000)
        page.wait_for_function(
            "() => document.getElementById('run-progress').textContent.includes('1 of 2 ready')"
            " && !document.getElementById('run-progress').textContent.includes('more coming')",
            timeout=60_000,
        )
        assert (
            page.locator("#lesson-list .lesson-card").count() == 1
        )  # the rejected one never shows
        shoot(page, "lessons.png")

        # Practise it: immediate feedback with the rationale, then a score.
        page.locator("#lesson-list").get_by_role(
            "link", name=re.compile("Talking about yesterday")
        ).click()
        problems = page.locator(".problem")
        problems.nth(0).locator("input[type=radio]").nth(1).check()
        problems.nth(0).get_by_role("button", name="Check").click()
        assert "Right!" in problems.nth(0).locator(".feedback").inner_text()
        problems.nth(1).get_by_label("Your answer").fill("goed")
        problems.nth(1).get_by_role("button", name="Check").click()
        feedback = problems.nth(1).locator(".feedback").inner_text()
        assert "the answer is “went”" in feedback and "Past time" in feedback
        problems.nth(2).locator("input[value=has]").check()
        page.get_by_role("button", name="Finish and see my score").click()
        page.wait_for_selector("#score:not([hidden])")
        assert "Your score: 2 of 3." in page.locator("#score").inner_text()
        shoot(page, "practice.png")

        # Save it; it is in the collection, filterable, and can be practised from there.
        page.get_by_role("button", name="Save to my collection").click()
        assert page.get_by_text("Saved to your collection.").is_visible()
        # The score just earned is its first review, so it is not due again at once.
        saved = page.locator("#saved-note").inner_text()
        assert "with your score of 2 of 3" in saved and "0 minutes" not in saved
        page.get_by_role("link", name="Collection").first.click()
        page.get_by_label("Mistake family").select_option(label="Verb tense")
        page.get_by_role("button", name="Filter").click()
        item = page.locator(".collection-item")
        assert item.count() == 1 and "Talking about yesterday" in item.inner_text()
        item.get_by_label("Notes").fill("went, saw, ate")
        item.get_by_role("button", name="Save notes").click()
        assert page.get_by_text("Saved your notes.").is_visible()
        shoot(page, "collection.png")

        # Its review comes due: the home page lists it; a perfect review sends it later.
        make_due(server)
        page.goto(server.url + "/")
        # Listed by what it is about, not by its title: a built lesson's holds the answer.
        due = page.locator(".due-today .due-list li")
        topic = due.first.inner_text().strip()
        assert due.count() == 1 and topic and "Talking about yesterday" not in topic
        page.get_by_role("link", name="Start review").click()
        assert page.locator("h1").inner_text() == f"Review: {topic}"
        # The review: its items in another order, the explanation held back until the end.
        problems = page.locator(".problem")
        assert problems.nth(0).get_attribute("data-kind") != "multiple_choice"
        assert page.locator("#explanation").is_hidden()
        assert "Talking about yesterday" not in page.locator("main").inner_text()
        answer_all(problems)
        page.get_by_role("button", name="Finish and see my score").click()
        page.wait_for_selector("#score:not([hidden])")
        score = page.locator("#score").inner_text()
        assert "Your score: 3 of 3." in score and "Next review:" in score
        assert page.locator("#explanation").is_visible()
        assert "Talking about yesterday" in page.locator("#explanation").inner_text()
        shoot(page, "review.png")
        page.get_by_role("link", name="Next review →").click()
        assert page.get_by_text("All caught up").is_visible()
        assert topic in page.locator("main").inner_text()  # coming up

        # Time passes: it is due again, on the home page.
        make_due(server)
        page.goto(server.url + "/")
        assert topic in page.locator(".due-today").inner_text()
        shoot(page, "due-today.png")
        assert errors == [], errors
    context.close()


def test_staff_read_the_rejected_module_in_the_admin(server, browser):  # noqa: F811
    context, page = log_in(browser, server, STAFF)
    with server_log_on_failure(server):
        page.goto(server.url + "/admin/teaching/module/?status=rejected")
        page.get_by_role("link", name="He has, she has").click()
        body = page.locator("#content-main").inner_text()
        assert "Problem 3 is ambiguous." in body and "correctness: 2/5" in body
        assert page.get_by_label("Problem 1: key (the right answer)").input_value()
        shoot(page, "admin-rejected.png")
    context.close()
