"""Any OpenAI-compatible endpoint (OpenAI, Groq, vLLM, a llama.cpp server, Ollama) through
langchain-openai's ChatOpenAI.

ChatOpenAI's own retries are off (max_retries=0): the gateway owns retry policy. SDK
exceptions become `llm.errors` types here; Retry-After travels on the error.

Streaming reads the openai SDK client that ChatOpenAI built and configured (base URL,
key, timeout, no retries) directly, with the request ChatOpenAI itself would send: see
`_direct_stream_params`. Completion and structured output stay on ChatOpenAI.
"""

import email.utils
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from llm import errors
from llm.providers.base import Provider
from llm.providers.local import chatml, smollm2_tokenizer
from llm.results import ProviderRequest, ProviderResult, Usage
from llm.tokens import TOKENS_PER_MESSAGE, TOKENS_REPLY_PRIMER, estimate_tokens, tiktoken_encoding

# Structured output methods, best first; an endpoint that rejects one gets the next and
# the choice is remembered per endpoint and model.
METHODS = ("json_schema", "function_calling", "json_mode")
CLIENT_CACHE_SIZE = 64
OPENAI_MODEL = "gpt-4o-mini"
# Listing an endpoint's models (start-up, /health) must answer well inside a probe's
# deadline.
MODELS_TIMEOUT_SECONDS = 2.0
STREAM_OPTIONS = {"include_usage": True}
# One message of each role the gateway sends: ChatOpenAI's request for it shows whether
# it would pass our messages through unchanged (see _direct_stream_params).
PROBE_MESSAGES = [
    {"role": "system", "content": "s"},
    {"role": "user", "content": "u"},
    {"role": "assistant", "content": "a"},
]

logger = logging.getLogger("llm")


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    if value := headers.get("retry-after-ms"):
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _transport_errors() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(timeouts, other transport failures) of the HTTP libraries the SDK may use; the
    openai SDK wraps them, except while a stream is being read."""
    timeouts: list[type] = []
    transport: list[type] = []
    for name in ("httpx", "httpx2"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transport.append(module.TransportError)
    return tuple(timeouts), tuple(transport)


def translate(exc: Exception) -> errors.LLMError:
    """An SDK or transport exception as the gateway's typed error."""
    import openai

    timeouts, transport = _transport_errors()
    detail = f"{exc.__class__.__name__}: {exc}"[:300]
    if isinstance(exc, openai.RateLimitError):
        return errors.ModelRateLimited(
            detail=detail, retry_after=_retry_after(exc.response), upstream_status=429
        )
    if isinstance(exc, (openai.APITimeoutError, *timeouts)):
        return errors.ModelTimeout(detail=detail)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500 or status in (408, 409):
            return errors.ModelUnavailable(
                detail=detail, retry_after=_retry_after(exc.response), upstream_status=status
            )
        if status in (401, 403, 404):
            # A wrong key, or a base URL or model the endpoint does not have.
            return errors.ModelMisconfigured(detail=detail, upstream_status=status)
        return errors.InvalidModelRequest(detail=detail, upstream_status=status)
    if isinstance(exc, (openai.APIConnectionError, *transport)):
        return errors.ModelUnavailable(detail=detail)
    if isinstance(exc, openai.APIResponseValidationError | ValueError):
        # A garbled body (malformed JSON) from an endpoint that answered 200.
        return errors.ModelUnavailable(detail=detail)
    return errors.LLMError(detail=detail)


def is_openai(base_url: str) -> bool:
    """Whether the endpoint is OpenAI's own (or Azure's), which takes OpenAI's newest
    parameters; every other OpenAI-compatible server is spoken to in the classic dialect."""
    host = (urlsplit(base_url).hostname or "").lower()
    return host == "api.openai.com" or host.endswith(".openai.azure.com")


def _refused(exc: errors.LLMError) -> bool:
    """Whether an endpoint answered a structured-output method with a refusal of that
    method. Servers say so with any status (llama.cpp's answers json_schema with a 500);
    a rate limit, a wrong key or a missing model is about the endpoint, not the method."""
    status = exc.upstream_status
    return status is not None and status != 429 and not isinstance(exc, errors.ModelMisconfigured)


# Process-level knowledge of endpoints: the models each serves, and per endpoint and
# model the structured-output method that works there.
_models_lock = threading.Lock()
_served: dict[tuple[str, str], tuple[str, ...]] = {}
_methods: dict[tuple[str, str], str] = {}


