"""From "End conversation" to the first lesson on the learner's socket, on the running
product with the built-in model, driven from outside as a learner's browser does.

    .venv/bin/python bench/end_to_lesson.py [--runs 5] [--messages 3]

Starts `manage.py serve` on the embedded defaults (SQLite, the built-in SmolLM2 model,
nothing scripted). Each run is a new learner who writes `--messages` sentences with real
mistakes through the REST API, waits for each reply and for the marks on each message
(the model-free check, within a second), opens her event socket (/ws/events/, a bearer
token) and ends the conversation. Measured: seconds from the End request to the first
`teaching.module_ready` frame, and to the events on the way (the clustering at End, the
model's last batch, the clustering after it), then how many lessons the conversation has
once the chain is through. Prints each run and p50 / p95.

2026-12-04, this machine (2 CPUs, nothing else running), SQLite, `--runs 6`:

    End -> first lesson, 6 runs of 3 messages, built-in model: p50 0.17 s, p95 0.33 s
      the model's last analysis batch landed: p50 65.97 s

Each run: the clustering at End over the checks 0.08-0.10 s, the lesson 0.16-0.33 s, one
lesson (agreement, which holds the marked mistakes). The model's batch came 30-122 s
later (its structured answers often fail their schema and are asked again, one sentence
at a time) and the clustering after it 0.05 s after that; the lessons stayed one. Before
the lessons started from the checks, the first lesson waited for that batch: 23.8 s in
bench/walkthrough.py's one run, 11-22 s per run in this benchmark's first version (the
same sentences for every learner, answered from the model's cache after the first).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a-long-practice-passphrase"
# Each learner writes of her own city: the same sentences again would be answered from
# the model's response cache, and the last batch would cost nothing.
SENTENCES = (
    "He go to school in {city} every day.",
    "My brother go to the gym in {city} every morning.",
    "She go to the park in {city} after school.",
    "She have two brothers in {city}.",
)
CITIES = ("Busan", "Lima", "Oslo", "Quito", "Porto", "Kyoto", "Lyon", "Cork", "Pune", "Riga")
SIGN_UP = """
from accounts.services import learner_sign_up
for name in {names!r}:
    learner_sign_up(username=name, password={password!r}, native_language='es',
                    target_language='en', level='B1')
"""


def wait_for(check, timeout: float, what: str):
    """ops.testing's wait, at a pace that leaves the server to the model: each look is a
    request. Imported here: that module needs Django set up, which main() does."""
    from ops.testing import wait_for as waited

    return waited(check, timeout, what, every=0.2)


def replied(http: httpx.Client, conversation: int, count: int) -> bool:
    messages = http.get(f"/api/v1/conversations/{conversation}/").json()["messages"]
    done = [m for m in messages if m["role"] == "assistant" and m["status"] != "streaming"]
    return len(done) >= count and messages[-1]["status"] in ("complete", "failed")


def checked(http: httpx.Client, conversation: int, count: int) -> bool:
    found = http.get(f"/api/v1/conversations/{conversation}/analysis/").json()
    return len(found["utterances"]) >= count


def chat(http: httpx.Client, sentences: tuple[str, ...]) -> int:
    """A conversation with one message per sentence, each replied to and marked."""
    created = http.post("/api/v1/conversations/", json={"text": sentences[0]})
    created.raise_for_status()
    conversation = created.json()["id"]
    wait_for(lambda: replied(http, conversation, 1), 300, "the first reply")
    for n, text in enumerate(sentences[1:], start=2):
        http.post(f"/api/v1/conversations/{conversation}/messages/", json={"text": text})
        wait_for(lambda n=n: replied(http, conversation, n), 300, f"reply {n}")
    wait_for(lambda: checked(http, conversation, len(sentences)), 60, "the marks")
    return conversation


def end_and_time(server_url: str, http: httpx.Client, conversation: int) -> dict[str, float]:
    """Seconds from End to each first event of the chain: the first lesson, the model's
    last batch, and the clusterings (at End over the checks, and after the batch; the
    two can land in either order when the model answers fast)."""
    seen: dict[str, float] = {}
    clusterings = 0
    with connect(
        server_url.replace("http://", "ws://") + "/ws/events/",
        additional_headers={"Authorization": http.headers["Authorization"]},
        origin=server_url,
        open_timeout=30,
    ) as socket:
        started = time.perf_counter()
        http.post(f"/api/v1/conversations/{conversation}/end/").raise_for_status()
        while not _chain_done(seen, clusterings, time.perf_counter() - started):
            if time.perf_counter() - started > 600:
                raise SystemExit(f"The chain did not finish within 600 s; events seen: {seen}")
            try:
                kind = json.loads(socket.recv(timeout=1)).get("type", "?")
            except TimeoutError:
                continue
            at = time.perf_counter() - started
            if kind == "analysis.clustering_completed":
                clusterings += 1
                kind = f"clustering {clusterings}"
            seen.setdefault(kind, at)
    return seen


def _chain_done(seen: dict[str, float], clusterings: int, now: float) -> bool:
    if "teaching.module_ready" not in seen or "analysis.batch_completed" not in seen:
        return False
    # Two clusterings, or one (no check marked anything at End) and 10 s of quiet.
    return clusterings >= 2 or now - seen["analysis.batch_completed"] > 10


def lessons(http: httpx.Client, conversation: int) -> int:
    found = http.get(f"/api/v1/conversations/{conversation}/lessons/").json()
    return len(found["modules"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=3, choices=range(1, len(SENTENCES) + 1))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench import common
    from conversations.tests.browser_support import ProductServer

    product = ProductServer(
        Path(tempfile.mkdtemp(prefix="end-to-lesson-")), script={}, env={"LLM_PROVIDER": "local"}
    )
    names = [f"learner{n}" for n in range(args.runs)]
    firsts, batches = [], []
    try:
        product.start()
        product.manage("shell", "-c", SIGN_UP.format(names=names, password=PASSWORD))
        for name in names:
            with httpx.Client(base_url=product.url, timeout=60) as http:
                token = http.post(
                    "/api/v1/auth/token/", json={"username": name, "password": PASSWORD}
                ).json()["access"]
                http.headers["Authorization"] = f"Bearer {token}"
                city = CITIES[names.index(name) % len(CITIES)]
                said = tuple(t.format(city=city) for t in SENTENCES[: args.messages])
                conversation = chat(http, said)
                seen = end_and_time(product.url, http, conversation)
                time.sleep(2)  # the lessons' run again, after the last clustering
                made = lessons(http, conversation)
            first = seen["teaching.module_ready"]
            firsts.append(first)
            batch = seen.get("analysis.batch_completed")
            if batch is not None:
                batches.append(batch)
            chain = ", ".join(
                f"{kind} {at:.2f} s" for kind, at in sorted(seen.items(), key=lambda kv: kv[1])
            )
            print(
                f"{name}: first lesson {first:.2f} s after End ({chain}); {made} lessons",
                flush=True,
            )
    except BaseException:
        print(product.log()[-4000:], file=sys.stderr)
        raise
    finally:
        product.stop()
    print(
        f"End -> first lesson, {len(firsts)} runs of {args.messages} messages, built-in model: "
        f"p50 {statistics.median(firsts):.2f} s, p95 {common.percentile(firsts, 95):.2f} s, "
        f"max {max(firsts):.2f} s"
    )
    if batches:
        print(f"  the model's last analysis batch landed: p50 {statistics.median(batches):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
