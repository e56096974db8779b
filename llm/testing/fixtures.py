"""pytest fixtures of the gateway, registered for the whole suite by the root conftest.

`scripted_llm` switches every task profile to the scripted provider (LLM_PROVIDER=scripted)
and returns its controller. Cached replies of earlier tests are out of reach, and retries
back off in milliseconds so failure tests stay fast.
"""

import uuid
from collections.abc import Iterator

import pytest

from llm.cache import cache_namespace_reset
from llm.providers.scripted import SCRIPT, Script


@pytest.fixture
def scripted_llm(settings) -> Iterator[Script]:
    settings.LLM_PROVIDER = "scripted"
    settings.LLM_SCRIPT_FILE = ""
    settings.LLM_RETRY_BASE_SECONDS = 0.001
    SCRIPT.reset()
    cache_namespace_reset(uuid.uuid4().hex[:12])
    yield SCRIPT
    SCRIPT.reset()
