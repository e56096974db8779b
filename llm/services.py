"""Writes: the one accounting row per model call."""

from llm.models import LLMCall
from llm.pricing import call_cost
from llm.results import CallRecord


def llm_call_record(*, record: CallRecord) -> LLMCall:
    """Write the call's LLMCall row (one INSERT). Cache hits cost nothing."""
    cost = (
        0
        if record.cache_hit
        else call_cost(record.model, record.prompt_tokens, record.completion_tokens)
    )
    user = record.user if getattr(record.user, "pk", None) else None
    call = LLMCall.objects.create(
        user=user,
        task=record.task,
        kind=record.kind,
        provider=record.provider,
        model=record.model,
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        latency_ms=record.latency_ms(),
        ttft_ms=record.ttft_ms(),
        cost_usd=cost,
        cache_hit=record.cache_hit,
        retries=record.retries,
        fallback_used=record.fallback_used,
        status=record.status,
        error=record.error[:300],
    )
    record.call_id = call.pk
    return call
