"""The websocket as outside clients meet it: the `websockets` client package against the
real product (`manage.py serve`) under Daphne and under Uvicorn.

Channels' WebsocketCommunicator talks to the ASGI app directly and so hides what a server
does with the handshake, close codes and frame limits; these tests do not.
"""

import json
import time
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from conversations.tests.browser_support import ProductServer

pytestmark = pytest.mark.timeout(240)

USERNAME, PASSWORD = "olga", "a-long-practice-passphrase"
QUICK = {"text": "Good question.", "chunk_size": 4, "delay": 0.005}
REPLAY_PAGE = 5
MAX_MESSAGE = 1024 * 1024
EMOJI_TEXT = "\U0001f600" * 6000  # 6,000 characters; 72,000 as JSON escapes


@pytest.fixture(scope="module", params=["daphne", "uvicorn"])
def server(request, tmp_path_factory):
    product = ProductServer(
        tmp_path_factory.mktemp(request.param),
        script={"default": QUICK},
        server=request.param,
        env={
            "THROTTLE_SIGN_IN": "1000/min",
            "RESUME_PAGE_MESSAGES": str(REPLAY_PAGE),
            "WEBSOCKET_MAX_MESSAGE_BYTES": str(MAX_MESSAGE),
            # Tokens this process signs are the server's own (for a short-lived one).
            "JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
        },
    )
    try:
        product.start()
        product.user_id = shell_value(
            product,
            "from accounts.services import learner_sign_up; "
            f"print(learner_sign_up(username={USERNAME!r}, password={PASSWORD!r}, "
            "native_language='es', target_language='en', level='B1').pk)",
        )
        yield product
    finally:
        product.stop()


def shell_value(server: ProductServer, code: str) -> int:
    """Runs Python in the server's environment; the number it printed last."""
    return int(server.manage("shell", "-c", code).strip().splitlines()[-1])


class Learner:
    """A signed-in learner of the live server: a browser session and a JWT."""

    def __init__(self, server: ProductServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=20)
        self.token = self.http.post(
            "/api/v1/auth/token/", json={"username": USERNAME, "password": PASSWORD}
        ).json()["access"]
        self.api = httpx.Client(
            base_url=server.url, timeout=20, headers={"Authorization": f"Bearer {self.token}"}
        )

    def log_in(self) -> str:
        self.http.get("/accounts/login/")
        response = self.http.post(
            "/accounts/login/",
            data={
                "username": USERNAME,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
            },
        )
        assert response.status_code == 302, response.text
        return self.http.cookies["sessionid"]

    def log_out(self) -> None:
        response = self.http.post(
            "/accounts/logout/",
            data={"csrfmiddlewaretoken": self.http.cookies["csrftoken"]},
            headers={"Referer": self.server.url + "/"},
        )
        assert response.status_code == 302, response.text

    def conversation(self, text: str = "Hello there") -> dict:
        response = self.api.post("/api/v1/conversations/", json={"text": text})
        assert response.status_code == 201, response.text
        return response.json()

    def idle_conversation(self) -> dict:
        """A conversation whose first reply is finished, so it takes a new message."""
        conversation = self.conversation()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            data = self.api.get(f"/api/v1/conversations/{conversation['id']}/").json()
            if all(m["status"] not in ("pending", "streaming") for m in data["messages"]):
                return data
            time.sleep(0.05)
        raise AssertionError("the first reply did not finish")


@pytest.fixture
def learner(server) -> Learner:
    return Learner(server)


