"""Embedding providers, imported on first use: name -> class, like the chat providers."""

from core.registry import Registry, instance
from llm.embedders.base import Embedder

EMBEDDERS: Registry[Embedder] = Registry(
    "embeddings provider",
    {
        "local": "llm.embedders.local.WordLlamaEmbedder",
        "openai": "llm.embedders.openai.OpenAIEmbedder",
    },
    make=instance,
)


def get_embedder(name: str) -> Embedder:
    return EMBEDDERS.get(name)
