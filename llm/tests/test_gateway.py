"""The gateway's own behaviour, driven through the scripted provider."""

import threading
import time
from decimal import Decimal

import pytest
from pydantic import BaseModel, Field

import llm
from llm import errors
from llm.models import LLMCall, TaskProfile
from llm.results import CallRecord, Usage
from llm.selectors import day_start
from llm.services import llm_call_record

HELLO = [{"role": "user", "content": "Hello there"}]


def test_stream_yields_deltas_and_records_one_call(scripted_llm, alice):
    scripted_llm.queue("Hello learner!", chunk_size=4)

    reply = llm.stream("chat", HELLO, user=alice)
    deltas = list(reply)

    assert deltas == ["Hell", "o le", "arne", "r!"]
    assert reply.text == "Hello learner!"
    call = LLMCall.objects.get()
    assert call.pk == reply.call_id
    assert (call.user, call.task, call.provider, call.status) == (alice, "chat", "scripted", "ok")
    assert call.model == reply.model == "scripted-model"
    assert call.completion_tokens == reply.completion_tokens > 0
    assert call.prompt_tokens == reply.prompt_tokens > 0
    assert call.ttft_ms is not None


def test_profile_system_prompt_is_prepended_with_the_learners_languages(scripted_llm, alice):
    llm.complete("chat", HELLO, user=alice)

    sent = scripted_llm.calls[0].messages
    assert sent[0]["role"] == "system"
    assert "speaks Spanish" in sent[0]["content"]
    assert "learning English at level B1" in sent[0]["content"]
    assert sent[1:] == HELLO


def test_callers_system_message_is_kept_as_is(scripted_llm, alice):
    messages = [{"role": "system", "content": "Be brief."}, *HELLO]
    llm.complete("chat", messages, user=alice)
    assert scripted_llm.calls[0].messages == messages


def test_system_prompt_renders_named_variables_and_leaves_unknown_ones(db):
    profile = TaskProfile.objects.get(name="chat")
    profile.system_prompt_template = 'Level {learner_level}; keep {"json": 1} and {unknown}.'
    profile.save()
    assert llm.system_prompt("chat", learner_level="C1") == (
        'Level C1; keep {"json": 1} and {unknown}.'
    )


def test_empty_queue_gives_a_deterministic_default_reply(scripted_llm, alice):
    assert llm.complete("chat", HELLO, user=alice).text == "Scripted reply to: Hello there"


def test_failure_mid_stream_raises_a_typed_error_and_is_recorded(scripted_llm, alice):
    scripted_llm.queue("partial reply", fail_after_chars=3, error="unavailable")

    reply = llm.stream("chat", HELLO, user=alice)
    with pytest.raises(errors.ModelUnavailable) as caught:
        list(reply)

    assert reply.text == "par"
    assert caught.value.status_code == 503
    assert "try again" in caught.value.user_message
    call = LLMCall.objects.get()
    assert call.status == "error" and "ModelUnavailable" in call.error
    assert call.retries == 0  # text already reached the learner: no silent retry
    assert len(scripted_llm.calls) == 1


def test_failure_before_the_first_token_is_retried(scripted_llm, alice):
    scripted_llm.queue("lost", fail_after_chars=0, error="rate_limited")
    scripted_llm.queue("Second time lucky")

    assert llm.complete("chat", HELLO, user=alice).text == "Second time lucky"
    assert LLMCall.objects.get().retries == 1


def test_rejected_request_is_not_retried(scripted_llm, alice):
    scripted_llm.queue("x", fail_after_chars=0, error="invalid")
    with pytest.raises(errors.InvalidModelRequest):
        llm.complete("chat", HELLO, user=alice)
    assert len(scripted_llm.calls) == 1


def test_fallback_profile_answers_when_retries_are_exhausted(scripted_llm, alice):
    chat = TaskProfile.objects.get(name="chat")
    chat.max_retries = 1
    chat.fallback = TaskProfile.objects.get(name="doubt_solver")
    chat.save()
    for _ in range(2):
        scripted_llm.queue("x", fail_after_chars=0, error="unavailable")
    scripted_llm.queue("From the fallback")

    result = llm.complete("chat", HELLO, user=alice)

    assert result.text == "From the fallback"
    call = LLMCall.objects.get()
    assert (call.retries, call.fallback_used, call.status) == (1, True, "ok")


