"""`llm.embed`: every embedding in the product, with the same accounting as chat calls.

The provider comes from settings (EMBEDDINGS_PROVIDER): the embedded default needs no
network, key or GPU; `openai` talks to any OpenAI-compatible /v1/embeddings endpoint.
Vectors come back L2-normalised, so a dot product is the cosine similarity.
"""

import numpy as np
from django.conf import settings

from llm import errors
from llm.embedders import get_embedder
from llm.results import CallRecord
from llm.services import llm_call_record


def embed(texts: list[str], *, user=None, purpose: str = "embedding") -> np.ndarray:
    """Embed `texts` as float32 rows of unit length (zero rows for empty texts)."""
    embedder = get_embedder(settings.EMBEDDINGS_PROVIDER)
    if not texts:
        return np.zeros((0, embedder.dim()), dtype=np.float32)
    record = CallRecord(
        task=purpose[:40],
        kind="embed",
        user=user,
        provider=embedder.name,
        model=embedder.model_name(),
    )
    try:
        chunks = [
            _embed_chunk(embedder, texts[i : i + settings.EMBEDDINGS_BATCH_SIZE], record)
            for i in range(0, len(texts), settings.EMBEDDINGS_BATCH_SIZE)
        ]
    except errors.LLMError as exc:
        record.status, record.error = "error", exc.detail or exc.user_message
        llm_call_record(record=record)
        raise
    llm_call_record(record=record)
    return _normalised(np.concatenate(chunks))


def warm() -> None:
    """Load the configured embedder's model now rather than on the first search."""
    get_embedder(settings.EMBEDDINGS_PROVIDER).warm()


def embedding_dim() -> int:
    return get_embedder(settings.EMBEDDINGS_PROVIDER).dim()


def _embed_chunk(embedder, texts: list[str], record: CallRecord) -> np.ndarray:
    result = embedder.embed(texts, timeout=settings.EMBEDDINGS_TIMEOUT_SECONDS)
    if result.vectors.shape[0] != len(texts):
        raise errors.ModelUnavailable(
            detail=f"{len(texts)} texts sent, {result.vectors.shape[0]} vectors received"
        )
    record.prompt_tokens += result.tokens
    record.tokens_estimated |= result.tokens_estimated
    return result.vectors


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = vectors.astype(np.float32, copy=False)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
