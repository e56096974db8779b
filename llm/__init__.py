"""The one gateway to every model. See docs/llm-gateway.md.

    import llm
    for delta in llm.stream("chat", messages, user=user): ...
    vectors = llm.embed(["a text", "another"], user=user)

The functions live in llm.gateway, which needs the app registry; they are loaded on
first use so that importing this package while Django starts stays cheap and safe.
"""

from typing import TYPE_CHECKING, Any

from llm import errors
from llm.results import AsyncStreamingReply, Completion, StreamingReply

if TYPE_CHECKING:
    from llm.embeddings import embed, embedding_dim
    from llm.gateway import (
        astream,
        complete,
        count_tokens,
        get_profile,
        quota_check,
        stream,
        structured,
        system_prompt,
    )

_GATEWAY = {
    "astream",
    "complete",
    "count_tokens",
    "get_profile",
    "quota_check",
    "stream",
    "structured",
    "system_prompt",
}

_EMBEDDINGS = {"embed", "embedding_dim"}

__all__ = [
    "AsyncStreamingReply",
    "Completion",
    "StreamingReply",
    "astream",
    "complete",
    "count_tokens",
    "embed",
    "embedding_dim",
    "errors",
    "get_profile",
    "quota_check",
    "stream",
    "structured",
    "system_prompt",
]


def __getattr__(name: str) -> Any:
    if name in _GATEWAY:
        from llm import gateway

        value = getattr(gateway, name)
        globals()[name] = value
        return value
    if name in _EMBEDDINGS:
        from llm import embeddings

        value = getattr(embeddings, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'llm' has no attribute {name!r}")
