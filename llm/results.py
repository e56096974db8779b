"""What the gateway hands back: a streaming reply, a completion, and the per-call record.

Nothing here touches the database directly; finishing a reply calls back into the
gateway, which writes the one LLMCall row.
"""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async

from llm.allowance import Charge, current
from llm.errors import LLMError


@dataclass(frozen=True)
class Usage:
    """Token counts reported by a provider (the model's own tokenizer)."""

    prompt_tokens: int
    completion_tokens: int


@dataclass
class ProviderRequest:
    task: str
    model: str
    messages: list[dict[str, str]]
    temperature: float
    max_tokens: int
    timeout: float
    cancel: threading.Event = field(default_factory=threading.Event)
    json_schema: dict[str, Any] | None = None
    schema_name: str = "Result"
    # An endpoint connected in the admin; empty: the deployment's OPENAI_* settings.
    base_url: str = ""
    api_key: str = ""


@dataclass
class ProviderResult:
    text: str
    usage: Usage | None = None


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    call_id: int | None
    cache_hit: bool = False


@dataclass
class CallRecord:
    """Accounting of one gateway call, filled as it runs and written once at the end."""

    task: str
    kind: str
    user: Any
    provider: str = ""
    model: str = ""
    started: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    usage: Usage | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False  # counted here by a rule of thumb, not a tokenizer
    retries: int = 0
    fallback_used: bool = False
    cache_hit: bool = False
    status: str = "ok"
    error: str = ""
    call_id: int | None = None
    last_error: LLMError | None = None
    charge: Charge = field(default_factory=current)

    def latency_ms(self) -> int:
        return round((time.perf_counter() - self.started) * 1000)

    def ttft_ms(self) -> int | None:
        if self.first_token_at is None:
            return None
        return round((self.first_token_at - self.started) * 1000)


class _Recorded:
    """A read-only attribute of a reply that its CallRecord holds, as the call has filled
    it in so far (the same name on both)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, reply: "StreamingReply | None", owner: type | None = None) -> Any:
        if reply is None:
            return self
        return getattr(reply._record, self._name)

    def __set__(self, reply: "StreamingReply", value: Any) -> None:
        raise AttributeError(f"{self._name} is read from the call's record")


class StreamingReply:
    """Iterate for text deltas. `close()` cancels from any thread, promptly.

    The LLMCall row is written exactly once: when iteration ends, fails or is cancelled.
    """

    def __init__(
        self,
        events: Iterator[str],
        record: CallRecord,
        cancel: threading.Event,
        finish: Callable[[CallRecord, str, str], None],
    ) -> None:
        self._events = events
        self._record = record
        self._cancel = cancel
        self._finish_cb = finish
        self._parts: list[str] = []
        self._lock = threading.Lock()
        self._busy = False
        self._done = False

    # -- iteration -------------------------------------------------------------------

    def __iter__(self) -> "StreamingReply":
        return self

    def __next__(self) -> str:
        with self._lock:
            if self._done:
                raise StopIteration
            self._busy = True
        try:
            delta = next(self._events)
        except StopIteration:
            self._end("cancelled" if self._cancel.is_set() else "ok")
            raise
        except BaseException as exc:
            self._end("error", exc)
            raise
        finally:
            with self._lock:
                self._busy = False
        if self._cancel.is_set():
            self.close()
            raise StopIteration
        self._parts.append(delta)
        return delta

    def close(self) -> None:
        """Stop generating; safe to call from another thread or twice."""
        with self._lock:
            self._cancel.set()
            if self._done or self._busy:
                return  # the iterating thread sees the flag and finishes the call
        self._events.close()
        self._end("cancelled")

    def stop(self) -> None:
        """The reader has what it wants (a sentence limit, another speaker's turn): end
        the generation now, from the thread that iterates, and record the call as
        answered with the text read. Left unread, the provider's stream would hold its
        model (the built-in one serves one call at a time) until garbage collection."""
        if self._done:
            return
        self._events.close()
        self._end("ok")

    def __enter__(self) -> "StreamingReply":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _end(self, status: str, exc: BaseException | None = None) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        if exc is not None:
            self._record.error = f"{exc.__class__.__name__}: {getattr(exc, 'detail', exc)}"[:300]
        self._finish_cb(self._record, status, "".join(self._parts))

    # -- what callers read -------------------------------------------------------------

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def done(self) -> bool:
        return self._done

    @property
    def cancelled(self) -> bool:
        return self._record.status == "cancelled"

    model = _Recorded()
    provider = _Recorded()
    prompt_tokens = _Recorded()
    completion_tokens = _Recorded()
    call_id = _Recorded()
    cache_hit = _Recorded()


_END = object()


def _next_or_end(reply: StreamingReply) -> object:
    return next(reply, _END)


class AsyncStreamingReply:
    """`async for delta in reply`: the sync reply, started and driven from worker threads
    (starting it reads the profile and the quota from the database)."""

    def __init__(self, start: Callable[[], StreamingReply]) -> None:
        self._start = start
        self.reply: StreamingReply | None = None

    def __aiter__(self) -> "AsyncStreamingReply":
        return self

    async def __anext__(self) -> str:
        if self.reply is None:
            self.reply = await sync_to_async(self._start, thread_sensitive=False)()
        delta = await sync_to_async(_next_or_end, thread_sensitive=False)(self.reply)
        if delta is _END:
            raise StopAsyncIteration
        return delta  # type: ignore[return-value]

    async def aclose(self) -> None:
        if self.reply is not None:
            await sync_to_async(self.reply.close, thread_sensitive=False)()

    def __getattr__(self, name: str) -> Any:
        if name == "reply" or self.reply is None:
            raise AttributeError(name)
        return getattr(self.reply, name)
