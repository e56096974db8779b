"""Limits on signing in: per client address (a DRF throttle), and per account (failed
attempts from any address), for the JWT endpoint and the log-in page alike."""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle


class SignInRateThrottle(SimpleRateThrottle):
    """Attempts to sign in per client address, for the JWT endpoint and the log-in page."""

    scope = "sign_in"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _keys(username: str) -> tuple[str, str]:
    # Hashed: a username may hold characters or a length a cache key may not.
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
    return f"sign-in-failures:{digest}", f"sign-in-window:{digest}"


def account_wait_seconds(username: str) -> int:
    """0 while the account may try to sign in, else the seconds until it may again."""
    if not username:
        return 0
    count_key, window_key = _keys(username)
    failures = cache.get(count_key, 0)
    if failures < settings.SIGN_IN_ACCOUNT_FAILURES:
        return 0
    ends = cache.get(window_key)
    return max(1, int((ends or time.time()) - time.time()) + 1)


def account_failure(username: str) -> None:
    """Count a failed sign-in; the window starts at the first failure."""
    if not username:
        return
    count_key, window_key = _keys(username)
    window = settings.SIGN_IN_ACCOUNT_WINDOW_SECONDS
    cache.add(window_key, time.time() + window, timeout=window)
    cache.add(count_key, 0, timeout=window)
    try:
        cache.incr(count_key)
    except ValueError:  # expired between the add and the increment
        cache.set(count_key, 1, timeout=window)


def account_success(username: str) -> None:
    cache.delete_many(list(_keys(username)))


def account_message(wait: int) -> str:
    return f"Too many failed sign-ins for this account. Wait {wait} seconds, then try again."
