"""The `openai` provider against a real OpenAI-compatible server: llama.cpp's own
(`llama_cpp.server`) serving the shipped SmolLM2 GGUF on a free loopback port.

This server is what the stub imitates: it refuses json_schema with a 500, honours only
`max_tokens`, sends no usage in streams and names its one model by the GGUF's path.
"""

import uuid
from typing import Literal

import pytest
from pydantic import BaseModel

import llm
from llm.cache import cache_namespace_reset
from llm.health import probe_cache_clear, provider_status
from llm.models import LLMCall, TaskProfile
from llm.providers import openai as openai_provider
from llm.providers.local import model_path
from llm.testing.fixtures import LlamaServer

pytestmark = pytest.mark.llama_server


def _point_at(settings, base_url: str) -> None:
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = base_url
    settings.OPENAI_API_KEY = ""
    settings.LLM_MODEL = ""  # the server's own model, as a deployment would find it
    settings.LLM_RETRY_BASE_SECONDS = 0.001
    settings.LLM_PROFILE_CACHE_SECONDS = 0
    openai_provider.endpoint_cache_clear()
    probe_cache_clear()
    cache_namespace_reset(uuid.uuid4().hex[:12])


@pytest.fixture
def llama_llm(settings, llama_server, db) -> LlamaServer:
    _point_at(settings, llama_server.base_url)
    TaskProfile.objects.update(temperature=0, timeout_seconds=30)
    return llama_server


GREETING = [{"role": "user", "content": "Say hello to an English learner."}]


def test_a_reply_streams_from_the_server(llama_llm, alice):
    TaskProfile.objects.filter(name="chat").update(max_tokens=16)

    reply = llm.stream("chat", GREETING, user=alice)
    deltas = list(reply)

    assert len(deltas) > 1 and reply.text.strip()
    call = LLMCall.objects.get()
    assert (call.provider, call.status) == ("openai", "ok")
    assert call.model == reply.model == str(model_path())  # the server's one model
    assert call.cost_usd == 0
    # No usage in the server's stream: counted with SmolLM2's tokenizer, not estimated.
    assert call.tokens_estimated is False
    assert 1 < call.completion_tokens <= 16


class Verdict(BaseModel):
    language: Literal["en", "es", "fr"]
    correct: bool


def test_a_structured_call_validates(llama_llm, alice):
    TaskProfile.objects.filter(name="analysis").update(max_tokens=64)
    question = [{"role": "user", "content": 'Is "She go to school every day." correct?'}]

    verdict = llm.structured("analysis", question, schema=Verdict, user=alice)

    assert isinstance(verdict, Verdict)
    call = LLMCall.objects.get()
    assert (call.kind, call.status, call.retries) == ("structured", "ok", 0)
    # json_schema got the server's 500; the method that worked is remembered.
    endpoint = (llama_llm.base_url, str(model_path()))
    assert openai_provider._methods[endpoint] == "function_calling"


def test_the_profiles_token_limit_is_honoured(llama_llm, alice):
    TaskProfile.objects.filter(name="chat").update(max_tokens=5)
    story = [{"role": "user", "content": "Tell me a very long story about a dragon."}]

    reply = llm.stream("chat", story, user=alice)
    text = "".join(reply)

    # Before, the server ignored ChatOpenAI's max_completion_tokens: 1,036 tokens, 160 s.
    call = LLMCall.objects.get()
    assert call.status == "ok"
    assert 1 <= call.completion_tokens <= 7, text


def test_health_reports_the_server_up_then_down_once_stopped(settings, tmp_path, db):
    server = LlamaServer(tmp_path / "server.log").start()
    try:
        _point_at(settings, server.base_url)
        ok, detail = provider_status()
        assert ok, detail
        assert str(model_path()) in detail
    finally:
        server.stop()

    probe_cache_clear()  # the probe's brief cache would otherwise answer for it
    ok, detail = provider_status()
    assert not ok
    assert detail.startswith(f"openai: unreachable at {server.base_url}")
