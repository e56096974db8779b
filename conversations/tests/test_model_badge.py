"""The chat page says which model answers, and what the built-in one can do."""

import re

import pytest

from conversations.tests.test_pages import make_conversation, signed_in
from llm.models import TaskProfile

pytestmark = pytest.mark.django_db


def badge(html: str) -> str:
    return re.search(r'<(p|details) class="model-badge".*?</\1>', html, re.DOTALL).group(0)


@pytest.fixture
def fresh_profiles(settings):
    settings.LLM_PROFILE_CACHE_SECONDS = 0


def test_the_built_in_model_is_named_and_said_to_be_a_small_offline_demo(
    alice, settings, fresh_profiles
):
    settings.LLM_PROVIDER, settings.LLM_MODEL = "local", ""
    conversation = make_conversation(alice)

    html = signed_in(alice).get(f"/conversations/{conversation.id}/").content.decode()

    shown = badge(html)
    assert "Answers by <strong>SmolLM2-135M-Instruct</strong>" in shown
    assert "small offline demo model" in shown
    assert "cannot be trusted on grammar rules" in shown
    assert "can keep a simple conversation going" in shown


def test_a_connected_endpoint_is_named_without_the_demo_note(alice, settings, fresh_profiles):
    settings.LLM_PROVIDER, settings.LLM_MODEL = "openai", "llama3.2"
    conversation = make_conversation(alice)

    html = signed_in(alice).get(f"/conversations/{conversation.id}/").content.decode()

    assert badge(html) == (
        '<p class="model-badge" id="model-badge">Answers by <strong>llama3.2</strong></p>'
    )
    assert "demo model" not in html


def test_the_badge_follows_the_conversations_task_profile(alice, settings, fresh_profiles):
    settings.LLM_PROVIDER, settings.LLM_MODEL = "local", ""
    TaskProfile.objects.filter(name="doubt_solver").update(provider="openai", model="gpt-4o-mini")
    conversation = make_conversation(alice, task_type="doubt_solver")

    html = signed_in(alice).get(f"/conversations/{conversation.id}/").content.decode()

    assert "Answers by <strong>gpt-4o-mini</strong>" in badge(html)
    assert "demo model" not in html