def test_exhausted_retries_without_fallback_raise_model_unavailable(scripted_llm, alice):
    for _ in range(3):
        scripted_llm.queue("x", fail_after_chars=0, error="unavailable")
    with pytest.raises(errors.ModelUnavailable):
        llm.complete("chat", HELLO, user=alice)
    assert LLMCall.objects.get().retries == 2


def test_slow_first_token_times_out_with_a_typed_error(scripted_llm, alice):
    TaskProfile.objects.filter(name="chat").update(timeout_seconds=0.05, max_retries=0)
    scripted_llm.queue("late", first_token_delay=5)
    started = time.monotonic()
    with pytest.raises(errors.ModelTimeout):
        llm.complete("chat", HELLO, user=alice)
    assert time.monotonic() - started < 2


def test_held_reply_continues_when_released(scripted_llm, alice):
    gate = scripted_llm.queue("Slow reply", hold_after_chars=2, chunk_size=100)
    reply = llm.stream("chat", HELLO, user=alice)
    assert next(reply) == "Sl"
    threading.Timer(0.05, gate.release).start()
    assert "".join(reply) == "ow reply"


def test_close_from_another_thread_cancels_promptly(scripted_llm, alice):
    scripted_llm.queue("Held forever", hold_after_chars=4)
    reply = llm.stream("chat", HELLO, user=alice)
    assert next(reply) == "Held"
    threading.Timer(0.05, reply.close).start()
    started = time.monotonic()
    rest = list(reply)
    assert time.monotonic() - started < 1
    assert rest == []
    assert reply.cancelled
    call = LLMCall.objects.get()
    assert call.status == "cancelled"
    assert call.completion_tokens > 0


def test_close_before_iterating_records_a_cancelled_call(scripted_llm, alice):
    reply = llm.stream("chat", HELLO, user=alice)
    reply.close()
    reply.close()
    assert list(reply) == []
    assert LLMCall.objects.get().status == "cancelled"
    assert scripted_llm.calls == []


async def test_astream_yields_the_same_deltas(scripted_llm, alice, transactional_db):
    # The reply runs in worker threads with their own database connections.
    scripted_llm.queue("Async hello", chunk_size=5)
    reply = llm.astream("chat", HELLO, user=alice)
    deltas = [delta async for delta in reply]
    assert deltas == ["Async", " hell", "o"]
    assert reply.call_id is not None


# -- cache -------------------------------------------------------------------------------


def test_deterministic_profile_is_served_from_cache_the_second_time(scripted_llm, alice):
    messages = [{"role": "user", "content": "Summarise: we talked about cats."}]
    scripted_llm.queue("They talked about cats.")

    first = llm.complete("summary", messages, user=alice)
    second = llm.complete("summary", messages, user=alice)

    assert second.text == first.text == "They talked about cats."
    assert len(scripted_llm.calls) == 1
    miss, hit = LLMCall.objects.order_by("id")
    assert (miss.cache_hit, hit.cache_hit) == (False, True)
    assert hit.cost_usd == 0
    assert second.cache_hit


def test_cache_key_includes_the_exact_messages(scripted_llm, alice):
    llm.complete("summary", [{"role": "user", "content": "one"}], user=alice)
    llm.complete("summary", [{"role": "user", "content": "two"}], user=alice)
    assert len(scripted_llm.calls) == 2
    assert not LLMCall.objects.filter(cache_hit=True).exists()


def test_creative_profile_is_not_cached(scripted_llm, alice):
    llm.complete("chat", HELLO, user=alice)
    llm.complete("chat", HELLO, user=alice)
    assert len(scripted_llm.calls) == 2


# -- quota and cost ------------------------------------------------------------------------


def _spend(user, tokens, **extra):
    return LLMCall.objects.create(
        user=user, task="chat", provider="scripted", model="m", prompt_tokens=tokens, **extra
    )


