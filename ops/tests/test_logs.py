"""Structured logs: JSON in production, readable text in development, with context."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import structlog

from conversations import services as conversation_services

ROOT = Path(__file__).resolve().parents[2]

# A request through the whole middleware stack, and a log call in the style the product's
# code has always used (printf arguments, an `extra` field).
SCRIPT = """
import logging
import django
django.setup()
from django.test import Client
logging.getLogger("llm").warning("model %s answered", "m1", extra={"duration_ms": 12})
print("status", Client().get("/health").status_code, flush=True)
"""


def _run(settings_module: str, tmp_path: Path) -> list[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "SECRET_KEY": "s" * 64,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "INFO",
        "LLM_PROVIDER": "local",
    }
    env.pop("LOG_FORMAT", None)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "status 503" in done.stdout, done.stderr[-3000:]  # no worker: degraded
    return [line for line in done.stderr.splitlines() if line.strip()]


def test_production_logs_one_json_object_per_event_with_a_request_id(tmp_path):
    lines = _run("config.settings.production", tmp_path)

    events = [json.loads(line) for line in lines]  # every line parses
    finished = next(e for e in events if e["event"] == "request_finished")
    started = next(e for e in events if e["event"] == "request_started")
    assert finished["request_id"] and finished["request_id"] == started["request_id"]
    assert finished["code"] == 503 and finished["request"] == "GET /health"
    assert finished["duration_ms"] >= 0
    assert "user_id" in finished
    legacy = next(e for e in events if e["logger"] == "llm")
    assert legacy["event"] == "model m1 answered"
    assert (legacy["level"], legacy["duration_ms"]) == ("warning", 12)
    assert legacy["timestamp"].endswith("Z")


def test_development_logs_are_readable_text(tmp_path):
    lines = _run("config.settings", tmp_path)

    finished = next(line for line in lines if "request_finished" in line)
    assert "request_id=" in finished and "duration_ms=" in finished
    assert not finished.startswith("{")
    assert any("model m1 answered" in line and "[llm]" in line for line in lines)


def test_a_tasks_events_carry_its_id_and_its_ids(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from ops.tests.sample_tasks import report_log_context

    result = report_log_context.enqueue(41, note="x")

    context = result.return_value
    assert context["task_id"] == str(result.id)
    assert context["task"].endswith("sample_tasks.report_log_context")
    assert context["conversation_id"] == "41"
    assert "note" not in context
    assert structlog.contextvars.get_contextvars() == {}  # nothing leaks past the task


@pytest.mark.django_db
def test_a_conversation_request_logs_its_conversation(api, alice, caplog):
    conversation = conversation_services.conversation_create(owner=alice, text="Hi")

    with caplog.at_level("INFO", logger="django_structlog.middlewares.request"):
        api.get(f"/api/v1/conversations/{conversation.pk}/")

    finished = [
        r.msg
        for r in caplog.records
        if isinstance(r.msg, dict) and r.msg.get("event") == "request_finished"
    ]
    assert finished[-1]["conversation_id"] == conversation.pk
    assert finished[-1]["user_id"] == alice.pk
