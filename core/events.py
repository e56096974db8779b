"""Publishing to channel-layer groups from plain threads (views, task threads).

The channel layer is asynchronous and bound to an event loop: the in-memory layer's
queues belong to the loop that serves the websockets, and channels-redis keeps its
connections per loop. So every publish from a thread is handed to one long-lived loop:
the server's own loop when the worker runs inside the web process (embedded mode, where
the in-memory layer only works that way), or a private loop thread in a separate worker.
Publishing waits for the send, so events of one reply leave in order.
"""

import asyncio
import logging
import threading
from collections.abc import Callable

from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# Short: a reply waits on each publish, and a lost event costs only a resume.
PUBLISH_TIMEOUT_SECONDS = 1.0

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def bind_running_loop() -> None:
    """Make the calling (server) loop the one publishes go to; cheap after the first call."""
    global _loop
    loop = asyncio.get_running_loop()
    if _loop is not loop:
        with _loop_lock:
            _loop = loop


def _target_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="event-publisher", daemon=True).start()
        return _loop


def publish(group: str, event: dict) -> None:
    """Send `event` to every socket in `group`. At most once: a lost event is tolerated
    by design (clients resume from the database), so failures are logged, not raised."""
    loop = _target_loop()
    try:
        if _running_loop() is loop:
            # Called from the loop's own thread (sync code inside a coroutine): waiting
            # here would deadlock, so schedule it instead.
            loop.create_task(get_channel_layer().group_send(group, event))
            return
        future = asyncio.run_coroutine_threadsafe(
            get_channel_layer().group_send(group, event), loop
        )
        future.result(timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("Could not publish %s to %s", event.get("type"), group, exc_info=True)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# --- A user's own event stream (/ws/events/) ------------------------------------------

# The channel-layer message type core.consumers.UserEventsConsumer relays.
USER_EVENT = "user.event"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def user_event_send(user_id: int, payload: dict) -> None:
    """Send `payload` (a `{"type": ...}` event built by the app that owns it) to every
    socket the user has open on /ws/events/. At most once, like every event: pages read
    the truth from the API when they (re)connect."""
    publish(user_group(user_id), {"type": USER_EVENT, "payload": payload})


def user_event_on_commit(user_id: int, build: Callable[[], dict | None]) -> None:
    """Build the event once the surrounding transaction commits (so it tells what the
    database says) and send it, unless the builder returns None."""

    def send_built() -> None:
        payload = build()
        if payload is not None:
            user_event_send(user_id, payload)

    transaction.on_commit(send_built, robust=True)
