"""The one gateway to every model. See docs/llm-gateway.md.

    import llm
    for delta in llm.stream("chat", messages, user=user): ...
    vectors = llm.embed(["a text", "another"], user=user)

The functions live in llm.gateway, which needs the app registry; they are loaded on
first use so that importing this package while Django starts stays cheap and safe.
"""

from importlib import import_module
from typing import Any

from llm import errors
from llm.results import AsyncStreamingReply, Completion, StreamingReply

# The gateway's functions, by the module that defines them. Those modules need the app
# registry, so each is imported on first use (importing `llm` while Django starts stays
# cheap and safe).
_LAZY = {
    "astream": "llm.gateway",
    "complete": "llm.gateway",
    "count_tokens": "llm.gateway",
    "get_profile": "llm.gateway",
    "model_info": "llm.gateway",
    "quota_check": "llm.gateway",
    "stream": "llm.gateway",
    "structured": "llm.gateway",
    "system_prompt": "llm.gateway",
    "embed": "llm.embeddings",
    "embedding_dim": "llm.embeddings",
}

__all__ = ["AsyncStreamingReply", "Completion", "StreamingReply", "errors", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'llm' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
