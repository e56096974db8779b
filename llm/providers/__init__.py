"""The provider registry: name -> class, imported on first use."""

import threading

from django.conf import settings
from django.utils.module_loading import import_string

from llm.providers.base import Provider

PROVIDERS = {
    "local": "llm.providers.local.LocalProvider",
    "openai": "llm.providers.openai.OpenAIProvider",
    "scripted": "llm.providers.scripted.ScriptedProvider",
}

_instances: dict[str, Provider] = {}
_lock = threading.Lock()


def get_provider(name: str) -> Provider:
    provider = _instances.get(name)
    if provider is not None:
        return provider
    if name not in PROVIDERS:
        raise ValueError(f"Unknown model provider {name!r}; choose one of {sorted(PROVIDERS)}")
    with _lock:
        if name not in _instances:
            _instances[name] = import_string(PROVIDERS[name])()
        return _instances[name]


def resolve(profile_provider: str, profile_model: str) -> tuple[str, str]:
    """(provider, model) for a profile. Blank fields follow the deployment settings;
    LLM_PROVIDER=scripted (tests) takes over every profile."""
    default = settings.LLM_PROVIDER
    name = "scripted" if default == "scripted" else (profile_provider or default)
    model = profile_model if name != "scripted" or profile_provider == "scripted" else ""
    if not model and name == default:
        model = settings.LLM_MODEL
    return name, model or get_provider(name).default_model