def ws_url(server: ProductServer, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


def open_socket(server, path, *, token=None, cookie=None, origin=None):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = f"sessionid={cookie}"
    return connect(
        ws_url(server, path),
        additional_headers=headers,
        origin=origin,
        open_timeout=10,
        max_size=None,
        compression=None,
    )


def send(socket, frame) -> None:
    socket.send(frame if isinstance(frame, str) else json.dumps(frame))


STREAM = {"message.created", "reply.delta", "reply.completed", "reply.failed"}


def receive(socket, timeout: float = 10) -> dict:
    """The next frame that answers this client, past the live stream of a reply that may
    still be running."""
    while True:
        event = json.loads(socket.recv(timeout=timeout))
        if event["type"] not in STREAM:
            return event


def receive_until(socket, stop) -> list[dict]:
    events = []
    while True:
        events.append(json.loads(socket.recv(timeout=10)))
        if stop(events[-1]):
            return events


def close_code(socket, timeout: float = 10) -> int:
    """The code of the close frame the server sends next (skipping other frames)."""
    deadline = time.monotonic() + timeout
    with pytest.raises(ConnectionClosed) as closed:
        while time.monotonic() < deadline:
            socket.recv(timeout=max(0.1, deadline - time.monotonic()))
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code


def ping_pong(socket) -> None:
    send(socket, {"type": "ping"})
    assert receive(socket) == {"type": "pong"}


def no_tracebacks(server) -> None:
    log = server.log()
    at = log.find("Traceback")
    assert at < 0, log[max(0, at - 1500) : at + 3000]


def conversation_path(conversation_id) -> str:
    return f"/ws/conversations/{conversation_id}/"


# --- 1. Deep nesting ------------------------------------------------------------------


def test_deeply_nested_json_is_an_error_event_and_a_400_in_the_error_shape(server, learner):
    conversation = learner.conversation()
    nested = '{"type": "ping", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with open_socket(server, conversation_path(conversation["id"]), token=learner.token) as ws:
        send(ws, nested)
        event = receive(ws)
        ping_pong(ws)

    body = "[" * 950 + "]" * 950
    json_body = {"Content-Type": "application/json"}
    token = httpx.post(f"{server.url}/api/v1/auth/token/", content=body, headers=json_body)
    create = learner.api.post("/api/v1/conversations/", content=body, headers=json_body)

    assert event == {"type": "error", "error": "JSON nested too deeply", "status": 400}
    for response in (token, create):
        assert response.status_code == 400
        assert response.json()["error"]
        assert "nested too deeply" in response.json()["detail"]
    no_tracebacks(server)


# --- 2. One validation ----------------------------------------------------------------


@pytest.mark.parametrize("raw", [r"x\ud800y", r"a\u0000b"], ids=["lone-surrogate", "nul"])
def test_socket_and_rest_refuse_the_same_text_with_the_same_answer(server, learner, raw):
    conversation = learner.idle_conversation()
    with open_socket(server, conversation_path(conversation["id"]), token=learner.token) as ws:
        send(ws, '{"type": "message.send", "text": "' + raw + '"}')
        event = receive(ws)
        send(ws, '{"type": "message.send", "text": "fine", "client_id": "' + raw + '"}')
        client_id_event = receive(ws)
        ping_pong(ws)

    rest = learner.api.post(
        f"/api/v1/conversations/{conversation['id']}/messages/",
        content='{"text": "' + raw + '"}',
        headers={"Content-Type": "application/json"},
    )

    assert rest.status_code == 400
    assert event == {"type": "error", "status": 400, **rest.json()}
    assert client_id_event["status"] == 400 and "client_id" in client_id_event["detail"]
    stored = learner.api.get(f"/api/v1/conversations/{conversation['id']}/").json()
    assert len(stored["messages"]) == 2
    no_tracebacks(server)


def test_a_long_emoji_message_rest_accepts_is_accepted_over_the_socket(server, learner):
    over_rest = learner.api.post("/api/v1/conversations/", json={"text": EMOJI_TEXT})
    conversation = learner.idle_conversation()
    frame = json.dumps({"type": "message.send", "text": EMOJI_TEXT})  # ASCII escapes
    assert len(frame) > 64_000

    with open_socket(server, conversation_path(conversation["id"]), token=learner.token) as ws:
        send(ws, frame)
        created = receive_until(ws, lambda e: e["type"] == "message.created")[-1]

    assert over_rest.status_code == 201
    assert created["message"]["content"] == EMOJI_TEXT


# --- 3. Close codes a real client receives ---------------------------------------------


def test_signed_out_and_missing_conversations_close_after_the_handshake(server, learner):
    conversation = learner.conversation()
    deleted = learner.conversation()
    assert learner.api.delete(f"/api/v1/conversations/{deleted['id']}/").status_code == 204
    stranger = AccessToken()
    stranger["user_id"] = str(server.user_id + 1000)

    with open_socket(server, conversation_path(conversation["id"])) as anonymous:
        assert close_code(anonymous) == 4401
    with open_socket(server, conversation_path(deleted["id"]), token=learner.token) as gone:
        assert close_code(gone) == 4404
    with open_socket(server, conversation_path(10**30), token=learner.token) as huge:
        assert close_code(huge) == 4404
    with open_socket(server, "/ws/events/", token=str(stranger)) as unknown_user:
        assert close_code(unknown_user) == 4401
    no_tracebacks(server)


def test_deleting_a_conversation_closes_its_open_sockets_with_4404(server, learner):
    conversation = learner.conversation()
    with open_socket(server, conversation_path(conversation["id"]), token=learner.token) as ws:
        ping_pong(ws)
        learner.api.delete(f"/api/v1/conversations/{conversation['id']}/")

        assert close_code(ws) == 4404


# --- 4. Unknown paths -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/ws/nope/", "/ws/conversations/abc/", "/ws/conversations/1", "/elsewhere"]
)
def test_unknown_socket_paths_are_refused_cleanly(server, learner, path):
    with open_socket(server, path, token=learner.token) as ws:
        assert close_code(ws) == 4404
    no_tracebacks(server)


