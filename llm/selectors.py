"""Reads: task profiles, today's token use, usage reports."""

import logging
from datetime import UTC, datetime, time, timedelta
from time import monotonic
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from llm.allowance import CHAT, Charge
from llm.defaults import PROFILES, seed_profiles
from llm.errors import ProfileNotFound
from llm.models import LLMCall, TaskProfile

logger = logging.getLogger(__name__)


_profiles: dict[str, tuple[float, TaskProfile]] = {}
# What a call reads of a profile besides its own row: one query per call, cached.
PROFILE_RELATED = ("endpoint", "fallback", "fallback__endpoint")


def profile_get(name: str) -> TaskProfile:
    """The task profile, from a per-process cache of LLM_PROFILE_CACHE_SECONDS: profiles
    change rarely and every model call reads one. Saving one in this process clears the
    cache at once; other processes see an edit within the TTL."""
    ttl = settings.LLM_PROFILE_CACHE_SECONDS
    if ttl > 0:
        cached = _profiles.get(name)
        if cached is not None and monotonic() - cached[0] < ttl:
            return cached[1]
    profile = _profile_fetch(name)
    if ttl > 0:
        _profiles[name] = (monotonic(), profile)
    return profile


def profile_cache_clear(**_signal_kwargs: Any) -> None:
    _profiles.clear()


def _profile_fetch(name: str) -> TaskProfile:
    try:
        return TaskProfile.objects.select_related(*PROFILE_RELATED).get(name=name)
    except TaskProfile.DoesNotExist:
        if name not in PROFILES:
            raise ProfileNotFound(detail=f"no task profile named {name!r}") from None
    logger.warning("Task profile %s was missing; re-created from its seed", name)
    seed_profiles(TaskProfile, [name])
    return TaskProfile.objects.select_related(*PROFILE_RELATED).get(name=name)


def day_start(now: datetime | None = None) -> datetime:
    """Midnight UTC of today: quotas renew then."""
    now = now or timezone.now()
    return datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)


def tokens_used_today(user: Any, *, charge: Charge | None = None) -> int:
    """Tokens the user spent since midnight UTC from one allowance (`charge`; the chat
    allowance by default). Cache hits are free, and so are embeddings: they are
    accounted, but the allowance is for what the models write (a 1 MB document embeds as
    ~250,000 tokens and would end the learner's chat for the day; the document size limit
    bounds them instead).

    One aggregate over the (user, created_at) index, in plain SQL: it runs before every
    model call and the ORM's query compilation cost more than the query itself.
    """
    charge = charge or Charge()
    since = connection.ops.adapt_datetimefield_value(day_start())
    params = [user.pk, since, False, "embed", charge.allowance]
    sql = _QUOTA_SQL
    if charge.allowance != CHAT:
        # Each integration's work for the learner has its own allowance, and so has the
        # rest of her background work.
        if charge.integration_id is None:
            sql += " AND integration IS NULL"
        else:
            sql += " AND integration = %s"
            params.append(charge.integration_id)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=LLMCall._meta.db_table), params)
        return int(cursor.fetchone()[0])


_QUOTA_SQL = (
    "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM {table} "
    "WHERE user_id = %s AND created_at >= %s AND cache_hit = %s AND kind <> %s "
    "AND allowance = %s"
)


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
