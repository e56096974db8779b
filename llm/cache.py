"""Response cache for deterministic profiles, in Django's default cache.

The key covers everything that shapes the reply: profile, provider, model, sampling
settings, the exact messages and (for structured calls) the schema.
"""

import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.cache import cache

PREFIX = "llm:reply:"
_namespace = ""


def cache_namespace_reset(namespace: str) -> None:
    """Start a fresh key space in this process (tests: no reply leaks between tests)."""
    global _namespace
    _namespace = namespace


def cache_key(
    *,
    task: str,
    provider: str,
    model: str,
    params: dict[str, Any],
    messages: list[dict[str, str]],
    schema: dict[str, Any] | None = None,
) -> str:
    payload = json.dumps(
        [task, provider, model, params, messages, schema], sort_keys=True, ensure_ascii=False
    )
    return PREFIX + _namespace + hashlib.sha256(payload.encode()).hexdigest()


def cache_get(key: str) -> dict[str, Any] | None:
    return cache.get(key)


def cache_put(
    key: str, *, text: str, prompt_tokens: int, completion_tokens: int, tokens_estimated: bool
) -> None:
    value = {
        "text": text,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "tokens_estimated": tokens_estimated,
    }
    cache.set(key, value, timeout=settings.LLM_CACHE_SECONDS)