# --- 5. Origin --------------------------------------------------------------------------


def test_only_this_sites_own_origin_may_use_the_session_cookie(server, learner):
    cookie = learner.log_in()
    conversation = learner.conversation()
    path = conversation_path(conversation["id"])
    port = server.port
    foreign = [
        f"http://127.0.0.1:{port + 1}",
        f"https://127.0.0.1:{port}",
        f"http://localhost:{port}",
        "https://evil.example",
    ]

    for origin in foreign:
        with pytest.raises(InvalidStatus) as refused:
            open_socket(server, path, cookie=cookie, origin=origin)
        assert refused.value.response.status_code == 403, origin
    with open_socket(server, path, cookie=cookie, origin=f"http://127.0.0.1:{port}") as ws:
        send(ws, {"type": "resume", "after_seq": 0})
        events = receive_until(ws, lambda e: e["type"] == "resume.done")
    # The replay, perhaps with deltas of the first reply among it.
    assert next(e["seq"] for e in events if e["type"] == "message.created") == 1


# --- 6. A socket does not outlive its credentials ---------------------------------------


def test_logging_out_closes_the_sessions_sockets(server, learner):
    cookie = learner.log_in()
    origin = server.url
    with (
        open_socket(server, "/ws/events/", cookie=cookie, origin=origin) as events,
        open_socket(
            server, conversation_path(learner.conversation()["id"]), cookie=cookie, origin=origin
        ) as chat,
    ):
        assert receive(events)["type"] == "hello"
        ping_pong(chat)

        learner.log_out()

        assert close_code(events) == 4401
        assert close_code(chat) == 4401


def test_a_session_ended_elsewhere_stops_the_socket_at_its_next_frame(server, learner):
    cookie = learner.log_in()
    conversation = learner.idle_conversation()
    with open_socket(
        server, conversation_path(conversation["id"]), cookie=cookie, origin=server.url
    ) as ws:
        ping_pong(ws)
        server.manage(
            "shell",
            "-c",
            f"from django.contrib.sessions.models import Session; "
            f"Session.objects.filter(session_key={cookie!r}).delete()",
        )
        send(ws, {"type": "message.send", "text": "Still there?"})

        assert close_code(ws) == 4401
    stored = learner.api.get(f"/api/v1/conversations/{conversation['id']}/").json()
    assert stored["messages"][0]["content"] == "Hello there"
    assert len(stored["messages"]) == 2


