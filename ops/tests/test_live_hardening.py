"""Defects outside clients found against the running product (`manage.py serve`), driven
the way they drove them: plain HTTP and websocket clients, forged headers, several
source addresses (every 127.x address reaches the loopback server)."""

import json
import re
import socket
import time
import uuid

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conversations.tests.browser_support import ProductServer

pytestmark = pytest.mark.timeout(300)

USERNAME, PASSWORD = "olga", "a-long-practice-passphrase"
ACCOUNT_FAILURES = 5
REQUEST_MAX_BYTES = 3_000_000


def start(workdir, server: str) -> ProductServer:
    product = ProductServer(
        workdir,
        script={"default": {"text": "Good question.", "chunk_size": 8, "delay": 0}},
        server=server,
        env={
            "LOG_FORMAT": "json",
            "SIGN_IN_ACCOUNT_FAILURES": str(ACCOUNT_FAILURES),
            "REQUEST_MAX_BYTES": str(REQUEST_MAX_BYTES),
        },
    )
    product.start()
    product.sign_up(USERNAME, PASSWORD, native_language="es", target_language="en", level="B1")
    return product


@pytest.fixture(scope="module", params=["daphne", "uvicorn"])
def server(request, tmp_path_factory):
    product = start(tmp_path_factory.mktemp(request.param), request.param)
    try:
        yield product
    finally:
        product.stop()


def client_from(server: ProductServer, address: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, transport=transport, timeout=30)


def logged_ips(server: ProductServer) -> set[str]:
    ips = set()
    for line in server.log().splitlines():
        if line.startswith("{") and '"request_finished"' in line:
            ips.add(json.loads(line).get("ip"))
    return ips


# -- signing in -----------------------------------------------------------------------


def test_a_forged_forwarded_for_does_not_reset_the_sign_in_limit(server):
    statuses = []
    with client_from(server, "127.0.0.1") as http:
        for n in range(30):
            response = http.post(
                "/api/v1/auth/token/",
                json={"username": f"guess{n}", "password": "wrong"},
                headers={"X-Forwarded-For": f"10.0.{n}.1"},
            )
            statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10
    assert set(statuses[10:]) == {429}
    assert "10.0.3.1" not in logged_ips(server)
    assert "127.0.0.1" in logged_ips(server)


def test_the_log_in_page_limit_ignores_forged_headers_too(server):
    statuses = []
    with client_from(server, "127.0.0.2") as http:
        http.get("/accounts/login/")
        for n in range(15):
            response = http.post(
                "/accounts/login/",
                data={
                    "username": f"page-guess{n}",
                    "password": "wrong",
                    "csrfmiddlewaretoken": http.cookies["csrftoken"],
                },
                headers={"X-Forwarded-For": f"10.1.{n}.1"},
            )
            statuses.append(response.status_code)
    assert statuses[:10] == [200] * 10
    assert set(statuses[10:]) == {429}
    assert "Wait" in response.text


def test_failed_sign_ins_to_one_account_from_many_addresses_are_limited(server):
    # An account of its own: the others here must still sign in afterwards.
    new_learner(server, "sven")
    for n in range(ACCOUNT_FAILURES):
        with client_from(server, f"127.0.1.{n + 1}") as http:
            response = http.post(
                "/api/v1/auth/token/", json={"username": "sven", "password": f"guess{n}"}
            )
            assert response.status_code == 401
    with client_from(server, "127.0.1.100") as http:
        refused = http.post("/api/v1/auth/token/", json={"username": "sven", "password": "x"})
        # The right password waits as well: the guesser must not learn it is right.
        right = http.post("/api/v1/auth/token/", json={"username": "sven", "password": PASSWORD})
        http.get("/accounts/login/")
        page = http.post(
            "/accounts/login/",
            data={
                "username": "sven",
                "password": PASSWORD,
                "csrfmiddlewaretoken": http.cookies["csrftoken"],
            },
        )
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 800 < wait <= 901
    detail = refused.json()["detail"]
    assert detail.startswith("Too many failed sign-ins for this account")
    assert abs(int(re.search(r"Wait (\d+) seconds", detail).group(1)) - wait) <= 1
    assert right.status_code == 429
    assert page.status_code == 429
    assert "Too many failed sign-ins for this account" in page.text
    # Other accounts are not held up.
    with client_from(server, "127.0.1.101") as http:
        other = http.post("/api/v1/auth/token/", json={"username": "nobody", "password": "x"})
    assert other.status_code == 401


