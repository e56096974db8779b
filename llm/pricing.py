"""Cost of a call from the price table in settings (USD per million tokens)."""

from decimal import Decimal

from django.conf import settings

MILLION = Decimal(1_000_000)
SIX_PLACES = Decimal("0.000001")


def price_for(model: str) -> tuple[Decimal, Decimal]:
    """(prompt, completion) price per million tokens; a dated variant such as
    `gpt-4o-mini-2024-07-18` is priced like its base name; unknown models cost 0."""
    prices = settings.LLM_PRICES
    entry = prices.get(model)
    if entry is None:
        base = max((name for name in prices if model.startswith(name + "-")), key=len, default="")
        entry = prices.get(base, (0, 0))
    return Decimal(str(entry[0])), Decimal(str(entry[1]))


def call_cost(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    prompt_price, completion_price = price_for(model)
    cost = (prompt_tokens * prompt_price + completion_tokens * completion_price) / MILLION
    return cost.quantize(SIX_PLACES)
