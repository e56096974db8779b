"""The gateway: every model call in the product goes through these functions.

Each call resolves its task profile, checks the user's quota, prepends the profile's
system prompt, tries the provider with retries (exponential backoff and jitter,
honouring Retry-After), falls back to the profile's fallback, serves deterministic
profiles from the cache, and writes one LLMCall row at the end — nothing per delta.
"""

import contextlib
import functools
import json
import logging
import random
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from pydantic import BaseModel, ValidationError

from llm import allowance, cache, errors
from llm.models import TaskProfile
from llm.prompts import learner_variables, render
from llm.providers import Provider, Route, get_provider, route
from llm.results import (
    AsyncStreamingReply,
    CallRecord,
    Completion,
    ProviderRequest,
    ProviderResult,
    StreamingReply,
    Usage,
)
from llm.selectors import day_start, profile_get, tokens_used_today
from llm.services import llm_call_record

logger = logging.getLogger("llm")

Messages = list[dict[str, str]]
SchemaT = TypeVar("SchemaT", bound=BaseModel)
MAX_FALLBACK_HOPS = 3


@dataclass(frozen=True)
class _Target:
    profile: TaskProfile
    provider_name: str
    model: str
    provider: Provider
    route: Route


# -- public interface --------------------------------------------------------------------


def get_profile(name: str) -> TaskProfile:
    return profile_get(name)


@dataclass(frozen=True)
class ModelInfo:
    """Which model answers a profile's calls, for the pages that say so."""

    provider: str
    model: str

    @property
    def built_in(self) -> bool:
        return self.provider == "local"


def model_info(profile: str) -> ModelInfo:
    """The model a profile's calls go to first (its fallback only answers on failure)."""
    row = profile_get(profile)
    try:
        return ModelInfo(*route(row)[:2])
    except errors.LLMError:
        # An endpoint that cannot say its model now: a page still says where calls go.
        return ModelInfo("openai", row.endpoint.model or row.endpoint.name)


def system_prompt(profile: str, **variables: Any) -> str:
    """The profile's system prompt with `{name}` variables filled (see llm.prompts)."""
    return render(profile_get(profile).system_prompt_template, variables)


def quota_check(user: Any, *, task: str = "chat") -> None:
    """Raise QuotaExceeded when the user spent today's allowance that a call of profile
    `task` made now would spend (llm.allowance): chat and background work have their own."""
    charge = allowance.charge_for(task)
    quota = _quota_of(charge)
    if not quota or user is None or not getattr(user, "pk", None):
        return
    used = tokens_used_today(user, charge=charge)
    if used >= quota:
        error = (
            errors.QuotaExceeded
            if charge.allowance == allowance.CHAT
            else errors.BackgroundQuotaExceeded
        )
        raise error(
            detail=f"{used} of {quota} {_quota_name(charge)} tokens used today",
            renews_at=allowance.renews_at(day_start()),
        )


def _quota_of(charge: allowance.Charge) -> int:
    if charge.allowance == allowance.CHAT:
        return settings.LLM_DAILY_TOKEN_QUOTA
    if charge.integration_id is not None:
        return settings.LLM_INTEGRATION_DAILY_TOKENS
    return settings.LLM_BACKGROUND_DAILY_TOKENS


def _quota_name(charge: allowance.Charge) -> str:
    if charge.integration_id is not None:
        return f"{charge.allowance} (integration {charge.integration_id})"
    return charge.allowance


def count_tokens(profile: str, messages_or_text: Messages | str) -> int:
    """Tokens by the profile's model tokenizer (an honest estimate where none exists)."""
    row = profile_get(profile)
    name, model = route(row)[:2]
    provider = get_provider(name)
    if isinstance(messages_or_text, str):
        return provider.count_text(model, messages_or_text)
    return provider.count_messages(model, messages_or_text)


def stream(
    profile: str, messages: Messages, *, user: Any = None, variables: dict[str, Any] | None = None
) -> StreamingReply:
    """Start a streamed reply; iterate it for text deltas. Nothing runs until iterated."""
    return _start_stream(profile, messages, user=user, variables=variables, kind="stream")


def astream(
    profile: str, messages: Messages, *, user: Any = None, variables: dict[str, Any] | None = None
) -> AsyncStreamingReply:
    """`async for delta in astream(...)`: the same reply, driven from worker threads."""
    return AsyncStreamingReply(
        functools.partial(stream, profile, messages, user=user, variables=variables)
    )


def complete(
    profile: str, messages: Messages, *, user: Any = None, variables: dict[str, Any] | None = None
) -> Completion:
    """The whole reply as one text."""
    reply = _start_stream(profile, messages, user=user, variables=variables, kind="complete")
    for _ in reply:
        pass
    return Completion(
        text=reply.text,
        model=reply.model,
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        call_id=reply.call_id,
        cache_hit=reply.cache_hit,
    )