# -- teaching runs ----------------------------------------------------------------------


def signed_in(server: ProductServer, address: str = "127.0.2.1") -> httpx.Client:
    http = client_from(server, address)
    token = http.post(
        "/api/v1/auth/token/", json={"username": USERNAME, "password": PASSWORD}
    ).json()["access"]
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def test_quick_clicks_on_start_lessons_make_one_run(server):
    http = signed_in(server)
    answers = [http.post("/api/v1/teaching/runs/", json={}) for _ in range(3)]
    refused = [
        http.post("/api/v1/teaching/runs/", json=body)
        for body in ({"scope": "conversation"}, {"scope": 1}, {"colour": "red"})
    ]
    listed = http.get("/api/v1/teaching/runs/").json()["results"]
    # A run of a learner with no analysed chat may finish between two clicks; then the
    # next click rightly starts another. Otherwise each click is answered with the run.
    assert answers[0].status_code == 202
    new_ids = [a.json()["id"] for a in answers if a.status_code == 202]
    assert len(new_ids) == len(set(new_ids))
    assert all(a.json()["id"] in new_ids for a in answers if a.status_code == 200)
    assert {a.status_code for a in answers} <= {200, 202}
    assert [r.status_code for r in refused] == [400, 400, 400]
    assert all(r.headers["content-type"] == "application/json" for r in refused)
    assert len(listed) == len(new_ids)


# -- sockets closed when credentials change ----------------------------------------------


def new_learner(server: ProductServer, name: str) -> None:
    server.sign_up(name, PASSWORD, native_language="es", target_language="en", level="B1")


