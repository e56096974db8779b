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

    def embed(self, texts: list[str], *, timeout: float) -> Embedded:
        model = self._loaded()
        vectors = np.asarray(model.embed(texts, norm=False), dtype=np.float32)
        tokens = sum(len(ids) for ids in model.tokenize(texts)) if texts else 0
        return Embedded(vectors=vectors.reshape(len(texts), DIM), tokens=tokens)
