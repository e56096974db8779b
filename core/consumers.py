"""The product's JSON sockets: the base every consumer shares, and `/ws/events/`, a
signed-in user's own event stream (progress of their background work).

Refusals a client must act on (signed out, no such conversation) are close codes sent
*after* the handshake is accepted: a refused handshake reaches a browser as an anonymous
1006, whatever code the server meant.
"""

import contextlib
import json

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.events import user_group
from core.websocket import (
    credentials_still_valid,
    session_group,
    token_expired,
    user_sockets_group,
)

# Close codes in the 4000 range are the application's own (RFC 6455 §7.4.2).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
# What Daphne (Autobahn) and Uvicorn raise into a send to a socket already closing: the
# client left, or the server closed it for an oversized message. Its disconnect follows.
CLIENT_GONE = (Disconnected, OSError)


def in_pool(func):
    """Database work in the shared thread pool, not the one thread Channels uses by
    default, so one slow query does not hold up every socket of the process."""
    return database_sync_to_async(func, thread_sensitive=False)


def parse_frame(text: str) -> dict | str:
    """The frame as an object with a "type", or the sentence that refuses it."""
    try:
        content = json.loads(text)
    except RecursionError:
        return "JSON nested too deeply"
    except ValueError:
        return "Malformed JSON"
    if not isinstance(content, dict) or not isinstance(content.get("type"), str):
        return 'Every frame is an object with a "type"'
    return content


class ProductJsonConsumer(AsyncJsonWebsocketConsumer):
    """A JSON socket for a signed-in user. It answers a malformed frame with an error
    event, and closes with 4401 once what signed the user in no longer does (logged out,
    token expired or revoked): checked on every frame the client sends, and by the
    token's expiry before relaying anything. Frames above WEBSOCKET_MAX_MESSAGE_BYTES
    never get here: the server closes those with 1009 (see ops serve)."""

    async def admit(self) -> bool:
        """Accept a signed-in user (joining their session's group, so logging out closes
        the socket), or accept and close with 4401."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return False
        session = self.scope.get("session")
        if self.scope["auth"]["kind"] == "session" and session and session.session_key:
            self.session_group = session_group(session.session_key)
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        # Closed together on a password change, signing out everywhere, or deletion.
        self.sockets_group = user_sockets_group(user.pk)
        await self.channel_layer.group_add(self.sockets_group, self.channel_name)
        return True

    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        """A frame for a socket that closed meanwhile (a reply still streaming to it) has
        nowhere to go: dropped, not a crash with a traceback."""
        with contextlib.suppress(CLIENT_GONE):
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def send_json(self, content, close=False) -> None:
        # Channels' send_json reaches the server past `send` above.
        with contextlib.suppress(CLIENT_GONE):
            await super().send_json(content, close=close)

    async def refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        groups = ("session_group", "sockets_group", "group")
        for group in (getattr(self, name, None) for name in groups):
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if not await in_pool(credentials_still_valid)(self.scope):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if text_data is None:
            await self.send_error("Send JSON text frames")
            return
        content = parse_frame(text_data)
        if isinstance(content, str):
            await self.send_error(content)
            return
        await self.receive_json(content, **kwargs)

    async def send_error(self, message: str, *, status: int = 400, detail=None) -> None:
        event = {"type": "error", "error": message, "status": status}
        if detail is not None:
            event["detail"] = detail
        await self.send_json(event)

    async def relay_allowed(self) -> bool:
        """Before relaying an event: no database, only the token's expiry."""
        if token_expired(self.scope):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        return True

    async def auth_ended(self, message: dict) -> None:
        """The session logged out (accounts.views.LogoutView), or the user's credentials
        changed (core.websocket.user_sockets_close)."""
        await self.close(code=CLOSE_UNAUTHENTICATED)


class UserEventsConsumer(ProductJsonConsumer):
    async def connect(self) -> None:
        if not await self.admit():
            return
        user = self.scope["user"]
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user": user.username})

    async def receive_json(self, content, **kwargs) -> None:
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_error(f"Unknown event type {content['type']!r}")

    async def user_event(self, event: dict) -> None:
        if await self.relay_allowed():
            await self.send_json(event["payload"])


class NoSuchSocket(ProductJsonConsumer):
    """Every path no route matches: accepted, then closed with 4404 (no traceback)."""

    async def connect(self) -> None:
        await self.refuse(CLOSE_NOT_FOUND)
