"""The site's header on a phone, in headless Chromium (see conversations/tests/test_browser.py)."""

from pathlib import Path

import pytest
from django.conf import settings

from conversations.tests.browser_support import ProductServer
from conversations.tests.test_browser import CHROMIUM, CHROMIUM_FLAGS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

USERNAME = "noor"
PASSWORD = "a-long-practice-passphrase"
PHONE = {"width": 390, "height": 844}
SCREENSHOT = Path(settings.BASE_DIR) / "var" / "browser" / "phone-menu.png"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    product = ProductServer(tmp_path_factory.mktemp("product"), script={"default": {"text": "Hi"}})
    try:
        product.start()
        product.sign_up(
            USERNAME,
            PASSWORD,
            email="noor@example.com",
            native_language="ar",
            target_language="en",
            level="B1",
        )
        yield product
    finally:
        product.stop()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: `make browser` installs it.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def signed_in_page(browser, server, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")
    return context, page


def test_on_a_phone_the_header_is_one_line_with_a_menu(browser, server):
    context, page = signed_in_page(browser, server, PHONE)
    try:
        header = page.locator("header.topbar")
        menu = page.get_by_role("button", name="Menu")
        nav = page.get_by_role("navigation", name="Main")
        lessons = nav.get_by_role("link", name="Lessons", exact=True)

        assert menu.is_visible()
        assert not lessons.is_visible()
        assert header.bounding_box()["height"] <= 64  # one line, not three (131 px before)

        menu.click()
        assert menu.get_attribute("aria-expanded") == "true"
        for name in ("Documents", "My mistakes", "Lessons", "Collection", "Review", USERNAME):
            assert nav.get_by_role("link", name=name, exact=True).is_visible()
        assert nav.get_by_role("button", name="Log out").is_visible()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

        page.keyboard.press("Escape")
        assert menu.get_attribute("aria-expanded") == "false"
        assert not lessons.is_visible()
        assert page.evaluate("() => document.activeElement.id") == "menu-button"

        menu.click()
        lessons.click()
        page.wait_for_url(server.url + "/lessons/")
    finally:
        context.close()


def test_on_a_wide_screen_the_links_show_without_a_menu(browser, server):
    context, page = signed_in_page(browser, server, {"width": 1100, "height": 800})
    try:
        assert not page.get_by_role("button", name="Menu").is_visible()
        nav = page.get_by_role("navigation", name="Main")
        assert nav.get_by_role("link", name="Lessons", exact=True).is_visible()
        assert page.locator("header.topbar").bounding_box()["height"] <= 64
    finally:
        context.close()
