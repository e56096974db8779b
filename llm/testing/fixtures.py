"""pytest fixtures of the gateway, registered for the whole suite by the root conftest.

`scripted_llm` switches every task profile to the scripted provider (LLM_PROVIDER=scripted)
and returns its controller. Cached replies of earlier tests are out of reach, and retries
back off in milliseconds so failure tests stay fast. `openai_llm` does the same for the
`openai` provider against a local OpenAI-compatible stub server (real HTTP, no network).
"""

import uuid
from collections.abc import Iterator

import pytest

from llm.cache import cache_namespace_reset
from llm.health import probe_cache_clear
from llm.providers.openai import endpoint_cache_clear
from llm.providers.scripted import SCRIPT, Script
from llm.testing.openai_stub import OpenAIStub


@pytest.fixture
def scripted_llm(settings) -> Iterator[Script]:
    settings.LLM_PROVIDER = "scripted"
    settings.LLM_SCRIPT_FILE = ""
    settings.LLM_RETRY_BASE_SECONDS = 0.001
    settings.LLM_PROFILE_CACHE_SECONDS = 0  # tests edit profiles with QuerySet.update()
    SCRIPT.reset()
    cache_namespace_reset(uuid.uuid4().hex[:12])
    yield SCRIPT
    SCRIPT.reset()


@pytest.fixture(scope="session")
def openai_stub_server() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


@pytest.fixture
def openai_llm(settings, openai_stub_server: OpenAIStub) -> OpenAIStub:
    """Every profile on the `openai` provider, talking HTTP to a local stub server."""
    settings.LLM_PROVIDER = "openai"
    settings.LLM_MODEL = "gpt-4o-mini"
    settings.OPENAI_BASE_URL = openai_stub_server.base_url
    settings.OPENAI_API_KEY = ""
    settings.LLM_RETRY_BASE_SECONDS = 0.001
    settings.LLM_PROFILE_CACHE_SECONDS = 0
    openai_stub_server.reset()
    endpoint_cache_clear()
    probe_cache_clear()
    cache_namespace_reset(uuid.uuid4().hex[:12])
    return openai_stub_server
