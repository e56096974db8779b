"""A learner in headless Chromium: chats, sees each message's mistakes marked as it is
sent (the model-free pass), explained by a grammar note, ends the conversation and finds
the clusters and charts on "My mistakes".

The product runs in a subprocess (`manage.py serve`) with its own detectors and
calibration table and the scripted model as the tutor; the model's batch pass (one call
per utterance) gets the scripted analysis of the sentence, which agrees with the marks.
"""

import json
import re
import time
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

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "browser"
SENTENCE = "He go to school every day."
CLEAN = "The weather is nice today."
ANALYSIS = {
    "corrected": "He goes to school every day.",
    "mistakes": [
        {
            "wrong": "go",
            "right": "goes",
            "type": "subject_verb_agreement",
            "explanation": "After he, the verb go takes -s: goes.",
        }
    ],
    "level": "B1",
    "topics": ["school"],
    "priority": 4,
}
# The WCAG 2 contrast ratio of an element's text against its nearest background colour.
# null while the element is detached: a later analysis of the message re-renders its marks.
CONTRAST = """el => {
  if (!el.isConnected) return null;
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  let node = el, background = "rgba(0, 0, 0, 0)";
  while (node && (background === "rgba(0, 0, 0, 0)" || background === "transparent")) {
    background = getComputedStyle(node).backgroundColor; node = node.parentElement; }
  const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(rgb(background))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""

SHOWN_TEXT = "t => getComputedStyle(t).visibility === 'visible' ? t.innerText : null"


def revealed(page, mark, action: str) -> str:  # noqa: F811  (the page fixture, passed on)
    """The tip's text once focusing or hovering the mark shows it. The batch's analysis
    of the first ten messages lands meanwhile and re-renders the marks, which can take
    the focus or the pointer away: try again on the new element."""
    for _ in range(50):
        getattr(mark, action)()
        tip = page.locator("#" + mark.get_attribute("aria-describedby"))
        # Visibility and text read in one step: a re-render between two separate reads
        # gives a hidden tip, whose innerText is empty.
        text = tip.evaluate(SHOWN_TEXT)
        if text:
            return text
        page.wait_for_timeout(100)
    raise AssertionError(f"{action} never showed the mark's tip")


def contrast_of(locator) -> float:
    for _ in range(50):
        value = locator.evaluate(CONTRAST)
        if value is not None:
            return value
        locator.page.wait_for_timeout(100)
    raise AssertionError("the element kept being replaced")


ANALYSED = {"text": json.dumps(ANALYSIS), "chunk_size": 400}
QUICK = {"text": "Tell me more!", "chunk_size": 8}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    product = ProductServer(tmp_path_factory.mktemp("product"), script={"default": ANALYSED})
    product.env.update(ANALYSIS_UTTERANCES_PER_CALL="1", ANALYSIS_BATCH_SIZE="10")
    try:
        product.start()
        product.sign_up(
            USERNAME,
            PASSWORD,
            email="maya@example.com",
            native_language="es",
            target_language="en",
            level="B1",
        )
        yield product
    finally:
        product.stop()


def send(page, text: str, count_before: int) -> None:  # noqa: F811
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.message.is-assistant.is-complete').length > n",
        arg=count_before,
    )


def marked_within(page, seq: int, seconds: float) -> None:  # noqa: F811
    """The learner message `seq` gets its analysis (marks or "No clear mistakes found")."""
    page.wait_for_selector(
        f'.message.is-user[data-seq="{seq}"] .analysis-summary', timeout=seconds * 1000
    )


def test_learner_sees_each_message_marked_as_sent_then_their_mistake_families(server, page):  # noqa: F811
    server.script({"default": ANALYSED, "replies": [QUICK] * 9})
    with server_log_on_failure(server):
        start_conversation(page, SENTENCE)
        # The worker loads its models (spaCy, Harper, the spelling tables) before it claims
        # its first task: the first reply and mark wait for that, on a loaded machine long.
        page.wait_for_selector(".message.is-assistant.is-complete", timeout=180_000)
        marked_within(page, 1, 60)
        for n in range(1, 9):
            send(page, SENTENCE, n)
            marked_within(page, 2 * n + 1, 15)  # each as it is sent, not after ten
        send(page, CLEAN, 9)
        marked_within(page, 19, 15)

        marks = page.locator(".message.is-user mark.analysis-mark")
        assert marks.count() == 9
        first = marks.first
        assert first.inner_text() == "go"
        assert "should be “goes”" in first.get_attribute("aria-label")
        tip = page.locator("#" + first.get_attribute("aria-describedby"))
        assert not tip.is_visible()
        # The keyboard shows the correction, not only the mouse.
        assert "-s after he, she, it" in revealed(page, first, "focus")  # the note
        # Escape hides the shown tip without moving the focus (it would cover the next
        # message's marks), and does not cancel anything else.
        page.keyboard.press("Escape")
        shown = page.locator("#" + marks.first.get_attribute("aria-describedby"))
        assert shown.evaluate(SHOWN_TEXT) is None
        assert revealed(page, marks.nth(1), "hover")
        clean = page.locator('.message.is-user[data-seq="19"] .analysis-summary')
        assert clean.inner_text() == "No clear mistakes found"
        summary = page.locator('.message.is-user[data-seq="1"] .analysis-summary')
        assert contrast_of(summary) >= 4.5  # readable on the learner's bubble
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "marks-as-sent.png"), animations="disabled")

        server.script({"default": ANALYSED, "replies": [QUICK, QUICK]})
        send(page, SENTENCE, 10)
        send(page, SENTENCE, 11)
        page.get_by_role("button", name="End conversation").click()
        page.get_by_role("dialog").get_by_role("button", name="End conversation").click()
        marks.nth(10).wait_for(timeout=60_000)
        page.wait_for_function(
            "() => document.getElementById('mistakes-link').classList.contains('has-news')",
            timeout=60_000,
        )

        page.get_by_role("link", name="My mistakes").first.click()
        page.wait_for_url("**/mistakes/")
        families = page.locator(".family")
        assert families.count() >= 1
        assert "11 times" in families.first.inner_text()
        assert families.first.locator("mark").first.inner_text() == "go"
        assert page.locator("figure.chart svg").count() == 1
        assert page.locator("table.data-table").count() >= 2
        page.screenshot(
            path=str(SCREENSHOTS / "my-mistakes.png"), full_page=True, animations="disabled"
        )


class MissedEvents:
    """The learner's event socket loses every analysis event of its first connection, as
    when a check finishes while the page loads or the network is down; `cut()` then
    drops that connection, and the page connects again."""

    def __init__(self) -> None:
        self.routes = []
        self.dropped = 0

    def __call__(self, route) -> None:
        upstream = route.connect_to_server()
        self.routes.append(route)
        first = len(self.routes) == 1

        def to_page(message) -> None:
            if first and json.loads(message).get("type", "").startswith("analysis."):
                self.dropped += 1
            else:
                route.send(message)

        upstream.on_message(to_page)

    def cut(self) -> None:
        self.routes[0].close(code=4000, reason="network hiccup")


def analysed_seqs(page) -> set[int]:  # noqa: F811
    """The learner messages the API has an analysis of, read as the page reads it."""
    url = page.url.split("/conversations/")[0] + page.locator("#chat").get_attribute(
        "data-analysis-url"
    )
    response = page.request.get(url, headers={"Accept": "application/json"})
    assert response.ok, response.status
    return {utterance["message_seq"] for utterance in response.json()["utterances"]}


def test_a_mark_whose_event_was_missed_shows_once_the_socket_is_back(server, page):  # noqa: F811
    server.script({"default": ANALYSED, "replies": [QUICK] * 2})
    link = MissedEvents()
    page.route_web_socket(re.compile(r"/ws/events/$"), link)
    with server_log_on_failure(server):
        start_conversation(page, CLEAN)
        page.wait_for_selector(".message.is-assistant.is-complete", timeout=180_000)
        send(page, SENTENCE, 1)  # message 3, checked after the page loaded its analysis
        deadline = time.monotonic() + 60
        while 3 not in analysed_seqs(page):
            assert time.monotonic() < deadline, "the message was never checked"
            page.wait_for_timeout(200)
        assert link.dropped >= 1
        assert page.locator('.message.is-user[data-seq="3"] .analysis-summary').count() == 0

        link.cut()
        marked_within(page, 3, 15)  # asked for on reconnecting, not waited for
        assert len(link.routes) == 2
        assert page.locator('.message.is-user[data-seq="3"] mark').first.inner_text() == "go"
