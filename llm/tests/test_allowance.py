"""The chat allowance and the background allowances (llm.allowance): background work is
charged apart, per learner and per integration, and never ends a learner's chat."""

from datetime import timedelta

import pytest

import llm
from core import jobs
from llm import allowance, errors
from llm.models import LLMCall
from llm.selectors import day_start

HELLO = [{"role": "user", "content": "Hello"}]


def _spend(user, tokens, *, allowance_name="chat", integration=None, **extra):
    return LLMCall.objects.create(
        user=user,
        task="chat" if allowance_name == "chat" else "analysis",
        provider="scripted",
        model="m",
        prompt_tokens=tokens,
        allowance=allowance_name,
        integration=integration,
        **extra,
    )


def test_background_profiles_are_charged_to_the_background_allowance(scripted_llm, alice):
    scripted_llm.queue("a summary")
    reply = llm.complete("summary", HELLO, user=alice)
    scripted_llm.queue("Hi!")
    chat = llm.complete("chat", HELLO, user=alice)

    assert LLMCall.objects.get(pk=reply.call_id).allowance == "background"
    assert LLMCall.objects.get(pk=chat.call_id).allowance == "chat"


def test_calls_inside_background_work_are_charged_to_it_and_its_integration(scripted_llm, alice):
    scripted_llm.queue("x")
    with allowance.background(integration_id=7):
        reply = llm.complete("chat", HELLO, user=alice)  # any profile, inside a job

    call = LLMCall.objects.get(pk=reply.call_id)
    assert (call.allowance, call.integration) == ("background", 7)


def test_background_use_never_ends_the_chat(alice, settings):
    settings.LLM_DAILY_TOKEN_QUOTA = 1000
    settings.LLM_BACKGROUND_DAILY_TOKENS = 1000
    _spend(alice, 50_000, allowance_name="background")
    _spend(alice, 50_000, allowance_name="background", integration=3)

    llm.quota_check(alice)  # chat goes on
    with pytest.raises(errors.BackgroundQuotaExceeded) as caught:
        llm.quota_check(alice, task="analysis")
    assert caught.value.renews_at == day_start() + timedelta(days=1)
    assert "50000 of 1000 background tokens" in caught.value.detail


def test_chat_use_never_stops_background_work(alice, settings):
    settings.LLM_DAILY_TOKEN_QUOTA = 1000
    _spend(alice, 50_000)

    with pytest.raises(errors.QuotaExceeded) as caught:
        llm.quota_check(alice)
    assert not isinstance(caught.value, errors.BackgroundQuotaExceeded)
    llm.quota_check(alice, task="analysis")
    with allowance.background():
        llm.quota_check(alice, task="chat")


def test_each_integration_has_its_own_allowance_for_each_learner(alice, bob, settings):
    settings.LLM_BACKGROUND_DAILY_TOKENS = 1000
    settings.LLM_INTEGRATION_DAILY_TOKENS = 500
    _spend(alice, 500, allowance_name="background", integration=1)

    with allowance.background(integration_id=1), pytest.raises(errors.QuotaExceeded):
        llm.quota_check(alice, task="analysis")
    with allowance.background(integration_id=2):
        llm.quota_check(alice, task="analysis")  # another integration
    with allowance.background(integration_id=1):
        llm.quota_check(bob, task="analysis")  # another learner
    with allowance.background():
        llm.quota_check(alice, task="analysis")  # her own conversations


def test_yesterdays_use_and_cache_hits_are_not_counted(alice, settings):
    settings.LLM_BACKGROUND_DAILY_TOKENS = 1000
    old = _spend(alice, 5000, allowance_name="background")
    LLMCall.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(days=1))
    _spend(alice, 5000, allowance_name="background", cache_hit=True)

    with allowance.background():
        llm.quota_check(alice, task="analysis")


def test_a_background_allowance_of_zero_means_unlimited(alice, settings):
    settings.LLM_BACKGROUND_DAILY_TOKENS = 0
    _spend(alice, 10**9, allowance_name="background")
    with allowance.background():
        llm.quota_check(alice, task="analysis")


def test_a_spent_allowance_inside_background_work_defers_it_to_the_renewal(
    scripted_llm, alice, settings
):
    settings.LLM_BACKGROUND_DAILY_TOKENS = 10
    _spend(alice, 10, allowance_name="background")

    with pytest.raises(jobs.Defer) as caught, allowance.background():
        llm.complete("analysis", HELLO, user=alice)

    assert caught.value.until == day_start() + timedelta(days=1)
    assert "allowance" in caught.value.reason
    assert scripted_llm.calls == []
    assert allowance.current() == allowance.Charge()  # the charge ends with the work
