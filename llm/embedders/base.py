from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Embedded:
    """Raw vectors from a provider, and the tokens it says (or we estimate) it read."""

    vectors: np.ndarray
    tokens: int
    tokens_estimated: bool = False  # the provider said nothing: counted by a rule of thumb


class Embedder:
    name = "base"

    def model_name(self) -> str:
        raise NotImplementedError

    def dim(self) -> int:
        raise NotImplementedError

    def embed(self, texts: list[str], *, timeout: float) -> Embedded:
        raise NotImplementedError

    def warm(self) -> None:
        """Load whatever the first call would load (a remote provider has nothing to)."""