def structured(
    profile: str,
    messages: Messages,
    *,
    schema: type[SchemaT],
    user: Any = None,
    variables: dict[str, Any] | None = None,
    temperature: float | None = None,
) -> SchemaT:
    """A validated instance of `schema`. Output that fails validation gets one repair
    attempt; after that StructuredOutputError. Never returns unvalidated data.

    `temperature` overrides the profile's for this call, which then neither reads nor
    fills the reply cache: a caller asking again after a failure wants a new sample, not
    a copy of what a deterministic profile answered before."""
    row = profile_get(profile)
    quota_check(user, task=row.name)
    messages = _with_system_prompt(row, messages, user, variables)
    json_schema = json.loads(_json_schema_text(schema))  # each call its own copy
    record = CallRecord(
        task=row.name, kind="structured", user=user, charge=allowance.charge_for(row.name)
    )
    key = _cache_key(row, messages, json_schema) if temperature is None else None
    status, text = "error", ""
    try:
        obj, text = _structured_cached(record, row, key, schema) if key else (None, "")
        if obj is None:
            obj, text = _structured_live(
                record, row, messages, schema, json_schema, temperature=temperature
            )
        status = "ok"
        return obj
    except errors.LLMError as exc:
        record.error = f"{exc.__class__.__name__}: {exc.detail}"[:300]
        raise
    finally:
        _finish(record, status, text, cache_key=key, messages=messages)


@functools.lru_cache(maxsize=512)
def _json_schema_text(schema: type[BaseModel]) -> str:
    # pydantic builds a JSON schema in milliseconds, a tenth of an analysis batch.
    return json.dumps(schema.model_json_schema())


# -- streaming ---------------------------------------------------------------------------


def _start_stream(
    profile: str, messages: Messages, *, user: Any, variables: dict[str, Any] | None, kind: str
) -> StreamingReply:
    row = profile_get(profile)
    quota_check(user, task=row.name)
    messages = _with_system_prompt(row, messages, user, variables)
    record = CallRecord(task=row.name, kind=kind, user=user, charge=allowance.charge_for(row.name))
    cancel = threading.Event()
    key = _cache_key(row, messages)
    events = _stream_events(record, row, messages, cancel, key)
    finish = functools.partial(_finish, cache_key=key, messages=messages)
    return StreamingReply(events, record, cancel, finish)


def _stream_events(
    record: CallRecord,
    profile: TaskProfile,
    messages: Messages,
    cancel: threading.Event,
    key: str | None,
) -> Iterator[str]:
    hit = cache.cache_get(key) if key else None
    if hit is not None:
        record.provider, record.model = route(profile)[:2]
        record.cache_hit = True
        record.usage = Usage(hit["prompt_tokens"], hit["completion_tokens"])
        record.tokens_estimated = hit.get("tokens_estimated", False)
        record.first_token_at = time.perf_counter()
        yield hit["text"]
        return
    for target in _attempts(record, profile, cancel):
        request = _request(target, profile.name, messages, cancel)
        budget = _TokenBudget(target)
        emitted = False
        try:
            with contextlib.closing(target.provider.stream(request)) as items:
                for item in items:
                    if isinstance(item, Usage):
                        record.usage = item
                    elif item:
                        if budget.exceeded_by(item):
                            logger.info(
                                "%s: reply reached max_tokens=%d; stream closed",
                                profile.name,
                                budget.limit,
                            )
                            return  # closing the provider's stream ends the generation
                        if record.first_token_at is None:
                            record.first_token_at = time.perf_counter()
                        emitted = True
                        yield item
            return
        except errors.LLMError as exc:
            # Text already delivered cannot be taken back: only a silent failure retries.
            if emitted or not exc.retryable:
                raise
            record.last_error = exc
        except Exception as exc:
            raise errors.LLMError(detail=f"{exc.__class__.__name__}: {exc}") from exc
    if record.last_error is not None and not cancel.is_set():
        raise record.last_error


class _TokenBudget:
    """The profile's max_tokens, counted on the gateway's side as well: an endpoint may
    ignore the limit it is sent (llama.cpp's server ignores `max_completion_tokens`) and
    would otherwise hold its slot, and the learner's quota, for minutes. Deltas are
    counted with the model's tokenizer where the provider has it, else one per chunk
    (servers stream about a token per chunk)."""

    def __init__(self, target: _Target) -> None:
        self.limit = target.profile.max_tokens
        self.used = 0
        self._provider, self._model = target.provider, target.model
        self._exact = target.provider.counts_exactly(target.model)

    def exceeded_by(self, delta: str) -> bool:
        """Count `delta`; True when delivering it would go past the limit."""
        self.used += self._provider.count_text(self._model, delta) if self._exact else 1
        return bool(self.limit) and self.used > self.limit


