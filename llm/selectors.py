"""Reads: task profiles, today's token use, usage reports."""

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from llm.defaults import PROFILES, seed_profiles
from llm.errors import ProfileNotFound
from llm.models import LLMCall, TaskProfile

logger = logging.getLogger(__name__)


def profile_get(name: str) -> TaskProfile:
    try:
        return TaskProfile.objects.select_related("fallback").get(name=name)
    except TaskProfile.DoesNotExist:
        if name not in PROFILES:
            raise ProfileNotFound(detail=f"no task profile named {name!r}") from None
    logger.warning("Task profile %s was missing; re-created from its seed", name)
    seed_profiles(TaskProfile, [name])
    return TaskProfile.objects.select_related("fallback").get(name=name)


def day_start(now: datetime | None = None) -> datetime:
    """Midnight UTC of today: quotas renew then."""
    now = now or timezone.now()
    return datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)


def tokens_used_today(user: Any) -> int:
    """Tokens the user spent since midnight UTC; cache hits are free. One aggregate
    query over the (user, created_at) index."""
    total = LLMCall.objects.filter(
        user=user, created_at__gte=day_start(), cache_hit=False
    ).aggregate(total=Sum(F("prompt_tokens") + F("completion_tokens")))["total"]
    return total or 0


USAGE_GROUPS = {
    "user": ("user__username",),
    "task": ("task",),
    "model": ("provider", "model"),
    "day": ("day",),
}


def usage_report(*, group: str, days: int = 30) -> QuerySet:
    """Calls, tokens, cost, errors and cache hits per user, task, model or day."""
    since = day_start() - timedelta(days=days - 1)
    calls = LLMCall.objects.filter(created_at__gte=since).annotate(day=TruncDate("created_at"))
    keys = USAGE_GROUPS[group]
    return (
        calls.values(*keys)
        .annotate(
            calls=Count("id"),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            cost=Sum("cost_usd"),
            errors=Count("id", filter=~Q(status="ok")),
            cache_hits=Count("id", filter=Q(cache_hit=True)),
        )
        .order_by(*(["-day"] if group == "day" else ["-prompt_tokens"]))
    )
