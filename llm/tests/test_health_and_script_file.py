"""Provider health detail (the openai endpoint probed for real), the cross-process script
file, and the API's 429."""

import json
import os
import socket

from rest_framework.test import APIRequestFactory

import llm
from core.api import exception_handler
from llm import errors
from llm.health import probe_cache_clear, provider_status


def test_local_provider_reports_its_model(settings):
    settings.LLM_PROVIDER = "local"
    ok, detail = provider_status()
    assert ok
    assert "SmolLM2-135M-Instruct" in detail


def test_hosted_openai_without_a_key_is_down(settings):
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = "https://api.openai.com/v1"
    settings.OPENAI_API_KEY = ""
    assert provider_status() == (False, "openai: OPENAI_API_KEY is not set")


def test_self_hosted_openai_endpoint_needs_no_key(openai_llm, settings):
    settings.LLM_MODEL = "stub-model"
    settings.LLM_PRICES = {"stub-model": [0, 0]}
    assert provider_status() == (True, f"openai: stub-model at {openai_llm.base_url}")


def test_a_dead_model_server_is_down(settings):
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{_dead_port()}/v1"
    settings.LLM_MODEL = "qwen2.5:0.5b"
    probe_cache_clear()
    ok, detail = provider_status()
    assert not ok
    assert detail.startswith(f"openai: unreachable at {settings.OPENAI_BASE_URL}")


def test_a_wrong_key_is_down_as_unauthorised(openai_llm, settings):
    openai_llm.configure(api_key="right-key")
    settings.OPENAI_API_KEY = "wrong-key"
    settings.LLM_MODEL = "stub-model"
    ok, detail = provider_status()
    assert not ok
    assert "unauthorised (check OPENAI_API_KEY)" in detail


def test_a_base_url_without_v1_is_down_as_not_found(openai_llm, settings):
    settings.OPENAI_BASE_URL = openai_llm.base_url.removesuffix("/v1")
    ok, detail = provider_status()
    assert not ok
    assert "not found (does OPENAI_BASE_URL end in /v1?)" in detail


def test_a_model_the_endpoint_does_not_serve_is_down(openai_llm, settings):
    settings.LLM_MODEL = "gpt-4o-mini"
    ok, detail = provider_status()
    assert not ok
    assert "model gpt-4o-mini not found" in detail and "stub-model" in detail


def test_an_unpriced_model_says_it_costs_nothing(openai_llm, settings):
    settings.LLM_MODEL = ""
    ok, detail = provider_status()
    assert ok
    assert detail.endswith(
        "stub-model at " + openai_llm.base_url + " (not in LLM_PRICES: recorded at cost 0)"
    )


def test_the_probe_is_cached_briefly(openai_llm, settings):
    settings.LLM_MODEL = "stub-model"
    settings.LLM_HEALTH_PROBE_SECONDS = 60
    assert provider_status()[0]
    openai_llm.configure(api_key="now-required")
    assert provider_status()[0]  # the cached answer
    assert openai_llm.gets == ["/v1/models"]
    settings.LLM_HEALTH_PROBE_SECONDS = 0
    assert not provider_status()[0]


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unknown_provider_is_down(settings):
    settings.LLM_PROVIDER = "psychic"
    ok, detail = provider_status()
    assert not ok and "psychic" in detail


def test_script_file_drives_replies_across_processes(scripted_llm, settings, tmp_path, alice):
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            {
                "default": {"text": "Default from file", "chunk_size": 100},
                "replies": [{"text": "First scripted", "chunk_size": 5}],
            }
        )
    )
    settings.LLM_SCRIPT_FILE = str(script)
    hello = [{"role": "user", "content": "hi"}]

    assert list(llm.stream("chat", hello, user=alice)) == ["First", " scri", "pted"]
    assert llm.complete("chat", hello, user=alice).text == "Default from file"

    script.write_text(json.dumps({"replies": [{"text": "Rewritten"}]}))
    stat = script.stat()
    os.utime(script, (stat.st_atime, stat.st_mtime + 1))
    assert llm.complete("chat", hello, user=alice).text == "Rewritten"


def test_api_turns_quota_exceeded_into_a_429_a_learner_can_read():
    request = APIRequestFactory().get("/api/v1/anything")
    response = exception_handler(errors.QuotaExceeded(detail="9 of 5 tokens"), {"request": request})
    assert response.status_code == 429
    assert "allowance" in response.data["error"]
    assert response["Retry-After"]
