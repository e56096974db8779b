"""A learner's walkthrough on the built-in model, in headless Chromium: what the tutor says,
how long each answer takes, and screenshots of the pages.

    .venv/bin/python bench/walkthrough.py [--out docs/screenshots]

Runs the product as a newcomer does (`manage.py serve`, SQLite, the built-in SmolLM2 model,
nothing scripted), signs a learner up, then:

1. chats with a real mistake: the reply opens with the analysis's correction and its note;
2. asks a grammar question ("Explain step by step"): answered from the grammar notes, cited;
3. uploads a short grammar document and asks about it: an extractive answer with [n]
   markers tied to the cited passages;
4. goes back to the first conversation, sends two more sentences with mistakes, ends it,
   and waits for its first lesson (the built-in model does the last analysis batch; the
   lesson builder makes the lessons).

Prints each reply as the learner reads it and the seconds from Enter to the complete reply,
and saves one screenshot per step (chat-correction.png, notes-answer.png, document-answer.png,
lessons-after-end.png).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conversations.tests.browser_support import ProductServer

ROOT = Path(__file__).resolve().parent.parent

USERNAME, PASSWORD = "maya", "a-long-practice-passphrase"
MISTAKE = "She have three childs and they lives in Busan."
QUESTION = "When do I use since and for?"
DOCUMENT_QUESTION = "Can I put a pronoun between turn and off?"
DOCUMENT = """# Phrasal verbs

## Separable phrasal verbs

Some phrasal verbs are separable: the object can go between the verb and the particle.
You can say "turn off the light" or "turn the light off".
When the object is a pronoun, it must go between the verb and the particle: say "turn it off",
never "turn off it".

## Inseparable phrasal verbs

Other phrasal verbs never separate: "look after the children", "look after them".
"""


def sign_up(product: ProductServer) -> None:
    product.manage(
        "shell",
        "-c",
        "from accounts.services import learner_sign_up; "
        f"learner_sign_up(username={USERNAME!r}, password={PASSWORD!r}, "
        "native_language='es', target_language='en', level='B1')",
    )


def log_in(page, url: str) -> None:
    page.goto(url + "/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def ask_first(page, text: str, task: str = "Chat", document: str | None = None) -> float:
    """Start a conversation from the home page; the seconds until the reply is complete."""
    page.get_by_role("link", name="Curiosity Coach").click()
    if document:
        page.get_by_label(document).check()
    page.get_by_label("Your first message").fill(text)
    page.get_by_label("Task").select_option(label=task)
    started = time.monotonic()
    page.get_by_label("Your first message").press("Enter")
    page.wait_for_url(re.compile(r"/conversations/\d+/$"))
    page.wait_for_selector(".message.is-assistant.is-complete", timeout=180_000)
    return time.monotonic() - started


MORE_MISTAKES = ("My sister go to work by bus.", "He go to school every day.")


def end_for_lessons(page, url: str, conversation_url: str) -> float:
    """Two more messages, End, then the seconds from End to the first lesson on the page."""
    page.goto(conversation_url)
    for count, text in enumerate(MORE_MISTAKES, start=1):
        page.get_by_label("Your message").fill(text)
        page.get_by_label("Your message").press("Enter")
        page.wait_for_function(
            "n => document.querySelectorAll('.message.is-assistant.is-complete').length > n",
            arg=count,
            timeout=180_000,
        )
    conversation_id = re.search(r"/conversations/(\d+)/", conversation_url).group(1)
    page.get_by_role("button", name="End conversation").click()
    page.get_by_role("dialog").get_by_role("button", name="End conversation").click()
    ended = time.monotonic()
    page.goto(f"{url}/lessons/conversations/{conversation_id}/")
    page.wait_for_selector("#lesson-list .lesson-card", timeout=300_000)
    return time.monotonic() - ended


def upload(page, url: str, path: Path, title: str) -> None:
    page.goto(url + "/documents/")
    page.get_by_label(re.compile("^File")).set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_function(
        "() => { const l = document.querySelector('.document-item [data-role=label]');"
        " return l && l.textContent.startsWith('Ready'); }",
        timeout=180_000,
    )
    page.locator(".document-item").get_by_role("link", name=title).wait_for()


def show(step: str, page, seconds: float, shot: Path) -> None:
    reply = page.locator(".message.is-assistant .message-body").first.inner_text().strip()
    print(f"\n## {step} ({seconds:.1f} s to the complete reply)\n{reply}")
    sources = page.locator(".message.is-assistant .message-sources")
    if sources.count():
        print("Sources: " + " | ".join(sources.first.inner_text().split("\n")[:4]))
    page.screenshot(path=str(shot), full_page=True, animations="disabled")
    print(f"Screenshot: {shot}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "walkthrough")
    out = parser.parse_args().out
    # The product runs in its own process on its own database: this one needs only the
    # settings that the server helper reads (BASE_DIR).
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from playwright.sync_api import sync_playwright

    from conversations.tests.browser_support import ProductServer
    from conversations.tests.test_browser import CHROMIUM, CHROMIUM_FLAGS

    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="walkthrough-"))
    product = ProductServer(workdir, script={}, env={"LLM_PROVIDER": "local"})
    document = workdir / "phrasal-verbs.md"
    document.write_text(DOCUMENT)
    try:
        product.start()
        sign_up(product)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1100, "height": 860})
            page.set_default_timeout(60_000)
            log_in(page, product.url)
            seconds = ask_first(page, MISTAKE)
            show("Chat with a mistake", page, seconds, out / "chat-correction.png")
            first_conversation = page.url
            seconds = ask_first(page, QUESTION, task="Explain step by step")
            show("A grammar question", page, seconds, out / "notes-answer.png")
            upload(page, product.url, document, "Phrasal verbs")
            seconds = ask_first(page, DOCUMENT_QUESTION, document="Phrasal verbs")
            show("A question about a document", page, seconds, out / "document-answer.png")
            seconds = end_for_lessons(page, product.url, first_conversation)
            lessons = page.locator("#lesson-list .lesson-card")
            print(f"\n## End -> first lesson on the page: {seconds:.1f} s")
            print("\n".join(lessons.nth(i).inner_text() for i in range(lessons.count())))
            page.screenshot(path=str(out / "lessons-after-end.png"), full_page=True)
            browser.close()
    except Exception:
        print(product.log()[-6000:], file=sys.stderr)
        raise
    finally:
        product.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
