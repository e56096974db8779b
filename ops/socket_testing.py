"""Channels' in-process socket client, as the test suite opens it.

The suite shares its two cores with live task workers, a PostgreSQL and a Redis; a
handshake runs the consumer's ownership queries and joins a Redis group, and on a loaded
machine that has taken over a second, Channels' default wait. Waiting longer changes
nothing a test asserts: a test that expects silence uses `receive_nothing`, whose short
wait is its own.
"""

from channels.routing import get_default_application
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
SOCKET_TIMEOUT_SECONDS = 10.0


class Communicator(WebsocketCommunicator):
    """Every receive (the handshake's included) waits at least SOCKET_TIMEOUT_SECONDS."""

    async def receive_output(self, timeout: float = SOCKET_TIMEOUT_SECONDS):
        return await super().receive_output(max(timeout, SOCKET_TIMEOUT_SECONDS))


def bearer(user) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {AccessToken.for_user(user)}".encode())


def communicator(path: str, *headers: tuple[bytes, bytes], origin=ORIGIN) -> Communicator:
    return Communicator(
        get_default_application(), path, headers=[origin, *headers] if origin else [*headers]
    )


async def open_events_socket(user) -> Communicator:
    """The user's event socket, connected and past its hello."""
    socket = communicator("/ws/events/", bearer(user))
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "hello"
    return socket
