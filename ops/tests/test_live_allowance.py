"""Background work against the running product (`manage.py serve`), driven from outside as
an integration and a learner would: an integration's analysis past its allowance waits
for the allowance to renew (deferred, not failed, no traceback), and the learner's chat
goes on although the background work spent more than her whole chat allowance."""

import json
import time

import httpx
import pytest

from conversations.tests.browser_support import ProductServer

pytestmark = pytest.mark.timeout(300)

USERNAME, PASSWORD = "greta", "a-long-practice-passphrase"
CHAT_TOKENS = 2000
INTEGRATION_TOKENS = 3000  # more than her whole chat allowance
LEARNER_LINES = 30

SETUP = f"""
from accounts.services import learner_sign_up
from analysis.models import Integration, IntegrationAPIKey, IntegrationLearner
user = learner_sign_up(username={USERNAME!r}, password={PASSWORD!r},
    native_language='es', target_language='en', level='B1')
integration = Integration.objects.create(name='Tutoring app')
IntegrationLearner.objects.create(integration=integration, external_id='L-1', user=user)
_, key = IntegrationAPIKey.objects.create_key(name='tutoring', integration=integration)
print(key)
"""

SPENT = """
import json
from django.db.models import Sum
from llm.models import LLMCall
rows = LLMCall.objects.exclude(kind='embed').values('allowance', 'integration')
print(json.dumps([
    {**row, 'tokens': (row['p'] or 0) + (row['c'] or 0)}
    for row in rows.annotate(p=Sum('prompt_tokens'), c=Sum('completion_tokens'))
]))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    product = ProductServer(
        tmp_path_factory.mktemp("allowance"),
        script={"default": {"text": "Good question.", "chunk_size": 8, "delay": 0}},
        env={
            "LOG_FORMAT": "json",
            "LLM_DAILY_TOKEN_QUOTA": str(CHAT_TOKENS),
            "LLM_INTEGRATION_DAILY_TOKENS": str(INTEGRATION_TOKENS),
            "ANALYSIS_BATCH_SIZE": "5",
            "ANALYSIS_DETECTORS": "model",
            # A sweeper that looks often and calls a queued row lost quickly: it must
            # still leave a deferred batch to its own time.
            "JOBS_SWEEP_SECONDS": "0.5",
            "JOB_QUEUED_STALE_SECONDS": "1",
        },
    )
    product.start()
    product.key = product.manage("shell", "-c", SETUP).strip().splitlines()[-1]
    try:
        yield product
    finally:
        product.stop()


def integration_posts(server: ProductServer) -> httpx.Client:
    http = httpx.Client(
        base_url=server.url, timeout=30, headers={"Authorization": f"Api-Key {server.key}"}
    )
    for n in range(1, LEARNER_LINES + 1):
        response = http.post(
            "/api/v1/analysis/conversations/c1/messages/",
            json={
                "message_id": f"m{n}",
                "speaker": "Ana",
                "role": "learner",
                "text": f"Yesterday I goed to the shop {n} times with my friends.",
                "sent_at": f"2026-11-30T09:{n:02d}:00Z",
                "learner": "L-1",
            },
        )
        assert response.status_code == 201, response.text
    assert http.post("/api/v1/analysis/conversations/c1/end/").status_code == 200
    return http


def batches_when(http: httpx.Client, ready, timeout: float = 120) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = http.get("/api/v1/analysis/conversations/c1/").json()["analysis"]["batches"]
        if ready(found):
            return found
        time.sleep(0.25)
    raise AssertionError(f"The batches never got there: {found}")


def deferred(batch: dict) -> bool:
    return batch["status"] == "queued" and "allowance" in batch["error"]


def test_background_work_past_its_allowance_waits_and_the_chat_goes_on(server):
    integration = integration_posts(server)
    try:
        found = batches_when(integration, lambda batches: any(deferred(b) for b in batches))
        waiting = next(b for b in found if deferred(b))
        spent = json.loads(server.manage("shell", "-c", SPENT).strip().splitlines()[-1])

        # The sweeper runs every half second and gives a queued row up after one: the
        # deferred batch still waits for midnight, its attempt count untouched.
        time.sleep(3)
        again = integration.get("/api/v1/analysis/conversations/c1/").json()
    finally:
        integration.close()
    background = sum(r["tokens"] for r in spent if r["allowance"] == "background")
    assert background >= INTEGRATION_TOKENS > CHAT_TOKENS
    assert all(r["integration"] is not None for r in spent if r["allowance"] == "background")
    assert not any(b["status"] == "failed" for b in found)
    later = {b["id"]: b for b in again["analysis"]["batches"]}[waiting["id"]]
    assert (later["status"], later["attempts"]) == ("queued", waiting["attempts"])

    # She never chatted, yet before the allowances were split this was a 429.
    with httpx.Client(base_url=server.url, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token/", json={"username": USERNAME, "password": PASSWORD}
        ).json()["access"]
        http.headers["Authorization"] = f"Bearer {token}"
        created = http.post("/api/v1/conversations/", json={"text": "Hello, how are you?"})
        assert created.status_code == 201, created.text
        reply = reply_of(http, created.json()["id"])
    assert reply["content"] == "Good question."

    log = server.log()
    assert "Traceback" not in log
    warnings = [
        json.loads(line)
        for line in log.splitlines()
        if line.startswith("{") and "deferred until" in line
    ]
    assert warnings and {w["level"] for w in warnings} == {"warning"}
    assert all("exception" not in w for w in warnings)


def reply_of(http: httpx.Client, conversation_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = http.get(f"/api/v1/conversations/{conversation_id}/").json()["messages"]
        last = messages[-1]
        if last["role"] == "assistant" and last["status"] in ("complete", "failed"):
            return last
        time.sleep(0.2)
    raise AssertionError(f"No reply came: {messages}")