# -- structured --------------------------------------------------------------------------


def _structured_cached(
    record: CallRecord, profile: TaskProfile, key: str, schema: type[SchemaT]
) -> tuple[SchemaT | None, str]:
    hit = cache.cache_get(key)
    if hit is None:
        return None, ""
    try:
        obj = schema.model_validate_json(hit["text"])
    except ValidationError:
        return None, ""  # the schema changed since; ask the model again
    record.provider, record.model = route(profile)[:2]
    record.cache_hit = True
    record.usage = Usage(hit["prompt_tokens"], hit["completion_tokens"])
    record.tokens_estimated = hit.get("tokens_estimated", False)
    return obj, hit["text"]


def _structured_live(
    record: CallRecord,
    profile: TaskProfile,
    messages: Messages,
    schema: type[SchemaT],
    json_schema: dict[str, Any],
    *,
    temperature: float | None = None,
) -> tuple[SchemaT, str]:
    call = functools.partial(_structured_call, temperature=temperature)
    text = call(record, profile, messages, json_schema, schema.__name__)
    try:
        return _validate(schema, text), text
    except ValidationError as first:
        logger.info("Structured output of %s failed validation; repairing", profile.name)
        repair = [
            *messages,
            {"role": "assistant", "content": text},
            {"role": "user", "content": _repair_instruction(first, json_schema)},
        ]
        text = call(record, profile, repair, json_schema, schema.__name__)
        try:
            return _validate(schema, text), text
        except ValidationError as second:
            raise errors.StructuredOutputError(
                detail=f"invalid after one repair: {_short_errors(second)}"
            ) from second


def _structured_call(
    record: CallRecord,
    profile: TaskProfile,
    messages: Messages,
    json_schema: dict[str, Any],
    schema_name: str,
    *,
    temperature: float | None = None,
) -> str:
    cancel = threading.Event()
    for target in _attempts(record, profile, cancel):
        request = _request(target, profile.name, messages, cancel, json_schema, schema_name)
        if temperature is not None:
            request.temperature = temperature
        try:
            result: ProviderResult = target.provider.structured(request)
        except errors.LLMError as exc:
            if not exc.retryable:
                raise
            record.last_error = exc
            continue
        except Exception as exc:
            raise errors.LLMError(detail=f"{exc.__class__.__name__}: {exc}") from exc
        _add_usage(record, result.usage)
        return result.text
    raise record.last_error or errors.ModelUnavailable()


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def _validate(schema: type[SchemaT], text: str) -> SchemaT:
    """Validate the model's JSON; a Markdown code fence around it is tolerated."""
    stripped = text.strip()
    match = _FENCE.match(stripped)
    return schema.model_validate_json(match.group(1) if match else stripped)


def _short_errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()[:8]
    )


def _repair_instruction(exc: ValidationError, json_schema: dict[str, Any]) -> str:
    return (
        "Your reply did not match the required JSON schema: "
        f"{_short_errors(exc)}.\nReply again with only the corrected JSON, matching this "
        f"schema exactly:\n{json.dumps(json_schema)}"
    )


# -- shared machinery --------------------------------------------------------------------


def _targets(profile: TaskProfile) -> Iterator[_Target]:
    """The profile, then its fallback chain (cycles and long chains cut)."""
    seen: set[int] = set()
    current: TaskProfile | None = profile
    while current is not None and current.pk not in seen and len(seen) <= MAX_FALLBACK_HOPS:
        seen.add(current.pk)
        target = route(current)
        yield _Target(current, target.provider, target.model, get_provider(target.provider), target)
        current = current.fallback


def _attempts(
    record: CallRecord, profile: TaskProfile, cancel: threading.Event
) -> Iterator[_Target]:
    """The target of each attempt: a profile's retries with backoff, then its fallback.
    The caller stores a retryable failure in `record.last_error` before asking again."""
    for index, target in enumerate(_targets(profile)):
        record.provider, record.model = target.provider_name, target.model
        record.fallback_used = index > 0
        if index:
            logger.warning("%s: falling back to profile %s", profile.name, target.profile.name)
        for attempt in range(target.profile.max_retries + 1):
            if attempt:
                record.retries += 1
                retry_after = record.last_error.retry_after if record.last_error else None
                delay = backoff_delay(
                    attempt - 1, target.profile.retry_backoff_seconds, retry_after
                )
                logger.info(
                    "%s: retry %d in %.2fs after %r",
                    profile.name,
                    attempt,
                    delay,
                    record.last_error,
                )
                if cancel.wait(delay):
                    return
            yield target


