"""A learner in headless Chromium chats with a mistake, ends the conversation, and within
seconds practises a lesson built from their own sentence: no model writes or picks it (the
scripted model only chats and analyses)."""

import re
import time

import pytest

from analysis.tests.test_browser import ANALYSED, QUICK, SENTENCE, marked_within, send
from conversations.tests.browser_support import ProductServer
from conversations.tests.test_browser import (  # noqa: F401  (the browser fixtures)
    PASSWORD,
    USERNAME,
    browser,
    page,
    server_log_on_failure,
    start_conversation,
)
from teaching.tests.test_browser import shoot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

# From End to the first lesson on the page: the chain is the last analysis batch, the
# clustering, and the teaching run (built, no model); seconds, with room for a loaded
# machine (the bench measures the teaching run alone: bench/teaching.py --built).
FIRST_LESSON_SECONDS = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    product = ProductServer(tmp_path_factory.mktemp("own"), script={"default": ANALYSED})
    product.env.update(ANALYSIS_UTTERANCES_PER_CALL="1", TEACHING_BUILD_LESSONS="true")
    try:
        product.start()
        product.sign_up(USERNAME, PASSWORD, native_language="es", target_language="en", level="B1")
        yield product
    finally:
        product.stop()


def test_learner_ends_a_conversation_and_practises_their_own_sentence(server, page):  # noqa: F811
    server.script({"default": ANALYSED, "replies": [QUICK] * 3})
    with server_log_on_failure(server):
        start_conversation(page, SENTENCE)
        # The worker loads spaCy and the detectors before its first task.
        page.wait_for_selector(".message.is-assistant.is-complete", timeout=180_000)
        marked_within(page, 1, 60)
        send(page, "My sister go to work by bus.", 1)
        send(page, SENTENCE, 2)
        conversation_id = re.search(r"/conversations/(\d+)/", page.url).group(1)

        page.get_by_role("button", name="End conversation").click()
        page.get_by_role("dialog").get_by_role("button", name="End conversation").click()
        ended = time.monotonic()
        page.goto(f"{server.url}/lessons/conversations/{conversation_id}/")
        page.wait_for_selector("#lesson-list .lesson-card", timeout=FIRST_LESSON_SECONDS * 1000)
        seconds = time.monotonic() - ended
        print(f"End -> first lesson on the page: {seconds:.1f} s")
        assert seconds < FIRST_LESSON_SECONDS
        page.wait_for_function(
            "() => !document.getElementById('run-progress').textContent.includes('more coming')"
        )
        shoot(page, "lessons-after-end.png")

        page.locator("#lesson-list .lesson-link").first.click()
        page.wait_for_url(re.compile(r"/lessons/\d+/$"))
        assert SENTENCE in page.locator("main").inner_text()  # their sentence, quoted
        # The gap is in their own sentence; the options are their own form and the key.
        own = page.locator(".problem[data-kind=multiple_choice]").filter(
            has_text="___ to school every day."
        )
        own.first.locator("input[value=go]").wait_for()
        own.first.locator("input[value=goes]").check()
        own.first.get_by_role("button", name="Check").click()
        assert "Right!" in own.first.locator(".feedback").inner_text()
        own.first.scroll_into_view_if_needed()
        shoot(page, "practice-own-sentence.png")
