"""Any OpenAI-compatible `/v1/embeddings` endpoint, through the openai SDK's client."""

import threading

import numpy as np
from django.conf import settings

from llm.embedders.base import Embedded, Embedder
from llm.providers.openai import translate
from llm.tokens import estimate_tokens


def _endpoint() -> tuple[str, str, str]:
    return settings.EMBEDDINGS_BASE_URL, settings.EMBEDDINGS_API_KEY, settings.EMBEDDINGS_MODEL


class OpenAIEmbedder(Embedder):
    name = "openai"

    def __init__(self) -> None:
        # Keyed by endpoint: settings may point elsewhere later (tests, a reconfigured
        # deployment), and a client or a dimension belongs to one endpoint and model.
        self._clients: dict[tuple[str, str], object] = {}
        self._dims: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()

    def model_name(self) -> str:
        return settings.EMBEDDINGS_MODEL

    def dim(self) -> int:
        if settings.EMBEDDINGS_DIM:
            return settings.EMBEDDINGS_DIM
        if _endpoint() not in self._dims:
            self.embed(["dimension probe"], timeout=settings.EMBEDDINGS_TIMEOUT_SECONDS)
        return self._dims[_endpoint()]

    def _client(self, base_url: str, api_key: str):
        with self._lock:
            client = self._clients.get((base_url, api_key))
            if client is None:
                import openai

                client = openai.OpenAI(
                    base_url=base_url, api_key=api_key or "not-needed", max_retries=0
                )
                self._clients[(base_url, api_key)] = client
            return client

    def embed(self, texts: list[str], *, timeout: float) -> Embedded:
        base_url, api_key, model = _endpoint()
        try:
            response = (
                self._client(base_url, api_key)
                .with_options(timeout=timeout)
                .embeddings.create(model=model, input=texts)
            )
        except Exception as exc:
            raise translate(exc) from exc
        rows = sorted(response.data, key=lambda item: item.index)
        vectors = np.asarray([row.embedding for row in rows], dtype=np.float32)
        if len(rows):
            self._dims[(base_url, api_key, model)] = int(vectors.shape[1])
        tokens = getattr(getattr(response, "usage", None), "prompt_tokens", None)
        if tokens:
            return Embedded(vectors=vectors, tokens=tokens)
        estimate = sum(estimate_tokens(t) for t in texts)
        return Embedded(vectors=vectors, tokens=estimate, tokens_estimated=True)
