"""What every provider implements. SDKs are imported inside the provider modules only."""

from collections.abc import Iterator

from llm.results import ProviderRequest, ProviderResult, Usage
from llm.tokens import estimate_messages, estimate_tokens


class Provider:
    """A model backend.

    `stream` yields text deltas and, optionally, one final `Usage`. Failures are raised as
    `llm.errors` types (retryable or not); the gateway owns retries, fallback, caching
    and accounting. Providers watch `request.cancel` between chunks.
    """

    name = ""
    default_model = ""

    def stream(self, request: ProviderRequest) -> Iterator[str | Usage]:
        raise NotImplementedError

    def structured(self, request: ProviderRequest) -> ProviderResult:
        """JSON text for `request.json_schema` (validated by the gateway)."""
        raise NotImplementedError

    def counts_exactly(self, model: str) -> bool:
        """Whether count_* use `model`'s own tokenizer (otherwise they estimate)."""
        return False

    def count_messages(self, model: str, messages: list[dict[str, str]]) -> int:
        return estimate_messages(messages)

    def count_text(self, model: str, text: str) -> int:
        return estimate_tokens(text)
