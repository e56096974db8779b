"""ASGI entry point: HTTP through Django, websockets through Channels."""

import asyncio
import os
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

# Imported after Django is set up: routing pulls in consumers and models.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from core.bodylimit import body_limited  # noqa: E402
from core.events import bind_running_loop  # noqa: E402
from core.websocket import websocket_stack  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": body_limited(django_asgi_app),
        "websocket": websocket_stack(URLRouter(websocket_urlpatterns)),
    }
)


_sized_loops: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()


def _size_thread_pool() -> None:
    """Gives the serving loop settings.ASGI_THREADS threads for blocking work, whatever
    the server (Uvicorn leaves Python's small default; Daphne reads only its env var).
    The database pool is sized from the same number."""
    loop = asyncio.get_running_loop()
    if loop not in _sized_loops:
        _sized_loops.add(loop)
        loop.set_default_executor(
            ThreadPoolExecutor(max_workers=settings.ASGI_THREADS, thread_name_prefix="asgi")
        )


async def application(scope, receive, send):
    # Threads of this process (sync views, in-process task threads) publish events
    # through the loop that serves the sockets.
    bind_running_loop()
    _size_thread_pool()
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    return await router(scope, receive, send)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
