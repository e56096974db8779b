"""Staff see model usage per user, task type, model and day."""

from decimal import Decimal

import pytest

from llm.models import LLMCall, TaskProfile


@pytest.fixture
def calls(alice, bob):
    LLMCall.objects.create(
        user=alice,
        task="chat",
        provider="openai",
        model="gpt-4o-mini",
        prompt_tokens=100,
        completion_tokens=50,
        cost_usd="0.000045",
    )
    LLMCall.objects.create(
        user=bob,
        task="summary",
        provider="local",
        model="SmolLM2-135M-Instruct",
        prompt_tokens=7,
        status="error",
    )


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("user", ["alice", "bob"]),
        ("task", ["chat", "summary"]),
        ("model", ["openai · gpt-4o-mini", "local · SmolLM2-135M-Instruct"]),
        ("day", ["Calls"]),
    ],
)
def test_staff_see_usage_grouped(
    client, carol, calls, group, expected, django_assert_max_num_queries
):
    client.force_login(carol)
    with django_assert_max_num_queries(6):
        response = client.get(f"/admin/llm/llmcall/usage/?group={group}&days=7")
    assert response.status_code == 200
    page = response.content.decode()
    for text in expected:
        assert text in page


def test_usage_report_sums_tokens_and_cost(client, carol, calls):
    client.force_login(carol)
    response = client.get("/admin/llm/llmcall/usage/?group=task")
    rows = {row["task"]: row for row in response.context["rows"]}
    assert rows["chat"]["prompt_tokens"] == 100
    assert rows["chat"]["completion_tokens"] == 50
    assert rows["chat"]["cost"] == Decimal("0.000045")
    assert rows["summary"]["errors"] == 1


def test_learners_cannot_see_usage(client, alice):
    client.force_login(alice)
    response = client.get("/admin/llm/llmcall/usage/")
    assert response.status_code == 302


def test_call_list_and_profile_editing_pages_render(client, carol, calls):
    client.force_login(carol)
    assert b"Usage report" in client.get("/admin/llm/llmcall/").content
    assert client.get("/admin/llm/taskprofile/").status_code == 200
    chat = TaskProfile.objects.get(name="chat")
    assert client.get(f"/admin/llm/taskprofile/{chat.pk}/change/").status_code == 200