def endpoint_cache_clear() -> None:
    """Forget what was learnt about endpoints (tests; a server swapped under us)."""
    with _models_lock:
        _served.clear()
    _methods.clear()


def endpoint_models(base_url: str, api_key: str, *, timeout: float = MODELS_TIMEOUT_SECONDS):
    """The model ids `GET {base_url}/models` lists, as a tuple; `llm.errors` types when the
    endpoint is unreachable, refuses the key, or has no such path."""
    import openai

    client = openai.OpenAI(
        base_url=base_url, api_key=api_key or "no-key", timeout=timeout, max_retries=0
    )
    try:
        page = client.models.list()
        return tuple(model.id for model in page.data)
    except Exception as exc:
        raise translate(exc) from exc
    finally:
        client.close()


def endpoint_model(base_url: str, api_key: str) -> str:
    """The model to use when LLM_MODEL is unset: OpenAI's default on OpenAI, otherwise the
    one model the endpoint serves. Remembered per endpoint for the life of the process."""
    if is_openai(base_url):
        return OPENAI_MODEL
    key = (base_url, api_key)
    with _models_lock:
        served = _served.get(key)
        if served is None:
            served = endpoint_models(base_url, api_key)
            if len(served) == 1:
                _served[key] = served
    if len(served) != 1:
        listed = ", ".join(served[:10]) or "none"
        raise errors.ModelMisconfigured(
            detail=f"LLM_MODEL is not set and {base_url} serves {len(served)} models "
            f"({listed}): set LLM_MODEL to the one to use"
        )
    return served[0]


@dataclass(frozen=True)
class _Client:
    """A ChatOpenAI and, where streaming may bypass LangChain, the rest of its streamed
    request (everything but the messages); None streams through ChatOpenAI.stream."""

    chat: Any
    stream_params: dict[str, Any] | None