def test_an_expired_token_stops_the_socket(server, learner):
    conversation = learner.idle_conversation()
    token = AccessToken(learner.token)  # the server's token, re-signed to expire soon
    token.set_exp(lifetime=timedelta(seconds=2))
    with open_socket(server, conversation_path(conversation["id"]), token=str(token)) as ws:
        ping_pong(ws)
        time.sleep(2.5)
        send(ws, {"type": "message.send", "text": "Still there?"})

        assert close_code(ws) == 4401
    stored = learner.api.get(f"/api/v1/conversations/{conversation['id']}/").json()
    assert len(stored["messages"]) == 2


# --- 7. One frame limit -----------------------------------------------------------------


def test_a_frame_over_the_limit_closes_with_1009_and_one_under_it_is_answered(server, learner):
    conversation = learner.conversation()
    path = conversation_path(conversation["id"])
    padding = MAX_MESSAGE - len('{"type": "ping", "pad": ""}') - 16
    just_under = json.dumps({"type": "ping", "pad": "x" * padding})
    with open_socket(server, path, token=learner.token) as ws:
        send(ws, just_under)
        assert receive(ws) == {"type": "pong"}
        try:
            send(ws, '{"type": "ping", "pad": "' + "x" * MAX_MESSAGE + '"}')
        except ConnectionClosed as closed:
            # The server answered before the client finished writing the frame. Uvicorn
            # closes its transport right after its 1009 close frame, so a client still
            # writing may instead get a TCP reset that drops that frame unread.
            if closed.rcvd is not None:
                assert closed.rcvd.code == 1009
            else:
                assert server.server == "uvicorn", closed
        else:
            assert close_code(ws) == 1009
    no_tracebacks(server)


# --- 8. Paged replay --------------------------------------------------------------------


def test_resume_sends_a_page_at_a_time_and_says_where_to_continue(server, learner):
    conversation = shell_value(
        server,
        "from accounts.models import User; from conversations.models import Conversation, "
        "Message; "
        f"c = Conversation.objects.create(owner=User.objects.get(username={USERNAME!r}), "
        "title='Long', last_seq=12); "
        "Message.objects.bulk_create([Message(conversation=c, seq=n, "
        "role='user' if n % 2 else 'assistant', content=f'Message {n}') "
        "for n in range(1, 13)]); print(c.pk)",
    )
    pages = []
    with open_socket(server, conversation_path(conversation), token=learner.token) as ws:
        after, more = 0, True
        while more:
            send(ws, {"type": "resume", "after_seq": after})
            events = receive_until(ws, lambda e: e["type"] == "resume.done")
            pages.append([e["seq"] for e in events[:-1]])
            after, more = events[-1]["seq"], events[-1]["more"]

    assert pages == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12]]


def test_a_password_change_revokes_the_token_of_an_open_socket(server):
    learner = Learner(server)
    conversation = learner.idle_conversation()
    with open_socket(server, conversation_path(conversation["id"]), token=learner.token) as ws:
        ping_pong(ws)
        server.manage(
            "shell",
            "-c",
            "from accounts.models import User; "
            f"u = User.objects.get(username={USERNAME!r}); u.set_password({PASSWORD + '!'!r}); "
            f"u.save(); u.set_password({PASSWORD!r}); u.save()",
        )
        send(ws, {"type": "message.send", "text": "Still there?"})

        assert close_code(ws) == 4401
    assert learner.api.get("/api/v1/me").status_code == 401
    assert Learner(server).api.get("/api/v1/me").status_code == 200
