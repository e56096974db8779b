"""Feedback a learner can trust, timed: the model-free pass per sentence, and a learner's
message to its marks on their socket through the real product.

    .venv/bin/python bench/feedback.py                 # both parts
    .venv/bin/python bench/feedback.py --only pass     # the pass in-process, per sentence
    .venv/bin/python bench/feedback.py --only socket --messages 40

`pass`: the per-message pass (analysis.marks.model_free_pass: the model-free detectors,
ERRANT typing, the precision gate) on each sentence of the learner-English development
set, one at a time as messages arrive, after a warm-up; p50/p95/max per sentence.

`socket`: `manage.py serve` (uvicorn; SQLite, in-memory channel layer, worker threads in
the process) with a scripted tutor. A learner holds the events socket open and sends
messages (a new conversation each, so no reply stands in the way); timed from the POST
leaving the client to `analysis.message_checked` for that conversation on the socket.
Bars (issue: feedback a learner can trust): pass p95 <= 50 ms (goal 20), socket p95
<= 1 s (goal 0.3) on an idle machine.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after ROOT: bench/analysis.py is no package

from chat_turns import PYTHON, Processes, free_port, run_checked, wait_for_port  # noqa: E402

PASSWORD = "a-long-bench-passphrase"
SENTENCES = [
    "He go to school every day.",
    "I have went to Paris last year.",
    "I need an informations about the trip.",
    "My brother play football every weekend.",
    "The weather is nice today.",
    "She don't like coffee.",
    "We discussed about the problem yesterday.",
    "I recieved your letter.",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(values_ms: list[float]) -> dict:
    return {
        "n": len(values_ms),
        "p50_ms": round(statistics.median(values_ms), 1),
        "p95_ms": round(percentile(values_ms, 0.95), 1),
        "max_ms": round(max(values_ms), 1),
    }


# -- the pass, in-process ------------------------------------------------------------------


def time_the_pass(limit: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings

    from analysis import detectors, marks
    from analysis.core.schemas import UtteranceIn

    detectors.warm()
    path = Path(settings.ANALYSIS_DEV_DATA) / "dev_sentences.jsonl"
    texts = [json.loads(line)["source"] for line in path.read_text().splitlines() if line]
    texts = texts[:limit] if limit else texts
    marks.model_free_pass([UtteranceIn(key="warm", text=texts[0])])
    times = []
    for n, text in enumerate(texts):
        started = time.perf_counter()
        marks.model_free_pass([UtteranceIn(key=str(n), text=text)])
        times.append((time.perf_counter() - started) * 1000)
    return {"part": "pass", "sentences": str(path.name), **figures(times)}


# -- a message to its marks, through the product -------------------------------------------


def time_the_socket(messages: int) -> dict:
    from websockets.sync.client import connect

    run_dir = Path(tempfile.mkdtemp(prefix="feedback-bench-"))
    port = free_port()
    script = run_dir / "script.json"
    script.write_text(json.dumps({"default": {"text": "Tell me more!", "chunk_size": 8}}))
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(run_dir / "var"),
        "LLM_PROVIDER": "scripted",
        "LLM_SCRIPT_FILE": str(script),
        "LLM_DAILY_TOKEN_QUOTA": "0",
        "LLM_BACKGROUND_DAILY_TOKENS": "0",
        "LLM_INTEGRATION_DAILY_TOKENS": "0",
        "THROTTLE_USER": "100000/min",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env)
    sign_up = (
        "from accounts.services import learner_sign_up; "
        f"learner_sign_up(username='bench', password={PASSWORD!r}, "
        "native_language='es', target_language='en', level='B1')"
    )
    run_checked([PYTHON, "manage.py", "shell", "-c", sign_up], env)
    processes = Processes(run_dir)
    try:
        command = [PYTHON, "manage.py", "serve", "--port", str(port), "--server", "uvicorn"]
        processes.start("serve", command, env)
        wait_for_port(port, timeout=300)
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(
            f"{base}/api/v1/auth/token/", json={"username": "bench", "password": PASSWORD}
        ).json()["access"]
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        with connect(f"ws://127.0.0.1:{port}/ws/events/?token={token}") as socket:
            socket.recv(timeout=10)  # hello
            # The worker loads its models (spaCy, ERRANT, Harper, SymSpell...) before its
            # first claim: the first message waits for that; time only what follows.
            _one_message(api, socket, 0, timeout=600)
            times = [_one_message(api, socket, n) for n in range(messages)]
    finally:
        processes.stop()
    return {"part": "socket", "server": "uvicorn (embedded)", **figures(times)}


def _one_message(api: httpx.Client, socket, n: int, *, timeout: float = 30) -> float:
    text = SENTENCES[n % len(SENTENCES)]
    started = time.perf_counter()
    conversation_id = api.post("/api/v1/conversations/", json={"text": text}).json()["id"]
    while True:
        event = json.loads(socket.recv(timeout=timeout))
        if event.get("type") == "analysis.message_checked" and (
            event.get("conversation_id") == conversation_id
        ):
            elapsed = (time.perf_counter() - started) * 1000
            time.sleep(0.2)  # a learner does not send the next message the same instant
            return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["pass", "socket"])
    parser.add_argument("--sentences", type=int, default=0, help="0: the whole file")
    parser.add_argument("--messages", type=int, default=40)
    args = parser.parse_args()
    results = []
    if args.only in (None, "pass"):
        results.append(time_the_pass(args.sentences))
    if args.only in (None, "socket"):
        # A process of its own, so the pass's models loaded above do not share the cores.
        results.append(time_the_socket(args.messages))
    load = os.getloadavg()[0]
    for result in results:
        print(json.dumps({**result, "load_average": round(load, 2)}))


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
