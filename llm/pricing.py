"""Cost of a call from the price table in settings (USD per million tokens)."""

import logging
from decimal import Decimal

from django.conf import settings

logger = logging.getLogger("llm")

MILLION = Decimal(1_000_000)
SIX_PLACES = Decimal("0.000001")
_unpriced_seen: set[str] = set()


def _entry(model: str) -> tuple[float, float] | None:
    """The table's entry; a dated variant such as `gpt-4o-mini-2024-07-18` is priced
    like its base name."""
    prices = settings.LLM_PRICES
    entry = prices.get(model)
    if entry is None:
        base = max((name for name in prices if model.startswith(name + "-")), key=len, default="")
        entry = prices.get(base)
    return None if entry is None else (entry[0], entry[1])


def is_priced(model: str) -> bool:
    return _entry(model) is not None


def price_for(model: str) -> tuple[Decimal, Decimal]:
    """(prompt, completion) price per million tokens. A model missing from LLM_PRICES
    costs 0, and the log says so once per process and model: a guessed price (another
    model's) would be worse than none."""
    entry = _entry(model)
    if entry is None:
        if model not in _unpriced_seen:
            _unpriced_seen.add(model)
            logger.warning(
                "Model %r has no price in LLM_PRICES: its calls are recorded at cost 0", model
            )
        return Decimal(0), Decimal(0)
    return Decimal(str(entry[0])), Decimal(str(entry[1]))


def call_cost(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    prompt_price, completion_price = price_for(model)
    cost = (prompt_tokens * prompt_price + completion_tokens * completion_price) / MILLION
    return cost.quantize(SIX_PLACES)
