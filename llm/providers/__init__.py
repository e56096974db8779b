"""The provider registry: name -> class, imported on first use."""

from typing import Any, NamedTuple

from django.conf import settings

from core.registry import Registry, instance
from llm.errors import ModelMisconfigured
from llm.keys import KeyUnreadable
from llm.providers.base import Provider

PROVIDERS: Registry[Provider] = Registry(
    "model provider",
    {
        "local": "llm.providers.local.LocalProvider",
        "openai": "llm.providers.openai.OpenAIProvider",
        "scripted": "llm.providers.scripted.ScriptedProvider",
    },
    make=instance,
)


def get_provider(name: str) -> Provider:
    return PROVIDERS.get(name)


def resolve(profile_provider: str, profile_model: str) -> tuple[str, str]:
    """(provider, model) for a profile. Blank fields follow the deployment settings;
    LLM_PROVIDER=scripted (tests) takes over every profile."""
    default = settings.LLM_PROVIDER
    name = _provider_name(profile_provider)
    model = profile_model if name != "scripted" or profile_provider == "scripted" else ""
    if not model and name == default:
        model = settings.LLM_MODEL
    return name, model or get_provider(name).default_model


class Route(NamedTuple):
    """Where a profile's calls go: a provider, a model and, for an endpoint connected in
    the admin, its base URL and key (empty: the deployment's OPENAI_* settings)."""

    provider: str
    model: str
    base_url: str = ""
    api_key: str = ""


def route(profile: Any) -> Route:
    """The route of a task profile. An endpoint named on the profile takes precedence
    over its provider and model, except under LLM_PROVIDER=scripted (tests)."""
    endpoint = _endpoint(profile)
    if endpoint is None:
        return Route(*resolve(profile.provider, profile.model))
    try:
        key = endpoint.api_key()
    except KeyUnreadable as exc:
        raise ModelMisconfigured(detail=f"endpoint {endpoint.name}: {exc}") from exc
    return Route("openai", endpoint.model_name(), endpoint.base_url, key)


def provider_of(profile: Any) -> str:
    """The provider of a profile's calls, without asking an endpoint anything."""
    return "openai" if _endpoint(profile) is not None else _provider_name(profile.provider)


def _provider_name(profile_provider: str) -> str:
    default = settings.LLM_PROVIDER
    return "scripted" if default == "scripted" else (profile_provider or default)


def _endpoint(profile: Any) -> Any:
    if not profile.endpoint_id or settings.LLM_PROVIDER == "scripted":
        return None
    return profile.endpoint
