"""A deterministic model for tests: replies, chunking, delays and failures are scripted.

In-process, tests drive it through the `scripted_llm` fixture (llm/testing/fixtures.py).
Across processes, LLM_SCRIPT_FILE names a JSON file:
`{"default": {"text": ..., "chunk_size": 4, "delay": 0.02, "first_token_delay": 0.0},
"replies": [{"text": ..., ...}, ...]}`; it is re-read whenever it changes.
"""

import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from django.conf import settings

from llm import errors
from llm.providers.base import Provider
from llm.results import ProviderRequest, ProviderResult, Usage
from llm.schemas import example_for
from llm.tokens import estimate_messages, estimate_tokens

ERRORS: dict[str, type[errors.LLMError]] = {
    "unavailable": errors.ModelUnavailable,
    "rate_limited": errors.ModelRateLimited,
    "timeout": errors.ModelTimeout,
    "invalid": errors.InvalidModelRequest,
}

HOLD_LIMIT_SECONDS = 60.0  # a forgotten gate must not hang a test run forever


@dataclass
class ScriptedReply:
    """One scripted reply. `release()` opens the gate of a reply held mid-stream."""

    text: str | None = None
    chunk_size: int = 4
    delay: float = 0.0
    first_token_delay: float = 0.0
    fail_after_chars: int | None = None
    error: str = "unavailable"
    hold_after_chars: int | None = None
    gate: threading.Event = field(default_factory=threading.Event, repr=False)

    def release(self) -> None:
        self.gate.set()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScriptedReply":
        names = {f.name for f in fields(cls)} - {"gate"}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class ScriptedCall:
    """What the gateway sent: the profile name, the exact messages, the temperature."""

    profile: str
    messages: list[dict[str, str]]
    model: str
    json_schema: dict[str, Any] | None = None
    temperature: float | None = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


class Script:
    """Process-wide script state, safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._replies: deque[ScriptedReply] = deque()
            self.default = ScriptedReply()
            self.calls: list[ScriptedCall] = []
            self._file_mtime: float | None = None

    def queue(self, text: str | None = None, **options: Any) -> ScriptedReply:
        if text is not None and not isinstance(text, str):
            text = json.dumps(text)
        reply = ScriptedReply(text=text, **options)
        with self._lock:
            self._replies.append(reply)
        return reply

    def set_default(self, **options: Any) -> None:
        with self._lock:
            self.default = ScriptedReply(**options)

    @property
    def pending(self) -> int:
        return len(self._replies)

    def next_reply(self, request: ProviderRequest) -> ScriptedReply:
        self._load_file()
        with self._lock:
            self.calls.append(
                ScriptedCall(
                    profile=request.task,
                    messages=[dict(m) for m in request.messages],
                    model=request.model,
                    json_schema=request.json_schema,
                    temperature=request.temperature,
                )
            )
            return self._replies.popleft() if self._replies else self.default

    def _load_file(self) -> None:
        path = settings.LLM_SCRIPT_FILE
        if not path:
            return
        try:
            mtime = os.stat(path).st_mtime
        except FileNotFoundError:
            return
        with self._lock:
            if mtime == self._file_mtime:
                return
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            self._file_mtime = mtime
            self.default = ScriptedReply.from_dict(data.get("default") or {})
            self._replies = deque(ScriptedReply.from_dict(r) for r in data.get("replies", []))


SCRIPT = Script()


def default_text(request: ProviderRequest) -> str:
    if request.json_schema is not None:
        return json.dumps(example_for(request.json_schema))
    last_user = next((m["content"] for m in reversed(request.messages) if m["role"] == "user"), "")
    return f"Scripted reply to: {last_user}"


class ScriptedProvider(Provider):
    name = "scripted"
    default_model = "scripted-model"

    def stream(self, request: ProviderRequest) -> Iterator[str | Usage]:
        reply = SCRIPT.next_reply(request)
        text = reply.text if reply.text is not None else default_text(request)
        self._wait_first_token(reply, request)
        size, fail, hold = max(1, reply.chunk_size), reply.fail_after_chars, reply.hold_after_chars
        sent = 0
        while sent < len(text):
            if fail is not None and sent >= fail:
                break
            if hold is not None and sent >= hold:
                self._hold(reply, request)
                hold = None
            if request.cancel.is_set():
                return
            end = min(sent + size, len(text))
            for limit in (fail, hold):
                if limit is not None and sent < limit < end:
                    end = limit
            yield text[sent:end]
            sent = end
            if reply.delay and sent < len(text):
                request.cancel.wait(reply.delay)
        if fail is not None and sent >= fail:
            raise ERRORS[reply.error](detail=f"scripted failure after {sent} characters")
        yield Usage(estimate_messages(request.messages), estimate_tokens(text))

    def structured(self, request: ProviderRequest) -> ProviderResult:
        parts: list[str] = []
        usage = None
        for item in self.stream(request):
            if isinstance(item, Usage):
                usage = item
            else:
                parts.append(item)
        return ProviderResult("".join(parts), usage)

    @staticmethod
    def _wait_first_token(reply: ScriptedReply, request: ProviderRequest) -> None:
        if reply.first_token_delay <= 0:
            return
        if reply.first_token_delay > request.timeout:
            request.cancel.wait(request.timeout)
            raise errors.ModelTimeout(detail=f"no first token within {request.timeout}s")
        request.cancel.wait(reply.first_token_delay)

    @staticmethod
    def _hold(reply: ScriptedReply, request: ProviderRequest) -> None:
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while not reply.gate.is_set() and not request.cancel.is_set():
            if time.monotonic() > deadline:
                raise errors.ModelTimeout(detail="scripted reply was never released")
            reply.gate.wait(0.01)
