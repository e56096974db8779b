"""Waking idle workers the moment a task is queued, rather than at their next poll.

A worker inside the web process (`manage.py serve`) is woken through a shared event; a
worker in another process through Redis pub/sub when REDIS_URL is set. Both are hints:
a lost wake-up only means the task waits for the next poll, so polling stays as the floor.
"""

import logging
import threading
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django_tasks_db.compat import task_enqueued

logger = logging.getLogger(__name__)

CHANNEL = "tasks.enqueued"

_local_waiters: list[threading.Event] = []


def _channel() -> str:
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "coach")
    return f"{prefix}:{CHANNEL}"


@cache
def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


def notify(**kwargs) -> None:
    for event in list(_local_waiters):
        event.set()
    if settings.REDIS_URL:
        try:
            _redis().publish(_channel(), b"1")
        except Exception:
            logger.warning("Could not publish a worker wake-up; workers will poll", exc_info=True)


def subscribe(event: threading.Event, running: Callable[[], bool]) -> None:
    """Sets `event` whenever any process queues a task, until `running()` is false."""
    _local_waiters.append(event)
    if settings.REDIS_URL:
        threading.Thread(
            target=_listen, args=(event, running), name="wake-listener", daemon=True
        ).start()


def _listen(event: threading.Event, running: Callable[[], bool]) -> None:
    while running():
        try:
            pubsub = _redis().pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(_channel())
            while running():
                if pubsub.get_message(timeout=1.0) is not None:
                    event.set()
        except Exception:
            logger.warning("Worker wake-up listener lost Redis; retrying", exc_info=True)
            event.wait(1.0)


def connect() -> None:
    task_enqueued.connect(notify, dispatch_uid="ops.wake.notify")
