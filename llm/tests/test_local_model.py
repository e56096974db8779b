"""The shipped SmolLM2 model, run for real in-process (kept few and short)."""

import pytest
from pydantic import BaseModel, Field

import llm
from llm.models import LLMCall, TaskProfile

pytestmark = pytest.mark.local_model


@pytest.fixture
def local_llm(settings, db):
    settings.LLM_PROVIDER = "local"
    settings.LLM_MODEL = ""
    settings.LLM_PROFILE_CACHE_SECONDS = 0
    TaskProfile.objects.update(max_tokens=16, cache_enabled=False, temperature=0.3)


SHORT_CHAT = [
    {"role": "system", "content": "You are a friendly English tutor."},
    {"role": "user", "content": "Say hello to me."},
]


def test_local_model_streams_a_real_reply(local_llm, alice):
    reply = llm.stream("chat", SHORT_CHAT, user=alice)
    deltas = list(reply)

    assert len(deltas) > 1
    assert reply.text.strip()
    call = LLMCall.objects.get()
    assert (call.provider, call.model, call.status) == ("local", "SmolLM2-135M-Instruct", "ok")
    assert 0 < call.completion_tokens <= 16
    # The exact ChatML prompt, counted by the model's own tokenizer.
    assert call.prompt_tokens == llm.count_tokens("chat", SHORT_CHAT)
    assert call.cost_usd == 0


class Mistake(BaseModel):
    span: str = Field(max_length=24)
    correction: str = Field(max_length=24)


class SentenceCheck(BaseModel):
    language: str = Field(max_length=8)
    mistakes: list[Mistake] = Field(max_length=1)


def test_local_structured_output_validates_against_a_nested_schema(local_llm, alice):
    TaskProfile.objects.filter(name="analysis").update(max_tokens=80)
    messages = [
        {"role": "system", "content": "You find grammar mistakes."},
        {"role": "user", "content": "Check this sentence: 'I goed home.'"},
    ]

    result = llm.structured("analysis", messages, schema=SentenceCheck, user=alice)

    assert isinstance(result, SentenceCheck)
    assert all(isinstance(m, Mistake) for m in result.mistakes)
    call = LLMCall.objects.get()
    assert (call.kind, call.status) == ("structured", "ok")
    assert call.prompt_tokens > 0 and call.completion_tokens > 0


def test_local_token_counts_come_from_the_models_tokenizer(local_llm):
    # SmolLM2's BPE: "Hello" is one token; the long word splits into pieces. The
    # four-characters-per-token estimate would say 2 and 10.
    assert llm.count_tokens("chat", "Hello") == 1
    assert llm.count_tokens("chat", "Antidisestablishmentarianism, naturally.") == 8
