"""The embedded default: wordllama's 256-d weights, shipped inside its wheel.

`WordLlama.load()` looks for its tokenizer in the wrong folder of the wheel and then asks
the hub over the network (which HF_HUB_OFFLINE does not stop); pointing `cache_dir` at the
package and disabling downloads loads the shipped files with no network at all.
"""

import threading
from pathlib import Path

import numpy as np

from llm.embedders.base import Embedded, Embedder

DIM = 256
# Texts padded to the longest of their batch, as wordllama's embed() batches them.
TOKENIZE_BATCH = 32


class WordLlamaEmbedder(Embedder):
    name = "local"

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def model_name(self) -> str:
        return f"wordllama-l2-supercat-{DIM}"

    def dim(self) -> int:
        return DIM

    def _loaded(self):
        with self._lock:
            if self._model is None:
                import wordllama

                self._model = wordllama.WordLlama.load(
                    cache_dir=Path(wordllama.__file__).parent,
                    disable_download=True,
                    dim=DIM,
                )
            return self._model

    def warm(self) -> None:
        self._loaded()

    def embed(self, texts: list[str], *, timeout: float) -> Embedded:
        """wordllama's own embed(), with the token count taken from the same tokenization
        (calling its tokenize() as well would tokenize everything twice, and count the
        padding of each batch as tokens)."""
        model = self._loaded()
        vectors = np.empty((len(texts), DIM), dtype=np.float32)
        tokens = 0
        for start in range(0, len(texts), TOKENIZE_BATCH):
            encoded = model.tokenize(texts[start : start + TOKENIZE_BATCH])
            ids = np.array([e.ids for e in encoded], dtype=np.int32)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
            np.clip(ids, 0, model.embedding.shape[0] - 1, out=ids)
            vectors[start : start + len(encoded)] = model.avg_pool(model.embedding[ids], mask)
            tokens += int(mask.sum())
        return Embedded(vectors=vectors, tokens=tokens)
