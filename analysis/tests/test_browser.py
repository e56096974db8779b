"""A learner in headless Chromium: chats, sees corrections appear inline, ends the
conversation and finds the clusters and charts on "My mistakes".

The product runs in a subprocess (`manage.py serve`) with the scripted model, one model
call per utterance. The tutor's first nine replies are scripted plain text; every other
call gets the default: the analysis of the learner's sentence.
"""

import json
from pathlib import Path

import pytest
from django.conf import settings

from conversations.tests.browser_support import ProductServer
from conversations.tests.test_browser import (  # noqa: F401  (the browser fixtures)
    PASSWORD,
    USERNAME,
    browser,
    page,
    server_log_on_failure,
    start_conversation,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SCREENSHOT = Path(settings.BASE_DIR) / "var" / "browser" / "my-mistakes.png"
SENTENCE = "Yesterday I goed to the shop with my brother."
ANALYSIS = {
    "corrected": "Yesterday I went to the shop with my brother.",
    "mistakes": [
        {
            "wrong": "goed",
            "right": "went",
            "type": "verb_form",
            "explanation": "Go is irregular: its past is went.",
        }
    ],
    "level": "B1",
    "topics": ["shopping"],
    "priority": 4,
}
ANALYSED = {"text": json.dumps(ANALYSIS), "chunk_size": 400}
QUICK = {"text": "Tell me more!", "chunk_size": 8}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    product = ProductServer(tmp_path_factory.mktemp("product"), script={"default": ANALYSED})
    product.env.update(ANALYSIS_UTTERANCES_PER_CALL="1", ANALYSIS_BATCH_SIZE="10")
    try:
        product.start()
        product.manage(
            "shell",
            "-c",
            "from accounts.services import learner_sign_up; "
            f"learner_sign_up(username={USERNAME!r}, password={PASSWORD!r}, "
            "email='maya@example.com', native_language='es', target_language='en', level='B1')",
        )
        yield product
    finally:
        product.stop()


def send(page, count_before: int) -> None:  # noqa: F811
    page.get_by_label("Your message").fill(SENTENCE)
    page.get_by_label("Your message").press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.message.is-assistant.is-complete').length > n",
        arg=count_before,
    )


def test_learner_sees_inline_corrections_then_their_mistake_families(server, page):  # noqa: F811
    server.script({"default": ANALYSED, "replies": [QUICK] * 9})
    with server_log_on_failure(server):
        start_conversation(page, SENTENCE)
        page.wait_for_selector(".message.is-assistant.is-complete")
        for n in range(1, 10):
            send(page, n)

        # The first batch (ten messages) is analysed in the background; its corrections
        # arrive over the event socket and are marked in place.
        marks = page.locator(".message.is-user mark.analysis-mark")
        marks.nth(9).wait_for(timeout=60_000)
        assert marks.count() == 10
        first = marks.first
        assert first.inner_text() == "goed"
        assert "should be “went”" in first.get_attribute("aria-label")
        tip = page.locator("#" + first.get_attribute("aria-describedby"))
        assert not tip.is_visible()
        first.focus()  # the keyboard shows the correction, not only the mouse
        assert tip.is_visible() and "Go is irregular" in tip.inner_text()
        page.keyboard.press("Tab")
        marks.nth(1).hover()
        assert page.locator("#" + marks.nth(1).get_attribute("aria-describedby")).is_visible()

        server.script({"default": ANALYSED, "replies": [QUICK, QUICK]})
        send(page, 10)
        send(page, 11)
        page.get_by_role("button", name="End conversation").click()
        page.get_by_role("dialog").get_by_role("button", name="End conversation").click()
        marks.nth(11).wait_for(timeout=60_000)
        page.wait_for_function(
            "() => document.getElementById('mistakes-link').classList.contains('has-news')",
            timeout=60_000,
        )

        page.get_by_role("link", name="My mistakes").first.click()
        page.wait_for_url("**/mistakes/")
        families = page.locator(".family")
        assert families.count() >= 1
        assert "12 times" in families.first.inner_text()
        assert families.first.locator("mark").first.inner_text() == "goed"
        assert page.locator("figure.chart svg").count() == 2
        assert page.locator("table.data-table").count() >= 2
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True, animations="disabled")