class OpenAIProvider(Provider):
    name = "openai"

    @property
    def default_model(self) -> str:  # type: ignore[override]
        return endpoint_model(settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY)

    def __init__(self) -> None:
        self._clients: OrderedDict[tuple, _Client] = OrderedDict()
        self._runnables: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    # -- clients -----------------------------------------------------------------------

    def _client(self, request: ProviderRequest) -> _Client:
        key = (
            *_connection(request),
            request.model,
            request.temperature,
            request.max_tokens,
            request.timeout,
        )
        # Built under the lock: a ChatOpenAI takes ~60 ms to construct, and concurrent
        # first calls (a burst at startup) would otherwise each build their own.
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
            client = self._build(request)
            self._clients[key] = client
            while len(self._clients) > CLIENT_CACHE_SIZE:
                self._clients.popitem(last=False)
        return client

    def _chat(self, request: ProviderRequest) -> Any:
        return self._client(request).chat

    @staticmethod
    def _build(request: ProviderRequest) -> _Client:
        from langchain_openai import ChatOpenAI

        base_url, api_key = _connection(request)
        chat = ChatOpenAI(
            model=request.model,
            base_url=base_url,
            # Local servers (Ollama, llama.cpp) take no key, but the SDK insists on one.
            api_key=api_key or "no-key",
            temperature=request.temperature,
            timeout=request.timeout,
            max_retries=0,
            stream_usage=True,
            **_length_limit(base_url, request.max_tokens),
        )
        return _Client(chat, _direct_stream_params(chat))

    # -- streaming ---------------------------------------------------------------------

    def stream(self, request: ProviderRequest) -> Iterator[str | Usage]:
        client = self._client(request)
        if client.stream_params is None:
            return self._stream_langchain(client.chat, request)
        return self._stream_direct(client, request)

    def _stream_direct(self, client: _Client, request: ProviderRequest) -> Iterator[str | Usage]:
        """The stream read straight from the SDK client that ChatOpenAI owns.

        ChatOpenAI.stream turns every chunk into a dict (model_dump), an AIMessageChunk
        and a ChatGenerationChunk, and runs its callback machinery per chunk: measured
        with bench/llm_gateway.py, +1.8 ms per 15-token reply at p50 over the bare client.
        The SDK's own `chat.completions.create` then walks the whole request through its
        type annotations (for aliases and file encodings, which plain text messages do
        not have) and builds a pydantic model per chunk. Posting the request as ChatOpenAI
        would send it and reading chunks as dicts cut the client's CPU per 14-token reply
        with a 20-message context from 5.6 to 1.4 ms. Errors are the SDK's own,
        translated as before.
        """
        from openai import Stream
        from openai.types.chat import ChatCompletion

        try:
            chunks = client.chat.root_client.post(
                "/chat/completions",
                body={**client.stream_params, "messages": request.messages},
                cast_to=ChatCompletion,
                stream=True,
                stream_cls=Stream[dict[str, Any]],
            )
        except Exception as exc:
            raise translate(exc) from exc
        yield from _relay(chunks, request, _read_sdk_chunk)

    def _stream_langchain(self, chat: Any, request: ProviderRequest) -> Iterator[str | Usage]:
        """Through ChatOpenAI.stream, for models whose request LangChain rewrites."""
        yield from _relay(chat.stream(request.messages), request, _read_langchain_chunk)

    # -- structured --------------------------------------------------------------------

    def structured(self, request: ProviderRequest) -> ProviderResult:
        """The first method of METHODS the endpoint accepts. Once one has worked for this
        endpoint and model, calls go straight to it, and its failures are the endpoint's
        (retried by the gateway) unless it is refused outright with a 4xx."""
        endpoint = (_connection(request)[0], request.model)
        known = _methods.get(endpoint)
        if known is not None:
            try:
                return self._structured_with(known, request)
            except errors.InvalidModelRequest:
                _methods.pop(endpoint, None)  # the endpoint changed its mind: look again
        return self._structured_discover(endpoint, request, tried=known)

    def _structured_discover(
        self, endpoint: tuple[str, str], request: ProviderRequest, tried: str | None
    ) -> ProviderResult:
        refusal: errors.LLMError | None = None
        for method in (m for m in METHODS if m != tried):
            try:
                result = self._structured_with(method, request)
            except errors.LLMError as exc:
                if not _refused(exc):
                    raise  # a timeout or an unreachable endpoint says nothing of `method`
                logger.info("%s refused structured output by %s: %s", endpoint, method, exc.detail)
                refusal = exc
                continue
            _methods[endpoint] = method
            if method != METHODS[0]:
                logger.info("%s: structured output by %s from now on", endpoint, method)
            return result
        if refusal is None:
            raise errors.InvalidModelRequest(detail="no structured-output method left to try")
        raise refusal  # every method failed: retryable if the last was a 5xx

    def _structured_with(self, method: str, request: ProviderRequest) -> ProviderResult:
        schema = {**(request.json_schema or {}), "title": request.schema_name}
        messages = request.messages
        if method == "json_mode":
            # JSON mode only promises JSON; the schema has to travel in the prompt.
            messages = [
                *messages,
                {
                    "role": "user",
                    "content": "Answer with JSON only, following this JSON "
                    f"schema:\n{json.dumps(schema)}",
                },
            ]
        runnable = self._runnable(request, method, schema)
        try:
            output = runnable.invoke(messages)
        except Exception as exc:
            raise translate(exc) from exc
        raw = output["raw"]
        meta = raw.usage_metadata or {}
        usage = Usage(meta.get("input_tokens", 0), meta.get("output_tokens", 0)) if meta else None
        return ProviderResult(text=_raw_json(raw, method), usage=usage)

    def _runnable(self, request: ProviderRequest, method: str, schema: dict[str, Any]) -> Any:
        chat = self._chat(request)
        key = (id(chat), method, json.dumps(schema, sort_keys=True))
        # Built under the lock, like the clients: one per key even under a burst.
        with self._lock:
            runnable = self._runnables.get(key)
            if runnable is None:
                runnable = chat.with_structured_output(schema, method=method, include_raw=True)
                self._runnables[key] = runnable
                while len(self._runnables) > CLIENT_CACHE_SIZE:
                    self._runnables.popitem(last=False)
        return runnable

    # -- tokens ------------------------------------------------------------------------

    def counts_exactly(self, model: str) -> bool:
        return smollm2_tokenizer(model) is not None or tiktoken_encoding(model) is not None

    def count_text(self, model: str, text: str) -> int:
        if not text:
            return 0
        vocab = smollm2_tokenizer(model)
        if vocab is not None:
            return len(vocab.tokenize(text.encode(), add_bos=False, special=False))
        encoding = tiktoken_encoding(model)
        if encoding is None:
            return estimate_tokens(text)
        return len(encoding.encode(text, disallowed_special=()))

    def count_messages(self, model: str, messages: list[dict[str, str]]) -> int:
        vocab = smollm2_tokenizer(model)
        if vocab is not None:
            return len(vocab.tokenize(chatml(messages).encode(), add_bos=False, special=True))
        per_message = sum(self.count_text(model, m.get("content") or "") for m in messages)
        return per_message + TOKENS_PER_MESSAGE * len(messages) + TOKENS_REPLY_PRIMER


