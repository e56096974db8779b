"""A learner in headless Chromium uploads a PDF, watches it being indexed, asks about it in
a rag conversation, sees the cited source under the reply and opens it. The real product
runs in a subprocess (conversations.tests.browser_support), with the scripted model and
the embedded embedder."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from conversations.tests.browser_support import ProductServer
from conversations.tests.test_browser import (  # noqa: F401 (fixtures)
    PASSWORD,
    USERNAME,
    browser,
    page,
    server_log_on_failure,
)
from documents.testing.pdf import build_pdf

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SCREENSHOT = Path(settings.BASE_DIR) / "var" / "browser" / "cited-reply.png"
ANSWER = {
    "text": "With a pronoun the object goes in the middle: turn it off, never turn off it [1].",
    "chunk_size": 6,
    "delay": 0.01,
}
SEPARABLE = (
    "With separable phrasal verbs the object can come between the verb and the particle, "
    "or after it: turn off the light, turn the light off. When the object is a pronoun it "
    "must go in the middle: turn it off, never turn off it."
)
WATCH_LABELS = """() => {
  window.__labels = [];
  new MutationObserver(() => {
    for (const label of document.querySelectorAll('[data-role="label"]')) {
      const text = label.textContent;
      if (window.__labels[window.__labels.length - 1] !== text) window.__labels.push(text);
    }
  }).observe(document.getElementById('document-list'),
             {subtree: true, childList: true, characterData: true, attributes: true});
}"""
READY = """() => {
  const bar = document.querySelector('.document-item progress');
  const label = document.querySelector('.document-item [data-role=label]');
  return label && label.textContent.startsWith('Ready') && bar.value === bar.max && bar.max > 1;
}"""


def chapter_pdf() -> bytes:
    filler = (
        "Prepositions show how words relate in time, place and direction; learners master "
        "them with practice, examples and patience. "
    )
    pages = [[f"Page {n} of the chapter.", filler * 4] for n in range(1, 13)]
    pages[6] = ["Separable phrasal verbs", SEPARABLE]
    return build_pdf(pages, title="Phrasal verbs chapter")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    product = ProductServer(tmp_path_factory.mktemp("product"), script={"default": ANSWER})
    # Small chunks embedded two at a time, so the progress bar has steps to show.
    product.env["DOCUMENT_EMBED_BATCH"] = "2"
    product.env["DOCUMENT_CHUNK_CHARS"] = "200"
    product.env["DOCUMENT_CHUNK_OVERLAP"] = "40"
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


def test_upload_a_pdf_watch_it_index_ask_and_open_the_cited_source(server, page, tmp_path):  # noqa: F811
    pdf = tmp_path / "phrasal-verbs.pdf"
    pdf.write_bytes(chapter_pdf())
    with server_log_on_failure(server):
        page.get_by_role("link", name="Documents").click()
        page.wait_for_url(server.url + "/documents/")
        page.evaluate(WATCH_LABELS)
        page.get_by_label(re.compile("^File")).set_input_files(str(pdf))
        page.get_by_role("button", name="Upload").click()

        # Listed at once under its file's name; a quick indexing may already have read the
        # PDF's own title by the time this looks.
        link = page.locator(".document-item .document-link")
        link.wait_for()
        assert link.inner_text() in ("phrasal-verbs", "Phrasal verbs chapter")
        page.wait_for_function(READY, timeout=60_000)
        # Once read, the document goes by the PDF's own title.
        page.locator(".document-item").get_by_role("link", name="Phrasal verbs chapter").wait_for()
        labels = page.evaluate("() => window.__labels")
        assert [label for label in labels if label.startswith("Embedded ")], labels
        assert labels[-1].startswith("Ready:")

        # A rag conversation over it, started from the home page.
        page.get_by_role("link", name="Curiosity Coach").click()
        page.get_by_label("Phrasal verbs chapter").check()
        page.get_by_label("Your first message").fill("Can I say turn off it with a pronoun?")
        page.get_by_label("Your first message").press("Enter")
        page.wait_for_url(re.compile(r"/conversations/\d+/$"))
        page.wait_for_selector(".message.is-assistant.is-complete", timeout=60_000)
        sources = page.locator(".message.is-assistant .message-sources")
        sources.wait_for()
        link = sources.get_by_role("link").first
        assert "Phrasal verbs chapter, page 7" in link.inner_text()
        assert "turn it off" in sources.inner_text()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True, animations="disabled")
        print(f"Screenshot: {SCREENSHOT}")

        # The source opens the document at the cited passage.
        link.click()
        page.wait_for_url(re.compile(r"/documents/\d+/#chunk-\d+$"))
        target = page.locator(".chunk:target")
        assert "page 7" in target.locator(".chunk-where").inner_text()
        assert "turn it off" in target.inner_text()
