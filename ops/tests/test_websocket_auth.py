"""The websocket door: who may open a socket, from where. Uses /ws/events/ as the target."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from rest_framework_simplejwt.tokens import AccessToken

from config.asgi import application
from conftest import make_learner

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


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
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, *headers])
    connected, code = await communicator.connect()
    return communicator, connected, code


async def test_anonymous_socket_is_refused():
    _, connected, code = await open_socket()

    assert not connected
    assert code == 4401


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
    _, connected, code = await open_socket("/ws/events/?token=eyJhbGciOi.forged.x")

    assert not connected
    assert code == 4401


async def test_foreign_origin_is_refused_even_with_a_session():
    _, session_key = await learner_and_session()
    communicator = WebsocketCommunicator(
        application,
        "/ws/events/",
        headers=[
            (b"origin", b"https://evil.example"),
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()),
        ],
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

    assert first == {"type": "error", "error": "Malformed JSON"}
    assert second["type"] == "error"
    assert third == {"type": "pong"}
    await communicator.disconnect()