def backoff_delay(attempt: int, base: float = 0.0, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter (half fixed, half random), at least the provider's
    Retry-After, never more than LLM_RETRY_MAX_SECONDS."""
    base = base or settings.LLM_RETRY_BASE_SECONDS
    ceiling = base * 2**attempt
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after:
        delay = max(delay, retry_after)
    return min(delay, settings.LLM_RETRY_MAX_SECONDS)


def _request(
    target: _Target,
    task: str,
    messages: Messages,
    cancel: threading.Event,
    json_schema: dict[str, Any] | None = None,
    schema_name: str = "Result",
) -> ProviderRequest:
    profile = target.profile
    return ProviderRequest(
        task=task,
        model=target.model,
        messages=messages,
        temperature=profile.temperature,
        max_tokens=profile.max_tokens,
        timeout=profile.timeout_seconds,
        cancel=cancel,
        json_schema=json_schema,
        schema_name=schema_name,
        base_url=target.route.base_url,
        api_key=target.route.api_key,
    )


def _with_system_prompt(
    profile: TaskProfile, messages: Messages, user: Any, variables: dict[str, Any] | None
) -> Messages:
    messages = [{"role": m["role"], "content": m["content"]} for m in messages]
    if (messages and messages[0]["role"] == "system") or not profile.system_prompt_template:
        return messages
    values = {**learner_variables(user), **(variables or {})}
    return [
        {"role": "system", "content": render(profile.system_prompt_template, values)},
        *messages,
    ]


def _cache_key(
    profile: TaskProfile, messages: Messages, json_schema: dict[str, Any] | None = None
) -> str | None:
    if not profile.caches:
        return None
    provider, model, base_url, _key = route(profile)
    params = {"temperature": profile.temperature, "max_tokens": profile.max_tokens}
    if base_url:
        params["endpoint"] = base_url  # the same model name on two servers is two models
    return cache.cache_key(
        task=profile.name,
        provider=provider,
        model=model,
        params=params,
        messages=messages,
        schema=json_schema,
    )


def _add_usage(record: CallRecord, usage: Usage | None) -> None:
    if usage is None:
        return
    if record.usage is None:
        record.usage = usage
    else:
        record.usage = Usage(
            record.usage.prompt_tokens + usage.prompt_tokens,
            record.usage.completion_tokens + usage.completion_tokens,
        )


def _finish(
    record: CallRecord, status: str, text: str, *, cache_key: str | None, messages: Messages
) -> None:
    """Count tokens, fill the cache, write the LLMCall row. Runs once per call."""
    record.status = status
    _count_tokens(record, status, text, messages)
    if status == "ok" and cache_key and not record.cache_hit:
        cache.cache_put(
            cache_key,
            text=text,
            prompt_tokens=record.prompt_tokens,
            completion_tokens=record.completion_tokens,
            tokens_estimated=record.tokens_estimated,
        )
    try:
        llm_call_record(record=record)
    except Exception:
        # The learner's reply matters more than its accounting row; the failure is loud
        # in the logs and the reply still arrives.
        logger.exception("Could not record the %s call", record.task)
    _log(record)


def _count_tokens(record: CallRecord, status: str, text: str, messages: Messages) -> None:
    if record.usage is not None:
        record.prompt_tokens = record.usage.prompt_tokens
        record.completion_tokens = record.usage.completion_tokens
        return
    if not record.provider or (status == "error" and not text):
        return  # nothing was generated: nothing to charge
    # The endpoint sent no usage (llama.cpp's server never does in streams): count with
    # the model's tokenizer where the provider has it, and say when it is an estimate.
    provider = get_provider(record.provider)
    record.prompt_tokens = provider.count_messages(record.model, messages)
    record.completion_tokens = provider.count_text(record.model, text)
    record.tokens_estimated = not provider.counts_exactly(record.model)


def _log(record: CallRecord) -> None:
    level = logging.DEBUG if record.status == "ok" else logging.WARNING
    if logger.isEnabledFor(level):
        logger.log(
            level,
            "llm call task=%s provider=%s model=%s status=%s tokens=%d+%d latency_ms=%d "
            "ttft_ms=%s retries=%d fallback=%s cache_hit=%s error=%s",
            record.task,
            record.provider,
            record.model,
            record.status,
            record.prompt_tokens,
            record.completion_tokens,
            record.latency_ms(),
            record.ttft_ms(),
            record.retries,
            record.fallback_used,
            record.cache_hit,
            record.error or "-",
            # The same facts as fields of their own in structured (JSON) logs.
            extra={
                "llm_task": record.task,
                "llm_model": record.model,
                "llm_status": record.status,
                "duration_ms": record.latency_ms(),
                "prompt_tokens": record.prompt_tokens,
                "completion_tokens": record.completion_tokens,
                "tokens_estimated": record.tokens_estimated,
            },
        )
