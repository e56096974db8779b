"""Content-Security-Policy: every page sends it, and nothing in the templates needs an
inline script (which the policy would block)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from conftest import PASSWORD
from conversations import services

pytestmark = pytest.mark.django_db

INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.I | re.S)


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in directives}


def test_every_page_sends_a_policy_without_inline_scripts(alice, carol):
    conversation = services.conversation_create(owner=alice, text="Hello")
    learner, staff, anonymous = Client(), Client(), Client()
    learner.login(username="alice", password=PASSWORD)
    staff.login(username="carol", password=PASSWORD)
    pages = [
        (anonymous, "/accounts/login/"),
        (anonymous, "/accounts/signup/"),
        (learner, "/"),
        (learner, f"/conversations/{conversation.pk}/"),
        (learner, "/accounts/profile/"),
        (learner, "/conversations/424242/"),
        (learner, "/api/docs/"),
        (learner, "/api/v1/me"),
        (staff, "/admin/"),
    ]

    for client, path in pages:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        directives = policy(response)
        assert directives["script-src"] == ["'self'"], path
        assert directives["object-src"] == ["'none'"], path
        assert "'unsafe-inline'" not in directives.get("default-src", []), path
        for attributes, body in SCRIPT.findall(response.content.decode()):
            # Executable scripts come from files; data blocks (json_script) are inert.
            assert "src=" in attributes or "application/json" in attributes, (path, body)
            assert "src=" not in attributes or not body.strip(), path


def template_files() -> list[Path]:
    roots = [Path(settings.BASE_DIR) / "templates", *Path(settings.BASE_DIR).glob("*/templates")]
    return [path for root in roots for path in root.rglob("*.html")]


def test_no_template_has_an_inline_script_or_event_handler():
    files = template_files()
    assert len(files) > 5

    for path in files:
        text = path.read_text()
        assert not INLINE_HANDLER.search(text), path
        for attributes, body in SCRIPT.findall(text):
            assert "src=" in attributes and not body.strip(), (path, attributes)