def test_quota_exceeded_raises_a_429_a_learner_understands(scripted_llm, alice, settings):
    settings.LLM_DAILY_TOKEN_QUOTA = 1000
    _spend(alice, 1000)

    with pytest.raises(errors.QuotaExceeded) as caught:
        llm.stream("chat", HELLO, user=alice)

    assert caught.value.status_code == 429
    assert "allowance" in caught.value.user_message
    assert scripted_llm.calls == []


def test_quota_counts_only_today_and_not_cache_hits(
    alice, bob, settings, django_assert_num_queries
):
    settings.LLM_DAILY_TOKEN_QUOTA = 1000
    old = _spend(alice, 5000)
    LLMCall.objects.filter(pk=old.pk).update(created_at=old.created_at.replace(year=2020))
    _spend(alice, 5000, cache_hit=True)
    _spend(bob, 5000)
    _spend(alice, 999)
    with django_assert_num_queries(1):
        llm.quota_check(alice)


def test_a_documents_embeddings_do_not_use_up_the_learners_allowance(alice, settings):
    settings.LLM_DAILY_TOKEN_QUOTA = 1000
    llm.embed(["A long grammar sheet. " * 200], user=alice, purpose="document")
    assert LLMCall.objects.get(kind="embed").prompt_tokens > 1000  # accounted all the same
    llm.quota_check(alice)  # chat goes on


def test_quota_of_zero_means_unlimited(alice, settings):
    settings.LLM_DAILY_TOKEN_QUOTA = 0
    _spend(alice, 10**9)
    llm.quota_check(alice)


def test_cost_comes_from_the_price_table(scripted_llm, alice, settings):
    settings.LLM_PRICES = {"scripted-model": [2.0, 8.0]}
    scripted_llm.queue("x" * 400)  # 100 estimated completion tokens
    reply = llm.complete("chat", [{"role": "system", "content": "y" * 400}], user=alice)
    call = LLMCall.objects.get(pk=reply.call_id)
    expected = (Decimal(call.prompt_tokens) * 2 + Decimal(call.completion_tokens) * 8) / 10**6
    assert call.completion_tokens == 100
    assert call.cost_usd == expected.quantize(Decimal("0.000001"))
    assert call.cost_usd > 0


def test_accounting_row_is_one_insert_holding_the_whole_record(
    alice, settings, django_assert_num_queries
):
    settings.LLM_PRICES = {"gpt-4o-mini": [0.15, 0.6]}
    record = CallRecord(
        task="chat",
        kind="stream",
        user=alice,
        provider="openai",
        model="gpt-4o-mini",
        usage=Usage(1200, 300),
        prompt_tokens=1200,
        completion_tokens=300,
        retries=1,
        fallback_used=True,
        status="error",
        error="ModelTimeout: " + "x" * 400,
    )
    record.first_token_at = record.started + 0.25

    with django_assert_num_queries(1):
        call_id = llm_call_record(record=record)

    call = LLMCall.objects.get()
    assert call.pk == call_id == record.call_id
    assert (call.user, call.task, call.kind, call.provider, call.model) == (
        alice,
        "chat",
        "stream",
        "openai",
        "gpt-4o-mini",
    )
    assert (call.prompt_tokens, call.completion_tokens, call.ttft_ms) == (1200, 300, 250)
    assert call.cost_usd == Decimal("0.000360")
    assert (call.retries, call.fallback_used, call.cache_hit) == (1, True, False)
    assert (call.status, len(call.error)) == ("error", 300)
    assert call.latency_ms >= 0 and call.created_at is not None
    assert LLMCall.objects.filter(user=alice, created_at__gte=day_start()).exists()


def test_anonymous_cache_hit_is_recorded_without_user_or_cost(db):
    record = CallRecord(task="summary", kind="complete", user=None, cache_hit=True)
    record.provider, record.model, record.completion_tokens = "openai", "gpt-4o-mini", 9
    llm_call_record(record=record)
    call = LLMCall.objects.get()
    assert (call.user, call.cost_usd, call.cache_hit, call.ttft_ms) == (None, 0, True, None)