class Browser:
    """A learner signed in twice: a browser session (cookie) and a JWT."""

    def __init__(self, server: ProductServer, name: str, address: str) -> None:
        self.server, self.name = server, name
        self.http = client_from(server, address)
        self.http.get("/accounts/login/")
        response = self.http.post(
            "/accounts/login/",
            data={"username": name, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf},
        )
        assert response.status_code == 302, response.text
        self.token = self.http.post(
            "/api/v1/auth/token/", json={"username": name, "password": PASSWORD}
        ).json()["access"]
        created = self.http.post(
            "/api/v1/conversations/",
            json={"text": "Hello"},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert created.status_code == 201, created.text
        self.conversation = created.json()["id"]

    @property
    def csrf(self) -> str:
        return self.http.cookies["csrftoken"]

    def sockets(self) -> list:
        """Every kind: the events and a conversation socket, by JWT and by cookie."""
        url = self.server.url.replace("http://", "ws://")
        by_token = {"Authorization": f"Bearer {self.token}"}
        by_cookie = {"Cookie": f"sessionid={self.http.cookies['sessionid']}"}
        opened = []
        for path in ("/ws/events/", f"/ws/conversations/{self.conversation}/"):
            for headers in (by_token, by_cookie):
                socket = connect(
                    url + path,
                    additional_headers=headers,
                    origin=self.server.url,
                    open_timeout=10,
                )
                opened.append(socket)
        return opened


def next_second() -> None:
    """Sleep into the next whole second (JWT issue times are whole seconds)."""
    time.sleep(1.02 - time.time() % 1)


def closed_with(socket, timeout: float = 5) -> int | None:
    """The close code the server sends within `timeout`, skipping other frames."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            socket.recv(timeout=max(0.05, deadline - time.monotonic()))
    except TimeoutError:
        return None
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else -1
    return None


def test_a_password_change_closes_every_socket_of_the_learner(server):
    new_learner(server, "pia")
    browser = Browser(server, "pia", "127.0.3.1")
    sockets = browser.sockets()
    form = browser.http.get("/accounts/password/")
    assert form.status_code == 200
    changed = browser.http.post(
        "/accounts/password/",
        data={
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase-42",
            "new_password2": "another-long-passphrase-42",
            "csrfmiddlewaretoken": browser.csrf,
        },
    )
    assert changed.status_code == 302, changed.text
    assert [closed_with(s) for s in sockets] == [4401] * 4


def test_signing_out_everywhere_closes_every_socket_and_session(server):
    new_learner(server, "quim")
    browser = Browser(server, "quim", "127.0.3.2")
    elsewhere = Browser(server, "quim", "127.0.3.3")
    sockets = browser.sockets() + elsewhere.sockets()
    next_second()  # tokens carry whole seconds: the sign-out comes after the tokens' one
    response = browser.http.post(
        "/accounts/logout/everywhere/", data={"csrfmiddlewaretoken": browser.csrf}
    )
    assert response.status_code == 302
    assert [closed_with(s) for s in sockets] == [4401] * 8
    # The other browser's session is gone: its pages ask it to sign in.
    assert elsewhere.http.get("/accounts/profile/").status_code == 302
    # And the tokens issued before are refused, for the API and for a new socket.
    bearer = {"Authorization": f"Bearer {elsewhere.token}"}
    assert browser.http.get("/api/v1/me", headers=bearer).status_code == 401
    again = connect(
        server.url.replace("http://", "ws://") + "/ws/events/",
        additional_headers=bearer,
        origin=server.url,
        open_timeout=10,
    )
    assert closed_with(again) == 4401


def test_deleting_the_account_closes_every_socket(server):
    new_learner(server, "rui")
    browser = Browser(server, "rui", "127.0.3.4")
    marker = f"Rui's secret zebra {uuid.uuid4().hex}"
    said = browser.http.post(
        "/api/v1/conversations/",
        json={"text": marker},
        headers={"Authorization": f"Bearer {browser.token}"},
    )
    assert said.status_code == 201
    sockets = browser.sockets()
    deleted = browser.http.post(
        "/api/v1/me/delete",
        json={"password": PASSWORD},
        headers={"Authorization": f"Bearer {browser.token}"},
    )
    assert deleted.status_code in (200, 204), deleted.text
    assert [closed_with(s) for s in sockets] == [4401] * 4
    # Nothing of what she wrote is left in the database's file or its write-ahead log.
    files = list((server.workdir / "var").glob("*.sqlite3*"))
    assert files
    for path in files:
        assert marker.encode() not in path.read_bytes(), path.name


# -- contract and error shape ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/documents/", "/api/v1/conversations/", "/api/v1/auth/token/"]
)
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"x"),
        ("multipart/form-data; boundary=zz", b"--zz--\r\n"),
    ],
)
def test_a_multipart_body_without_parts_gets_a_json_400(server, path, content_type, body):
    http = signed_in(server, "127.0.4.1")
    response = http.post(path, content=body, headers={"Content-Type": content_type})
    assert response.status_code in (400, 415), response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]


def test_an_api_path_without_its_slash_is_a_json_404_not_a_redirect(server):
    http = signed_in(server, "127.0.4.2")
    response = http.post("/api/v1/conversations", json={"text": "Hello"})
    assert response.status_code == 404
    assert "/api/v1/conversations/" in response.json()["detail"]


def raw_request(server: ProductServer, head: bytes, body_chunks=()) -> bytes:
    """Sends a request by hand (a declared length the body never reaches, a chunked
    body) and returns what the server answered, read until it closes or 5 s pass."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(head)
        for chunk in body_chunks:
            try:
                raw.sendall(chunk)
            except OSError:
                break  # the server answered and closed: reading stopped, as it should
        answer = b""
        try:
            while data := raw.recv(65536):
                answer += data
        except (TimeoutError, ConnectionResetError):
            pass
    return answer


def test_a_declared_100_mb_upload_is_refused_before_its_body_is_sent(server):
    token = signed_in(server, "127.0.4.3").headers["Authorization"]
    head = (
        "POST /api/v1/documents/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {token}\r\n"
        "Content-Type: multipart/form-data; boundary=zz\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
    ).encode()
    started = time.monotonic()
    answer = raw_request(server, head)  # not one byte of the body
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5
    assert b'"Request body too large"' in answer


def test_a_chunked_body_is_read_no_further_than_the_limit(server):
    token = signed_in(server, "127.0.4.4").headers["Authorization"]
    head = (
        "POST /api/v1/documents/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {token}\r\n"
        "Content-Type: multipart/form-data; boundary=zz\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    count = 2 * REQUEST_MAX_BYTES // 65536
    answer = raw_request(server, head, [chunk] * count + [b"0\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_the_schema_declares_the_api_key_and_the_real_document_limit(server):
    schema = httpx.get(f"{server.url}/api/schema/?format=json", timeout=30).json()
    assert "apiKeyAuth" in schema["components"]["securitySchemes"]
    body = schema["components"]["schemas"]["ConversationDocumentsInputRequest"]
    assert body["properties"]["document_ids"]["maxItems"] == 20
