"""A learner in headless Chromium, against the real product running in a subprocess.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright's Python API; Playwright's
own browser downloads are never used. A missing browser fails the tests: CI installs it.
"""

import contextlib
import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from conversations.tests.browser_support import ProductServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
USERNAME = "maya"
PASSWORD = "a-long-practice-passphrase"
SCREENSHOT = Path(settings.BASE_DIR) / "var" / "browser" / "chat.png"

# Streams in about 100 chunks, 50 ms apart: slow enough to reload or stop it half way.
SLOW_REPLY = (
    "The present perfect links the past to now. Use it for experiences, for changes that "
    "matter at this moment, and with since or for when something is still going on. "
    "Say I have lived here since May, but I lived there in 2019, because that time is over. "
    "Try one sentence of your own and I will check it."
)
SLOW = {"text": SLOW_REPLY, "chunk_size": 3, "delay": 0.05}
# Markdown to render, and markup that must never run.
MARKUP_REPLY = (
    "**Well done!** Your sentence is correct.\n\n"
    "<script>window.__pwned = 'script'</script>"
    '<img src="x" onerror="window.__pwned = \'img\'">\n\n'
    "- has lived\n- since May"
)
QUICK = {"text": "Good question.", "chunk_size": 4, "delay": 0.01}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    product = ProductServer(tmp_path_factory.mktemp("product"), script={"default": QUICK})
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


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install it (apt-get install chromium, or "
            "`make browser`) to run the browser tests."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: `.venv/bin/pip install -e '.[dev]'` installs it.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser profile, logged in through the log-in page. JavaScript errors fail."""
    context = browser.new_context(viewport={"width": 1100, "height": 860})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        with server_log_on_failure(server):
            page.goto(server.url + "/")
            assert "/accounts/login/" in page.url
            page.get_by_label("Username").fill(USERNAME)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(server.url + "/")
        yield page
        assert errors == [], f"JavaScript errors on the page: {errors}"
    finally:
        context.close()


@contextlib.contextmanager
def server_log_on_failure(server: ProductServer):
    try:
        yield
    except BaseException:
        print(f"----- server output -----\n{server.log()}")
        raise


def start_conversation(page, text: str, task_label: str = "Chat") -> None:
    page.get_by_label("Your first message").fill(text)
    page.get_by_label("Task").select_option(label=task_label)
    page.get_by_label("Your first message").press("Enter")
    page.wait_for_url(re.compile(r"/conversations/\d+/$"))


def wait_for_partial_reply(page) -> str:
    page.wait_for_function(
        "() => { const m = document.querySelector('.message.is-assistant.is-streaming');"
        " return m && m.querySelector('.message-body').textContent.length > 20; }"
    )
    return assistant_text(page)


def assistant_text(page, index: int = 0) -> str:
    return page.locator(".message.is-assistant .message-body").nth(index).inner_text().strip()


def test_learner_sees_a_streamed_reply_survive_a_reload(server, page):
    server.script({"default": QUICK, "replies": [SLOW, {**QUICK, "text": MARKUP_REPLY}]})
    with server_log_on_failure(server):
        assert page.get_by_text("No conversations yet").is_visible()

        # Ask from the home page; Enter sends and opens the new conversation.
        start_conversation(page, "How do I use the present perfect?", "Explain step by step")
        question = page.locator(".message.is-user .message-body").first
        assert question.inner_text().strip() == "How do I use the present perfect?"

        # The reply streams in: part of it shows before it is complete.
        partial = wait_for_partial_reply(page)
        assert SLOW_REPLY.startswith(partial) and len(partial) < len(SLOW_REPLY)
        page.wait_for_selector("#connection-status[data-state=connected]")

        # Reload in the middle of it: the page comes back with the reply still being written.
        page.reload()
        status = page.evaluate(
            "() => JSON.parse(document.getElementById('chat-data').textContent)"
            ".messages.find((m) => m.role === 'assistant').status"
        )
        assert status in ("pending", "streaming"), "the reload should land mid-reply"

        # ... and it finishes, whole, exactly once.
        page.wait_for_selector(".message.is-assistant.is-complete", timeout=60_000)
        assert assistant_text(page) == SLOW_REPLY
        assert page.locator(".message.is-assistant").count() == 1
        assert page.locator("#messages").inner_text().count("Try one sentence of your own") == 1
        assert page.get_by_text("Explain step by step").first.is_visible()

        # A follow-up from the chat page: Markdown renders, markup from the model never runs.
        composer = page.get_by_label("Your message")
        composer.fill("I have lived here since May.")
        composer.press("Enter")
        page.wait_for_selector(".message.is-assistant.is-complete >> nth=1", timeout=60_000)
        second = page.locator(".message.is-assistant .message-body").nth(1)
        assert second.locator("strong").inner_text() == "Well done!"
        assert second.locator("li").all_inner_texts() == ["has lived", "since May"]
        assert second.locator("script, img").count() == 0
        assert page.evaluate("() => window.__pwned === undefined")
        assert page.locator(".message").count() == 4

        # After a reload the page shows the server's rendering, taken over by chat.js.
        page.reload()
        page.wait_for_selector("#chat.is-live")
        second = page.locator(".message.is-assistant .message-body").nth(1)
        assert second.locator("strong").inner_text() == "Well done!"
        assert second.locator("li").all_inner_texts() == ["has lived", "since May"]
        assert second.locator("script, img").count() == 0
        assert page.locator(".message").count() == 4
        assert page.get_by_role("button", name="Regenerate").is_visible()

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), animations="disabled")
        print(f"Screenshot: {SCREENSHOT}")


def test_learner_stops_retries_renames_ends_and_deletes(server, page):
    failing = {"text": "", "fail_after_chars": 0, "error": "unavailable"}
    server.script({"default": failing, "replies": [SLOW]})
    with server_log_on_failure(server):
        start_conversation(page, "Explain the present perfect, please")

        # Escape stops the reply and keeps what was written.
        wait_for_partial_reply(page)
        page.keyboard.press("Escape")
        page.wait_for_selector(".message.is-assistant.is-cancelled")
        stopped = assistant_text(page)
        assert SLOW_REPLY.startswith(stopped) and 0 < len(stopped) < len(SLOW_REPLY)
        assert page.locator(".message.is-cancelled").get_by_text("Stopped").is_visible()

        # Regenerate; the model fails (after its retries): the reason and a retry show.
        page.get_by_role("button", name="Regenerate").click()
        page.wait_for_selector(".message.is-assistant.is-failed", timeout=60_000)
        assert "try again" in page.locator(".message.is-failed .message-error").inner_text().lower()
        server.script({"default": QUICK})
        page.get_by_role("button", name="Try again").click()
        page.wait_for_selector(".message.is-assistant.is-complete", timeout=60_000)
        assert page.locator(".message.is-assistant").count() == 1  # replaced, not added
        assert assistant_text(page) == "Good question."

        # Rename inline: Enter saves, and the new title is there after a reload.
        page.get_by_role("button", name="Rename conversation").click()
        page.get_by_label("Conversation title").fill("Present perfect basics")
        page.get_by_label("Conversation title").press("Enter")
        page.wait_for_function(
            "() => document.getElementById('chat-title').textContent === 'Present perfect basics'"
        )
        page.reload()
        assert page.title() == "Present perfect basics · Curiosity Coach"

        # End it: the composer is disabled and says why.
        page.get_by_role("button", name="End conversation").click()
        page.get_by_role("dialog").get_by_role("button", name="End conversation").click()
        page.wait_for_selector("#ended-note:visible")
        assert page.get_by_label("Your message").is_disabled()

        # Delete it, after confirming, and land on the list, which confirms it.
        page.get_by_role("button", name="Delete").click()
        page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        page.wait_for_url(server.url + "/")
        assert page.locator(".conversation-item", has_text="Present perfect basics").count() == 0
        assert page.locator(".flash").inner_text() == (
            "Deleted “Present perfect basics” and all its messages."
        )


class FrameFilter:
    """Sits between the page and the server's websocket, recording what the page sends
    and passing to the page only the frames `keep` allows."""

    def __init__(self) -> None:
        self.connections = 0
        self.sent: list[dict] = []  # frames from the page, in order
        self.dropped = 0

    def __call__(self, route) -> None:
        self.connections += 1
        upstream = route.connect_to_server()
        keep = self.filter_for(route, self.connections)

        def to_page(message) -> None:
            if keep(json.loads(message)):
                route.send(message)
            else:
                self.dropped += 1

        def to_server(message) -> None:
            self.sent.append(json.loads(message))
            upstream.send(message)

        upstream.on_message(to_page)
        route.on_message(to_server)

    def filter_for(self, route, connection: int):
        return lambda event: True


class LossyLink(FrameFilter):
    """Drops every third delta of the first connection, then cuts that connection
    mid-reply. Later connections pass through."""

    def filter_for(self, route, connection: int):
        if connection > 1:
            return super().filter_for(route, connection)
        deltas = 0

        def keep(event: dict) -> bool:
            nonlocal deltas
            if event.get("type") != "reply.delta":
                return True
            deltas += 1
            if deltas == 25:
                route.close(code=4000, reason="network hiccup")
                return False
            return deltas % 3 != 0

        return keep


def test_reply_survives_lost_frames_and_a_dropped_socket(server, page):
    server.script({"default": QUICK, "replies": [SLOW]})
    link = LossyLink()
    page.route_web_socket(re.compile(r"/ws/conversations/\d+/$"), link)
    # Every connection state the page shows, from its first script on: "reconnecting"
    # may last only until the next socket opens, shorter than a selector's poll.
    page.add_init_script(
        """new MutationObserver((changes) => {
             window.__states = window.__states || [];
             for (const change of changes) window.__states.push(change.target.dataset.state);
           }).observe(document, {subtree: true, attributes: true,
                                 attributeFilter: ["data-state"]});"""
    )
    with server_log_on_failure(server):
        start_conversation(page, "What is the present perfect for?")
        # Every text the streaming reply shows must be a beginning of the real reply.
        page.evaluate(
            """() => {
              window.__shown = [];
              new MutationObserver(() => {
                const body = document.querySelector(".message.is-streaming .message-body");
                if (body) window.__shown.push(body.textContent);
              }).observe(document.getElementById("messages"),
                         {subtree: true, childList: true, characterData: true});
            }"""
        )

        page.wait_for_selector(".message.is-assistant.is-complete", timeout=60_000)
        page.wait_for_selector("#connection-status[data-state=connected]")
        states = page.evaluate("() => window.__states || []")
        assert "reconnecting" in states, (states, link.connections, link.dropped)

        assert assistant_text(page) == SLOW_REPLY
        assert page.locator(".message.is-assistant").count() == 1
        assert link.dropped > 0 and link.connections >= 2
        shown = page.evaluate("() => window.__shown")
        assert len(set(shown)) > 10
        assert all(SLOW_REPLY.startswith(text) for text in shown), "gaps were papered over"
        resumes = [frame for frame in link.sent if frame["type"] == "resume"]
        # One on each connect (nothing final held beyond the question), more after gaps.
        assert resumes[0] == {"type": "resume", "after_seq": 1}
        assert len(resumes) > link.connections


class CompletionLost(FrameFilter):
    """Drops every `reply.completed`: the socket stays open and healthy (pings are
    answered) while the reply's end never arrives."""

    def filter_for(self, route, connection: int):
        return lambda event: event.get("type") != "reply.completed"


def test_a_reply_whose_completion_was_lost_is_shown_complete(server, page):
    server.script({"default": QUICK, "replies": [SLOW]})
    link = CompletionLost()
    page.route_web_socket(re.compile(r"/ws/conversations/\d+/$"), link)
    with server_log_on_failure(server):
        start_conversation(page, "Why do we say since May?")
        wait_for_partial_reply(page)

        # The reply falls silent once written; the page asks the server what became of it.
        page.wait_for_selector(".message.is-assistant.is-complete", timeout=30_000)

        assert assistant_text(page) == SLOW_REPLY
        assert link.dropped == 1 and link.connections == 1
        resumes = [frame for frame in link.sent if frame["type"] == "resume"]
        # On connect, then once the reply went quiet (again if a slow machine keeps it
        # quiet past a second watchdog period).
        assert len(resumes) >= 2
        assert page.get_by_label("Your message").is_enabled()


LONG_CONVERSATION = """
from django.contrib.auth import get_user_model
from conversations.models import Conversation, Message
owner = get_user_model().objects.get(username="maya")
chat = Conversation.objects.create(owner=owner, title="A long practice", last_seq=230)
Message.objects.bulk_create(
    Message(conversation=chat, seq=n, role="user" if n % 2 else "assistant",
            content=f"Line **{n}**", status="complete")
    for n in range(1, 231)
)
print(chat.pk)
"""


def test_a_long_conversation_opens_on_its_end_and_loads_earlier_messages(server, page):
    with server_log_on_failure(server):
        conversation_id = int(server.manage("shell", "-c", LONG_CONVERSATION).split()[-1])
        page.goto(f"{server.url}/conversations/{conversation_id}/")
        page.wait_for_selector("#chat.is-live")
        bodies = page.locator(".message .message-body")
        assert bodies.count() == 200
        assert bodies.first.inner_text() == "Line 31"
        assert bodies.last.locator("strong").inner_text() == "230"

        page.get_by_role("button", name="Show earlier messages").click()
        page.wait_for_function("() => document.querySelectorAll('.message').length === 230")

        assert bodies.first.inner_text() == "Line 1"
        assert bodies.nth(29).locator("strong").inner_text() == "30"
        assert page.locator("#load-earlier").count() == 0
        # The learner's place is kept: what was the first message is still in view.
        assert page.locator("#message-31").is_visible()
        box = page.locator("#message-31").bounding_box()
        assert 0 <= box["y"] < page.viewport_size["height"]
        assert page.get_by_role("button", name="Regenerate").count() == 1


def test_a_regenerated_reply_keeps_its_earlier_version_browsable(server, page):
    """As in LibreChat: the "2/2" arrows on the reply step back to the answer it replaced."""
    first = {"text": "Use since with a point in time.", "chunk_size": 6, "delay": 0.01}
    second = {"text": "Use for with a length of time.", "chunk_size": 6, "delay": 0.01}
    reply = page.locator(".message.is-assistant")
    count = reply.locator(".version-count")
    server.script({"default": first})
    with server_log_on_failure(server):
        start_conversation(page, "When do I use since and for?")
        page.wait_for_selector(".message.is-assistant.is-complete")
        assert assistant_text(page) == first["text"]
        assert page.get_by_role("group", name="Versions of this reply").is_hidden()

        server.script({"default": second})
        page.get_by_role("button", name="Regenerate").click()
        page.wait_for_function(
            "t => { const m = document.querySelector('.message.is-assistant.is-complete');"
            " return m && m.querySelector('.message-body').textContent.trim() === t; }",
            arg=second["text"],
        )
        assert count.inner_text() == "2/2"
        assert page.get_by_role("button", name="Later version").is_disabled()

        page.get_by_role("button", name="Earlier version").click()
        page.wait_for_selector(".message.is-earlier-version")
        assert assistant_text(page) == first["text"]
        assert count.inner_text() == "1/2"
        assert reply.get_by_text("Earlier version", exact=True).is_visible()
        assert page.get_by_role("button", name="Earlier version").is_disabled()

        page.get_by_role("button", name="Later version").click()
        page.wait_for_selector(".message.is-assistant:not(.is-earlier-version)")
        assert assistant_text(page) == second["text"]
        assert count.inner_text() == "2/2"

        page.reload()
        page.wait_for_selector("#chat.is-live")
        assert reply.count() == 1 and count.inner_text() == "2/2"
        assert assistant_text(page) == second["text"]


def test_a_chat_page_says_when_its_conversation_is_gone_or_its_learner_signed_out(server, page):
    """The server's close codes reach the page (4404, 4401): it says why, offers the way
    on, and stops reconnecting. Nothing on the way trips the Content-Security-Policy."""
    server.script({"default": QUICK})
    console: list[str] = []
    other = page.context.new_page()
    for tab in (page, other):
        tab.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    status = other.locator("#connection-status")
    with server_log_on_failure(server):
        start_conversation(page, "Is this sentence right?")
        other.goto(page.url)
        other.wait_for_selector("#connection-status[data-state=connected]")

        # Deleted in one tab: the other says so and links back to the list.
        page.get_by_role("button", name="Delete").click()
        page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        page.wait_for_url(server.url + "/")
        other.wait_for_selector("#connection-status[data-state=closed]")
        assert status.inner_text().startswith("This conversation no longer exists.")
        assert other.locator("#connection-link").inner_text() == "Back to your conversations"
        assert other.locator("#connection-link").get_attribute("href") == "/"
        other.wait_for_timeout(2500)  # longer than the first reconnection delay
        assert status.get_attribute("data-state") == "closed"
        assert "Reconnecting" not in status.inner_text()

        # Signed out in one tab: the other's socket closes, and it offers to sign in again.
        start_conversation(page, "One more question")
        other.goto(page.url)
        other.wait_for_selector("#connection-status[data-state=connected]")
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(re.compile(r"/accounts/login/"))
        assert page.get_by_text("You are logged out.").is_visible()
        other.wait_for_selector("#connection-status[data-state=closed]")
        assert status.inner_text().startswith("You are signed out —")
        sign_in = other.locator("#connection-link")
        assert sign_in.inner_text() == "sign in again"
        assert sign_in.get_attribute("href").startswith("/accounts/login/?next=%2Fconversations%2F")
        assert other.get_by_role("button", name="Send").is_disabled()

    assert not [line for line in console if "Content Security Policy" in line], console