def test_count_tokens_uses_the_profiles_provider(scripted_llm, db):
    assert llm.count_tokens("chat", "one two three four five six seven eight") == 10
    assert llm.count_tokens("chat", HELLO) > llm.count_tokens("chat", "Hello there")


def test_unknown_profile_is_a_typed_error(db):
    with pytest.raises(errors.ProfileNotFound):
        llm.get_profile("poetry")


# -- structured output -----------------------------------------------------------------


class Correction(BaseModel):
    span: str = Field(max_length=40)
    fix: str


class Analysis(BaseModel):
    language: str
    corrections: list[Correction] = Field(max_length=3)


GOOD = {"language": "en", "corrections": [{"span": "goed", "fix": "went"}]}


def test_structured_returns_a_validated_object(scripted_llm, alice):
    scripted_llm.queue(GOOD)
    result = llm.structured("analysis", HELLO, schema=Analysis, user=alice)
    assert result == Analysis.model_validate(GOOD)
    assert scripted_llm.calls[0].json_schema == Analysis.model_json_schema()
    assert LLMCall.objects.get().kind == "structured"


def test_each_structured_call_gets_its_own_copy_of_the_schema(scripted_llm, alice):
    # The schema is built once per class; a provider that edits what it was given must
    # not change what the next call sends.
    scripted_llm.queue(GOOD)
    scripted_llm.queue(GOOD)
    llm.structured("analysis", HELLO, schema=Analysis, user=alice)
    scripted_llm.calls[0].json_schema["title"] = "edited by a provider"
    another = [{"role": "user", "content": "And this one?"}]  # not served from the cache
    llm.structured("analysis", another, schema=Analysis, user=alice)
    assert scripted_llm.calls[1].json_schema == Analysis.model_json_schema()


def test_invalid_structured_output_gets_one_repair_attempt(scripted_llm, alice):
    scripted_llm.queue({"language": "en", "corrections": "none"})
    scripted_llm.queue("```json\n" + Analysis.model_validate(GOOD).model_dump_json() + "\n```")

    result = llm.structured("analysis", HELLO, schema=Analysis, user=alice)

    assert result.corrections[0].fix == "went"
    repair = scripted_llm.calls[1].messages
    assert repair[-2]["role"] == "assistant"
    assert "corrections" in repair[-1]["content"]


def test_structured_output_still_invalid_after_repair_is_a_typed_error(scripted_llm, alice):
    scripted_llm.queue("not json at all")
    scripted_llm.queue('{"language": 3}')
    with pytest.raises(errors.StructuredOutputError):
        llm.structured("analysis", HELLO, schema=Analysis, user=alice)
    assert len(scripted_llm.calls) == 2
    assert LLMCall.objects.get().status == "error"


def test_structured_default_reply_follows_the_schema(scripted_llm, alice):
    result = llm.structured("analysis", HELLO, schema=Analysis, user=alice)
    assert isinstance(result, Analysis)


# -- profile cache -----------------------------------------------------------------------


def test_profiles_are_cached_per_process_and_a_save_clears_them(
    db, settings, django_assert_num_queries
):
    settings.LLM_PROFILE_CACHE_SECONDS = 60
    llm.get_profile("chat")
    with django_assert_num_queries(0):
        assert llm.get_profile("chat").temperature == 0.7

    profile = TaskProfile.objects.get(name="chat")
    profile.temperature = 0.1
    profile.save()

    assert llm.get_profile("chat").temperature == 0.1


def test_stream_stops_at_the_profiles_max_tokens_whatever_the_model_does(scripted_llm, alice):
    # The scripted model, like some servers, ignores the limit it is sent.
    TaskProfile.objects.filter(name="chat").update(max_tokens=5)
    scripted_llm.queue("abcd" * 50, chunk_size=4)

    reply = llm.stream("chat", HELLO, user=alice)
    deltas = list(reply)

    assert deltas == ["abcd"] * 5
    assert LLMCall.objects.get().status == "ok"
