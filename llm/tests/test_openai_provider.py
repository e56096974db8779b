"""The `openai` provider over real HTTP against the local OpenAI-compatible stub."""

import threading
import time

import pytest
from pydantic import BaseModel, Field

import llm
from llm import errors
from llm.models import LLMCall, TaskProfile
from llm.providers import get_provider
from llm.providers.openai import OpenAIProvider, _retry_after
from llm.results import ProviderRequest

HELLO = [{"role": "user", "content": "Hello there"}]


def test_streams_sse_deltas_and_records_the_endpoints_usage(openai_llm, alice):
    openai_llm.queue("Hola, ¿qué tal?")

    reply = llm.stream("chat", HELLO, user=alice)
    deltas = list(reply)

    assert deltas == ["Hola,", " ¿qué", " tal?"]
    body = openai_llm.requests[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"][0]["role"] == "system"
    call = LLMCall.objects.get()
    assert (call.provider, call.model, call.status) == ("openai", "gpt-4o-mini", "ok")
    assert call.completion_tokens == 3  # from the usage chunk, not an estimate
    assert call.prompt_tokens > 0
    assert call.cost_usd > 0


def test_rate_limit_is_retried_after_retry_after(openai_llm, alice):
    openai_llm.queue(status=429, retry_after=0.3)
    openai_llm.queue("Back again")

    started = time.monotonic()
    result = llm.complete("chat", HELLO, user=alice)

    assert result.text == "Back again"
    assert time.monotonic() - started >= 0.3
    assert openai_llm.request_count == 2
    assert LLMCall.objects.get().retries == 1


def test_server_errors_exhaust_retries_into_model_unavailable(openai_llm, alice):
    for _ in range(3):
        openai_llm.queue(status=500)

    with pytest.raises(errors.ModelUnavailable) as caught:
        llm.complete("chat", HELLO, user=alice)

    assert caught.value.status_code == 503
    assert openai_llm.request_count == 3
    call = LLMCall.objects.get()
    assert (call.status, call.retries, call.completion_tokens) == ("error", 2, 0)
    assert "500" in call.error


def test_fallback_profile_takes_over_after_retries(openai_llm, alice):
    backup = TaskProfile.objects.create(
        name="chat_backup", provider="openai", model="backup-model", max_retries=0
    )
    TaskProfile.objects.filter(name="chat").update(max_retries=1, fallback=backup)
    openai_llm.queue(status=503)
    openai_llm.queue(status=502)
    openai_llm.queue("Backup speaking")

    reply = llm.stream("chat", HELLO, user=alice)
    assert "".join(reply) == "Backup speaking"

    assert [r["model"] for r in openai_llm.requests] == ["gpt-4o-mini"] * 2 + ["backup-model"]
    assert reply.model == "backup-model"
    call = LLMCall.objects.get()
    assert (call.model, call.fallback_used, call.retries) == ("backup-model", True, 1)


def test_rejected_request_is_not_retried(openai_llm, alice):
    openai_llm.queue(status=400)
    with pytest.raises(errors.InvalidModelRequest):
        llm.complete("chat", HELLO, user=alice)
    assert openai_llm.request_count == 1


def test_malformed_stream_after_text_is_a_typed_error(openai_llm, alice):
    openai_llm.queue("one two three", malformed=True)
    reply = llm.stream("chat", HELLO, user=alice)
    with pytest.raises(errors.ModelUnavailable):
        list(reply)
    assert reply.text == "one"
    assert LLMCall.objects.get().status == "error"


def test_stalled_stream_times_out(openai_llm, alice):
    TaskProfile.objects.filter(name="chat").update(timeout_seconds=0.3)
    openai_llm.queue("never quite finished", stall_after_chunks=1)

    reply = llm.stream("chat", HELLO, user=alice)
    started = time.monotonic()
    with pytest.raises(errors.ModelTimeout) as caught:
        list(reply)

    assert time.monotonic() - started < 2
    assert caught.value.status_code == 504
    assert reply.text == "never"
    assert LLMCall.objects.get().error.startswith("ModelTimeout")


def test_slow_first_token_is_retried_then_answers(openai_llm, alice):
    TaskProfile.objects.filter(name="chat").update(timeout_seconds=0.3)
    openai_llm.queue("too late", first_token_delay=2)
    openai_llm.queue("in time")

    assert llm.complete("chat", HELLO, user=alice).text == "in time"
    assert LLMCall.objects.get().retries == 1


def test_close_mid_stream_cancels(openai_llm, alice):
    openai_llm.queue("a b c d e f g h", token_delay=0.2)
    reply = llm.stream("chat", HELLO, user=alice)
    assert next(reply) == "a"
    threading.Timer(0.05, reply.close).start()
    started = time.monotonic()
    list(reply)
    assert time.monotonic() - started < 1
    assert LLMCall.objects.get().status == "cancelled"


def test_streamed_request_is_the_one_chatopenai_sends(openai_llm, alice):
    # Streaming reads the SDK client directly; the body must stay ChatOpenAI's own.
    openai_llm.queue("direct")
    openai_llm.queue("langchain")
    reply = llm.stream("chat", HELLO, user=alice)
    assert "".join(reply) == "direct"

    sent = openai_llm.requests[0]
    chat = get_provider("openai")._chat(_request_like(llm.get_profile("chat")))
    assert "".join(chunk.text for chunk in chat.stream(sent["messages"])) == "langchain"

    assert openai_llm.requests[1] == sent


def test_model_whose_request_langchain_rewrites_streams_through_it(openai_llm, alice):
    TaskProfile.objects.filter(name="chat").update(provider="openai", model="o3-mini")
    openai_llm.queue("Thinking done")

    reply = llm.stream("chat", HELLO, user=alice)

    assert "".join(reply) == "Thinking done"
    assert openai_llm.requests[0]["messages"][0]["role"] == "developer"
    assert LLMCall.objects.get().completion_tokens == 2  # the endpoint's usage chunk


def test_concurrent_first_calls_build_one_client(openai_llm, monkeypatch):
    import langchain_openai

    built = []

    class CountingChatOpenAI(langchain_openai.ChatOpenAI):
        def __init__(self, **kwargs):
            built.append(kwargs["model"])
            super().__init__(**kwargs)

    monkeypatch.setattr(langchain_openai, "ChatOpenAI", CountingChatOpenAI)
    provider = OpenAIProvider()
    request = ProviderRequest(
        task="chat", model="gpt-4o-mini", messages=HELLO, temperature=0.7, max_tokens=64, timeout=5
    )
    barrier = threading.Barrier(20)
    clients = []

    def first_call():
        barrier.wait()
        clients.append(provider._chat(request))

    threads = [threading.Thread(target=first_call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert built == ["gpt-4o-mini"]
    assert len(clients) == 20 and all(chat is clients[0] for chat in clients)


def _request_like(profile: TaskProfile) -> ProviderRequest:
    return ProviderRequest(
        task=profile.name,
        model="gpt-4o-mini",
        messages=[],
        temperature=profile.temperature,
        max_tokens=profile.max_tokens,
        timeout=profile.timeout_seconds,
    )


class Question(BaseModel):
    prompt: str = Field(max_length=200)
    answer: str


class Quiz(BaseModel):
    topic: str
    questions: list[Question] = Field(min_length=1, max_length=5)


QUIZ = '{"topic": "past simple", "questions": [{"prompt": "I ___ home.", "answer": "went"}]}'


def test_structured_uses_json_schema(openai_llm, alice):
    openai_llm.queue(QUIZ)

    quiz = llm.structured("test_generation", HELLO, schema=Quiz, user=alice)

    assert quiz.questions[0].answer == "went"
    response_format = openai_llm.requests[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"]["properties"]["questions"]
    call = LLMCall.objects.get()
    assert (call.kind, call.status, call.completion_tokens) == ("structured", "ok", 10)


def test_structured_falls_back_to_tool_calling_without_json_schema(openai_llm, alice):
    openai_llm.reject_json_schema = True
    openai_llm.queue()  # rejected: json_schema
    openai_llm.queue(QUIZ)  # answered as a tool call

    quiz = llm.structured("test_generation", HELLO, schema=Quiz, user=alice)

    assert quiz.topic == "past simple"
    assert openai_llm.requests[1]["tools"][0]["function"]["name"] == "Quiz"


def test_structured_repairs_invalid_output_once(openai_llm, alice):
    openai_llm.queue('{"topic": "past simple", "questions": []}')
    openai_llm.queue(QUIZ)

    quiz = llm.structured("test_generation", HELLO, schema=Quiz, user=alice)

    assert len(quiz.questions) == 1
    repair = openai_llm.requests[1]["messages"]
    assert repair[-2] == {
        "role": "assistant",
        "content": '{"topic": "past simple", "questions": []}',
    }
    assert "questions" in repair[-1]["content"]


def test_structured_malformed_body_is_retried(openai_llm, alice):
    openai_llm.queue(malformed=True)
    openai_llm.queue(QUIZ)
    assert llm.structured("test_generation", HELLO, schema=Quiz, user=alice).topic
    assert LLMCall.objects.get().retries == 1


def test_structured_still_invalid_is_a_typed_error(openai_llm, alice):
    openai_llm.queue('{"topic": 1}')
    openai_llm.queue("no")
    with pytest.raises(errors.StructuredOutputError):
        llm.structured("test_generation", HELLO, schema=Quiz, user=alice)


def test_deterministic_structured_call_is_cached(openai_llm, alice):
    first = llm.structured("analysis", HELLO, schema=Quiz, user=alice)
    second = llm.structured("analysis", HELLO, schema=Quiz, user=alice)
    assert first == second
    assert openai_llm.request_count == 1
    assert list(LLMCall.objects.order_by("id").values_list("cache_hit", "cost_usd")) == [
        (False, LLMCall.objects.order_by("id").first().cost_usd),
        (True, 0),
    ]


def test_token_counts_need_no_network(openai_llm, db):
    # tiktoken's BPE files are not on this machine: an honest estimate, never a download.
    assert llm.count_tokens("chat", "twelve chars") == 3
    assert llm.count_tokens("chat", HELLO) == 3 + 3 + 3


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "250", "retry-after": "1"}, 0.25),
        ({}, None),
    ],
)
def test_retry_after_header_is_read(headers, seconds):
    class Response:
        pass

    response = Response()
    response.headers = headers
    assert _retry_after(response) == seconds


def test_extra_body_is_sent_as_body_fields_when_streaming_directly():
    from langchain_openai import ChatOpenAI

    from llm.providers.openai import _direct_stream_params

    chat = ChatOpenAI(
        model="m", api_key="k", base_url="http://127.0.0.1:9/v1", extra_body={"top_k": 5}
    )

    params = _direct_stream_params(chat)

    assert params["top_k"] == 5  # as the SDK would merge it into the JSON body
    assert "extra_body" not in params
