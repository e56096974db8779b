"""Provider health detail, the cross-process script file, and the API's 429."""

import json
import os

from rest_framework.test import APIRequestFactory

import llm
from config.api import exception_handler
from llm import errors
from llm.health import provider_status


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


def test_self_hosted_openai_endpoint_needs_no_key(settings):
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"
    settings.OPENAI_API_KEY = ""
    settings.LLM_MODEL = "qwen2.5:0.5b"
    assert provider_status() == (True, "openai: qwen2.5:0.5b at http://127.0.0.1:11434/v1")


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