def _connection(request: ProviderRequest) -> tuple[str, str]:
    """(base URL, key) of the request's endpoint: one connected in the admin, else the
    deployment's."""
    if request.base_url:
        return request.base_url, request.api_key
    return settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY


def structured_method(base_url: str, model: str) -> str | None:
    """The structured-output method that worked for this endpoint and model, if any."""
    return _methods.get((base_url, model))


def _length_limit(base_url: str, max_tokens: int) -> dict[str, Any]:
    """ChatOpenAI's arguments for the reply's length limit. ChatOpenAI sends its
    max_tokens as `max_completion_tokens`, which only OpenAI reads: llama.cpp's server
    drops it and generated 1,036 tokens against a limit of 5. Others get `max_tokens`."""
    if is_openai(base_url):
        return {"max_tokens": max_tokens}
    return {"extra_body": {"max_tokens": max_tokens}}


def _direct_stream_params(chat: Any) -> dict[str, Any] | None:
    """The streamed chat-completions request ChatOpenAI would send, less its messages, or
    None where it would not send the gateway's messages unchanged to chat completions
    (Responses-API models, o-series models whose system role becomes `developer`).

    Asked of ChatOpenAI once per client, so the request keeps its parameter handling
    (max_completion_tokens, temperature dropped where a model refuses it, model_kwargs).
    """
    if chat.client is None:
        return None
    try:
        payload = chat._get_request_payload(
            PROBE_MESSAGES, stream=True, stream_options=STREAM_OPTIONS
        )
    except Exception:
        # A langchain-openai that changed its internals: correct, only slower.
        logger.warning("ChatOpenAI request unknown; streaming through LangChain", exc_info=True)
        return None
    messages = payload.pop("messages", None)
    if messages != PROBE_MESSAGES or "response_format" in payload:
        return None
    # The SDK merges these into the request; posted directly they would be sent as is.
    payload |= payload.pop("extra_body", None) or {}
    if payload.keys() & {"extra_headers", "extra_query", "timeout"}:
        return None
    return payload


def _relay(
    chunks: Any, request: ProviderRequest, read: Callable[[Any], tuple[Usage | None, str]]
) -> Iterator[str | Usage]:
    """The text of each chunk as it comes, then the last usage reported. Stops when the
    request is cancelled; the provider's errors become the gateway's."""
    usage = None
    try:
        for chunk in chunks:
            counts, text = read(chunk)
            usage = counts or usage
            if text:
                yield text
            if request.cancel.is_set():
                return
    except errors.LLMError:
        raise
    except Exception as exc:
        raise translate(exc) from exc
    finally:
        chunks.close()  # cancellation closes the HTTP response at once
    if usage is not None:
        yield usage


def _read_sdk_chunk(chunk: dict[str, Any]) -> tuple[Usage | None, str]:
    counts = chunk.get("usage")
    usage = (
        Usage(counts.get("prompt_tokens") or 0, counts.get("completion_tokens") or 0)
        if counts
        else None
    )
    choices = chunk.get("choices")
    delta = (choices[0].get("delta") or {}) if choices else {}
    return usage, delta.get("content") or ""


def _read_langchain_chunk(chunk: Any) -> tuple[Usage | None, str]:
    meta = chunk.usage_metadata
    usage = Usage(meta["input_tokens"], meta["output_tokens"]) if meta else None
    if not chunk.content:
        return usage, ""
    return usage, chunk.content if isinstance(chunk.content, str) else chunk.text


def _raw_json(raw: Any, method: str) -> str:
    """The model's JSON as text, unparsed: validation belongs to the gateway."""
    if method == "function_calling":
        if raw.tool_calls:
            return json.dumps(raw.tool_calls[0]["args"])
        if raw.invalid_tool_calls:
            return raw.invalid_tool_calls[0].get("args") or ""
    content = raw.content
    return content if isinstance(content, str) else json.dumps(content)
