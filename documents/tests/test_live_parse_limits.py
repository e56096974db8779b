"""The small PDF bomb against the running product (`manage.py serve`, its worker in the
same process), driven over plain HTTP as outside clients drove it: the text cap, the
parse's CPU-time bound, and a cancel that stops the CPU use within a second."""

import json
import os
import re
import time
from pathlib import Path

import httpx
import pytest

from conversations.tests.browser_support import ProductServer
from documents.testing.pdf import operator_bomb

pytestmark = pytest.mark.timeout(300)

USERNAME, PASSWORD = "petra", "a-long-practice-passphrase"
PARSE_SECONDS = 3
MAX_TEXT_CHARS = 12_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    product = ProductServer(
        tmp_path_factory.mktemp("bomb"),
        script={"default": {"text": "Good question.", "chunk_size": 8, "delay": 0}},
        env={
            "LOG_FORMAT": "json",
            "DOCUMENT_PARSE_SECONDS": str(PARSE_SECONDS),
            "DOCUMENT_MAX_TEXT_CHARS": str(MAX_TEXT_CHARS),
            "JOB_HEARTBEAT_SECONDS": "30",  # a cancel must not wait for the heartbeat
        },
    )
    product.start()
    product.sign_up(USERNAME, PASSWORD, native_language="es", target_language="en", level="B1")
    try:
        yield product
    finally:
        product.stop()


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        token = client.post(
            "/api/v1/auth/token/", json={"username": USERNAME, "password": PASSWORD}
        ).json()["access"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def uploaded(http: httpx.Client, name: str, data: bytes) -> int:
    response = http.post("/api/v1/documents/", files={"file": (name, data, "application/pdf")})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def ended(http: httpx.Client, pk: int, timeout: float = 120) -> tuple[dict, float]:
    """The ingestion once it ended, and how long after the call."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        ingestion = http.get(f"/api/v1/documents/{pk}/").json()["ingestion"]
        if ingestion["status"] in ("done", "failed", "cancelled"):
            return ingestion, time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"document {pk} still {ingestion['status']} after {timeout} s")


def parse_pids(server: ProductServer) -> list[int]:
    pids = []
    for line in server.log().splitlines():
        if line.startswith("{") and "Parsing a pdf in process" in line:
            pids.append(int(re.search(r"process (\d+)", json.loads(line)["event"]).group(1)))
    return pids


def stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the name, or None once the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    return None if fields[0] == "Z" else fields


def cpu_seconds(pid: int) -> float:
    fields = stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def test_a_small_pdf_past_the_text_cap_fails_naming_it(http):
    ingestion, seconds = ended(http, uploaded(http, "pages.pdf", operator_bomb(20, 5_000)))
    assert ingestion["status"] == "failed"
    assert f"over {MAX_TEXT_CHARS:,} characters" in ingestion["error"]
    assert seconds < 20, seconds


def test_the_small_bomb_fails_at_its_cpu_seconds(http, server):
    bomb = operator_bomb(20, 200_000)  # some 200 CPU seconds of pypdf, unbounded
    assert len(bomb) < 20_000
    ingestion, seconds = ended(http, uploaded(http, "bomb.pdf", bomb))
    assert ingestion["status"] == "failed"
    assert f"the limit is {PARSE_SECONDS} seconds of work" in ingestion["error"]
    assert seconds < 2 * PARSE_SECONDS + 10, seconds
    assert stat(parse_pids(server)[-1]) is None
    print(f"the bomb failed after {seconds:.1f} s")


def test_cancel_stops_the_cpu_use_within_a_second(http, server):
    known = set(parse_pids(server))
    pk = uploaded(http, "other.pdf", operator_bomb(20, 200_001))  # not the same file again
    deadline = time.monotonic() + 60
    while not (new := set(parse_pids(server)) - known) and time.monotonic() < deadline:
        time.sleep(0.05)
    (pid,) = new
    while cpu_seconds(pid) < 0.5 and time.monotonic() < deadline:
        time.sleep(0.05)
    cancelled = time.monotonic()  # from the request: the kill may come before its answer
    assert http.post(f"/api/v1/documents/{pk}/cancel/").status_code == 200
    while stat(pid) is not None and time.monotonic() - cancelled < 5:
        time.sleep(0.02)
    stopped_after = time.monotonic() - cancelled
    assert stat(pid) is None
    assert stopped_after < 1.0, stopped_after
    # Nothing else goes on working on it: the server itself is near idle.
    before = cpu_seconds(server.process.pid)
    time.sleep(2)
    assert cpu_seconds(server.process.pid) - before < 0.5
    ingestion, _ = ended(http, pk, timeout=10)
    assert ingestion["status"] == "cancelled"
    print(f"cancel stopped the parse after {stopped_after:.2f} s")
