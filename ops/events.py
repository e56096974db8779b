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

from channels.layers import get_channel_layer

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
