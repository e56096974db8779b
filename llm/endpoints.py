"""The connection test of an endpoint connected in the admin: what the product needs of
it, tried for real. It lists the models, streams a short reply and asks for output
following a JSON schema, through the same provider the task profiles use, and says
what worked and what did not, in words staff can act on.
"""

import time
from dataclasses import dataclass, field
from typing import Literal

from django.utils import timezone
from pydantic import BaseModel, ValidationError

from llm import errors, keys
from llm.models import Endpoint
from llm.providers.openai import OpenAIProvider, endpoint_models, structured_method
from llm.results import ProviderRequest

TIMEOUT_SECONDS = 30.0
STREAM_PROMPT = [
    {"role": "system", "content": "You are a friendly English tutor."},
    {"role": "user", "content": "Say hello to an English learner in one short sentence."},
]
STRUCTURED_PROMPT = [
    {"role": "user", "content": 'Is "She go to school every day." correct English?'}
]


class Verdict(BaseModel):
    """A small schema of the kind the analysis asks for."""

    language: Literal["en", "es", "fr"]
    correct: bool


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"


@dataclass
class ConnectionReport:
    endpoint: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def text(self) -> str:
        return "\n".join(check.line() for check in self.checks)


def connection_test(endpoint: Endpoint, *, timeout: float = TIMEOUT_SECONDS) -> ConnectionReport:
    """Try the endpoint and keep the outcome on it (shown in the admin)."""
    report = ConnectionReport(endpoint.name)
    _run_checks(endpoint, report, timeout)
    endpoint.last_checked_at = timezone.now()
    endpoint.last_check_ok = report.ok
    endpoint.last_check_report = report.text()
    endpoint.save(update_fields=["last_checked_at", "last_check_ok", "last_check_report"])
    return report


def _run_checks(endpoint: Endpoint, report: ConnectionReport, timeout: float) -> None:
    try:
        key = endpoint.api_key()
    except keys.KeyUnreadable as exc:
        report.checks.append(Check("key", False, str(exc)))
        return
    if endpoint.api_key_env and not key:
        report.checks.append(
            Check("key", False, f"${endpoint.api_key_env} is not set in this process")
        )
        return
    model = _check_models(endpoint, key, report, timeout)
    if not model:
        return
    base = {"base_url": endpoint.base_url, "api_key": key, "model": model, "timeout": timeout}
    report.checks.append(_check_stream(base))
    report.checks.append(_check_structured(base))


def _check_models(endpoint: Endpoint, key: str, report: ConnectionReport, timeout: float) -> str:
    """The model to try (empty when there is none to try), after GET /models."""
    try:
        served = endpoint_models(endpoint.base_url, key, timeout=timeout)
    except errors.LLMError as exc:
        report.checks.append(Check("models", False, _explain(exc)))
        return endpoint.model  # some servers do not list models; chat may still work
    listed = ", ".join(served[:5]) + (" …" if len(served) > 5 else "")
    if endpoint.model:
        found = endpoint.model in served
        detail = (
            f"{endpoint.model} is served"
            if found
            else (f"{endpoint.model} is not among the {len(served)} models listed ({listed})")
        )
        report.checks.append(Check("models", found, detail))
        return endpoint.model
    if len(served) == 1:
        report.checks.append(Check("models", True, f"serves one model, {served[0]}: used"))
        return served[0]
    report.checks.append(
        Check("models", False, f"serves {len(served)} models ({listed or 'none'}): set the model")
    )
    return ""


def _check_stream(base: dict) -> Check:
    request = ProviderRequest(
        task="connection_test", messages=STREAM_PROMPT, temperature=0.0, max_tokens=32, **base
    )
    started = time.perf_counter()
    first_ms, parts = None, []
    try:
        for item in OpenAIProvider().stream(request):
            if isinstance(item, str) and item:
                first_ms = first_ms or round((time.perf_counter() - started) * 1000)
                parts.append(item)
            if len(parts) >= request.max_tokens:
                break  # a server that ignores max_tokens must not hold the test
    except errors.LLMError as exc:
        return Check("streaming", False, _explain(exc))
    text = "".join(parts).strip()
    if not text:
        return Check("streaming", False, "the stream ended without any text")
    pieces = (
        "in one piece (the server does not stream)"
        if len(parts) == 1
        else (f"in {len(parts)} pieces")
    )
    return Check("streaming", True, f"first text after {first_ms} ms, {pieces}: “{text[:80]}”")


def _check_structured(base: dict) -> Check:
    request = ProviderRequest(
        task="connection_test",
        messages=STRUCTURED_PROMPT,
        temperature=0.0,
        max_tokens=128,
        json_schema=Verdict.model_json_schema(),
        schema_name="Verdict",
        **base,
    )
    try:
        result = OpenAIProvider().structured(request)
    except errors.LLMError as exc:
        return Check("structured output", False, _explain(exc))
    method = structured_method(base["base_url"], base["model"]) or "?"
    try:
        Verdict.model_validate_json(_unfenced(result.text))
    except ValidationError as exc:
        return Check(
            "structured output",
            False,
            f"answered by {method}, but not in the schema: {exc.errors()[0]['msg']} "
            f"(“{result.text[:80]}”)",
        )
    return Check("structured output", True, f"valid JSON by {method}: {result.text[:80]}")


def _unfenced(text: str) -> str:
    stripped = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```")
    return stripped.strip()


def _explain(exc: errors.LLMError) -> str:
    """The failure with what to do about it."""
    status = exc.upstream_status
    if status in (401, 403):
        return f"the endpoint refused the key (HTTP {status}): check the key"
    if status == 404:
        return "not found (HTTP 404): check that the base URL ends in /v1 and the model name"
    if isinstance(exc, errors.ModelTimeout):
        return f"no answer within the time limit: {exc.detail}"
    if isinstance(exc, errors.ModelUnavailable) and status is None:
        return f"cannot reach the endpoint: {exc.detail}"
    return exc.detail or exc.__class__.__name__
