"""Embedding providers, imported on first use: name -> class, like the chat providers."""

import threading

from django.utils.module_loading import import_string

from llm.embedders.base import Embedder

EMBEDDERS = {
    "local": "llm.embedders.local.WordLlamaEmbedder",
    "openai": "llm.embedders.openai.OpenAIEmbedder",
}

_instances: dict[str, Embedder] = {}
_lock = threading.Lock()


def get_embedder(name: str) -> Embedder:
    embedder = _instances.get(name)
    if embedder is not None:
        return embedder
    if name not in EMBEDDERS:
        raise ValueError(f"Unknown embeddings provider {name!r}; choose one of {sorted(EMBEDDERS)}")
    with _lock:
        if name not in _instances:
            _instances[name] = import_string(EMBEDDERS[name])()
        return _instances[name]
