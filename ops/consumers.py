"""`/ws/events/`: a signed-in user's own event stream (progress of their background work)."""

import json

from channels.generic.websocket import AsyncJsonWebsocketConsumer

# Close codes in the 4000 range are the application's own (RFC 6455 §7.4.2).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
MAX_FRAME_CHARS = 64_000


class ProductJsonConsumer(AsyncJsonWebsocketConsumer):
    """A JSON socket that answers a malformed or oversized frame with an error event."""

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if text_data is None:
            await self.send_error("Send JSON text frames")
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self.send_error(f"Frame too large (limit {MAX_FRAME_CHARS} characters)")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error("Malformed JSON")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error('Every frame is an object with a "type"')
            return
        await self.receive_json(content, **kwargs)

    async def send_error(self, message: str) -> None:
        await self.send_json({"type": "error", "error": message})


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


class UserEventsConsumer(ProductJsonConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user": user.username})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_error(f"Unknown event type {content['type']!r}")

    async def user_event(self, event: dict) -> None:
        await self.send_json(event["payload"])
