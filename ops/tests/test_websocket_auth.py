"""The websocket door: who may open a socket, from where. Uses /ws/events/ as the target."""

import pytest
from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken
from uvicorn.protocols.utils import ClientDisconnected

from conftest import make_learner
from core.consumers import UserEventsConsumer
from core.websocket import origin_allowed
from ops.socket_testing import communicator as socket_to

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def learner_and_session():
    user = make_learner("wendy")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return user, session.session_key


async def open_socket(path: str = "/ws/events/", headers=()):
    communicator = socket_to(path, *headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def closed_with(communicator) -> int:
    """Refusals come after the handshake, so a browser receives their code."""
    message = await communicator.receive_output()
    assert message["type"] == "websocket.close"
    return message["code"]


async def test_anonymous_socket_is_refused():
    communicator, connected, _ = await open_socket()

    assert connected
    assert await closed_with(communicator) == 4401


async def test_session_cookie_opens_the_socket():
    user, session_key = await learner_and_session()
    cookie = (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())

    communicator, connected, _ = await open_socket(headers=[cookie])

    assert connected
    assert await communicator.receive_json_from() == {"type": "hello", "user": user.username}
    await communicator.disconnect()


async def test_jwt_bearer_header_opens_the_socket():
    user, _ = await learner_and_session()
    token = str(AccessToken.for_user(user))

    communicator, connected, _ = await open_socket(
        headers=[(b"authorization", f"Bearer {token}".encode())]
    )

    assert connected
    assert (await communicator.receive_json_from())["user"] == user.username
    await communicator.disconnect()


async def test_jwt_in_query_string_opens_the_socket():
    user, _ = await learner_and_session()
    token = str(AccessToken.for_user(user))

    communicator, connected, _ = await open_socket(f"/ws/events/?token={token}")

    assert connected
    await communicator.disconnect()


async def test_forged_jwt_is_refused():
    communicator, connected, _ = await open_socket("/ws/events/?token=eyJhbGciOi.forged.x")

    assert connected
    assert await closed_with(communicator) == 4401


async def test_foreign_origin_is_refused_even_with_a_session():
    _, session_key = await learner_and_session()
    communicator = socket_to(
        "/ws/events/",
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()),
        origin=(b"origin", b"https://evil.example"),
    )

    connected, _ = await communicator.connect()

    assert not connected


async def test_malformed_frames_get_an_error_event_not_a_crash():
    user, _ = await learner_and_session()
    token = str(AccessToken.for_user(user))
    communicator, _, _ = await open_socket(f"/ws/events/?token={token}")
    await communicator.receive_json_from()

    await communicator.send_to(text_data="{not json")
    first = await communicator.receive_json_from()
    await communicator.send_to(text_data='["no type"]')
    second = await communicator.receive_json_from()
    await communicator.send_json_to({"type": "ping"})
    third = await communicator.receive_json_from()

    assert first == {"type": "error", "error": "Malformed JSON", "status": 400}
    assert second["type"] == "error"
    assert third == {"type": "pong"}
    await communicator.disconnect()


@override_settings(
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    ALLOWED_HOSTS=["app.example.com"],
    CSRF_TRUSTED_ORIGINS=[],
    WEBSOCKET_ALLOWED_ORIGINS=["https://partner.example.com"],
)
def test_origins_are_compared_by_scheme_host_and_port_as_csrf_does():
    def scope(origin: bytes, *extra) -> dict:
        headers = [(b"origin", origin), (b"host", b"app.example.com"), *extra]
        return {"type": "websocket", "scheme": "ws", "headers": headers}

    behind_tls = (b"x-forwarded-proto", b"https")

    assert origin_allowed(scope(b"https://app.example.com", behind_tls))
    assert not origin_allowed(scope(b"https://app.example.com"))  # the request was plain http
    assert origin_allowed(scope(b"http://app.example.com"))
    assert not origin_allowed(scope(b"http://app.example.com:8080"))
    assert origin_allowed(scope(b"https://partner.example.com"))
    assert not origin_allowed(
        {"headers": [(b"origin", b"http://evil.example"), (b"host", b"evil.example")]}
    )
    assert origin_allowed({"headers": []})  # no Origin: not a browser


@pytest.mark.parametrize("gone", [Disconnected("closing"), ClientDisconnected()])
async def test_a_frame_for_a_socket_closing_meanwhile_is_dropped_not_a_crash(gone):
    """Daphne and Uvicorn raise into a send to a closing socket (a relayed delta racing the
    close of an oversized message); the consumer drops the frame."""
    sent = []

    async def server_send(message):
        sent.append(message)
        raise gone

    consumer = UserEventsConsumer()
    consumer.base_send = server_send

    await consumer.send_json({"type": "reply.delta", "text": "late"})

    assert sent[0]["type"] == "websocket.send"
