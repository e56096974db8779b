"""Checks behind /health: each returns (ok, detail) and never raises.

The database, the channel layer and the worker are checked here; an app adds its own
component with `register` from its AppConfig.ready() (llm adds the model provider), so
ops never imports the apps it reports on.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.utils import timezone

from ops.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

Check = Callable[[], Awaitable[tuple[bool, str]]]


def database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, connection.vendor
    except Exception as exc:
        logger.warning("Health: database unreachable: %s", exc)
        return False, f"unreachable: {exc.__class__.__name__}"


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("health.")
    try:
        await layer.send(channel, {"type": "health.ping"})
        message = await layer.receive(channel)
    finally:
        await _release(layer, channel)
    if message.get("type") != "health.ping":
        raise RuntimeError("channel layer returned a different message")


async def _release(layer, channel: str) -> None:
    """Let go of the channel as a closing consumer does, by cancelling a receive: the
    Redis pub/sub layer unsubscribes only then, so every check would leave one behind."""
    waiting = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting


async def channel_layer() -> tuple[bool, str]:
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    try:
        await asyncio.wait_for(_layer_round_trip(), timeout=2)
        return True, backend
    except Exception as exc:
        logger.warning("Health: channel layer failed: %r", exc)
        return False, f"{backend} failed: {exc.__class__.__name__}"


def worker() -> tuple[bool, str]:
    try:
        last_seen = WorkerHeartbeat.objects.order_by("-last_seen").values_list(
            "last_seen", flat=True
        )[:1]
        last = next(iter(last_seen), None)
    except Exception as exc:
        return False, f"unknown: {exc.__class__.__name__}"
    if last is None:
        return False, "no worker has reported; start `manage.py db_worker`"
    age = timezone.now() - last
    if age > timedelta(seconds=settings.WORKER_STALE_SECONDS):
        return False, f"last heartbeat {age.total_seconds():.0f}s ago"
    return True, f"heartbeat {age.total_seconds():.1f}s ago"


# A probe must answer quickly even when a component hangs (a database that accepts no
# connections makes the pool wait its full timeout), so each check has a deadline.
CHECK_TIMEOUT_SECONDS = 3.0


def _in_own_thread(check: Callable[[], tuple[bool, str]]) -> Check:
    """Runs a blocking check off the request's thread so a hang cannot hold the probe,
    handing its database connection back afterwards."""

    def run_and_release() -> tuple[bool, str]:
        try:
            return check()
        finally:
            connection.close()

    return sync_to_async(run_and_release, thread_sensitive=False)


CHECKS: dict[str, Check] = {
    "database": _in_own_thread(database),
    "channel_layer": channel_layer,
    "worker": _in_own_thread(worker),
}


def register(name: str, check: Callable[[], tuple[bool, str]]) -> None:
    """Add a blocking component check (run in its own thread, with the deadline); one
    that raises reads as down with the exception's name."""

    def guarded() -> tuple[bool, str]:
        try:
            return check()
        except Exception as exc:
            return False, f"failed: {exc.__class__.__name__}"

    CHECKS[name] = _in_own_thread(guarded)


async def _run(check: Check) -> dict[str, str]:
    try:
        ok, detail = await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        ok, detail = False, f"no answer within {CHECK_TIMEOUT_SECONDS:.0f}s"
    return {"status": "ok" if ok else "down", "detail": detail}


async def run_all() -> dict[str, dict[str, str]]:
    results = await asyncio.gather(*(_run(check) for check in CHECKS.values()))
    return dict(zip(CHECKS, results, strict=True))
