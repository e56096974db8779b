"""Chat turns under load: what the product adds to the model's time to first token.

Starts an OpenAI-compatible test model (llm.testing.openai_stub) that streams at a fixed
pace after a fixed first-token delay, then the product, in one of two modes:

- embedded: `manage.py serve` (ASGI server + worker threads in one process, SQLite,
  in-memory channel layer);
- pg: the ASGI server on config.asgi:application and a separate `manage.py db_worker`,
  on a scratch PostgreSQL database and Redis (channel layer).

N learners each sign in over HTTP (JWT), open a conversation, connect its websocket, then
send turns over REST, each after reading the last reply and typing for a while (`--think`,
uniform between half and one and a half times the mean; the first turn too, so learners
do not all press send in the same millisecond). `--think 0` sends back to back: a
saturation test. The first `reply.delta` of each reply is timed. Reported: added
first-token latency (learner-seen TTFT minus the model's own delay) p50/p95, turns per
second, lost and duplicated replies, CPU per turn by process, and where the time goes.

    .venv/bin/python bench/chat_turns.py                    # both modes, both servers
    .venv/bin/python bench/chat_turns.py --mode pg --server uvicorn --learners 20 --turns 10
    .venv/bin/python bench/chat_turns.py --think 0          # saturation
    .venv/bin/python bench/chat_turns.py --server uvicorn --conversation rag
    .venv/bin/python bench/chat_turns.py --mode pg --server uvicorn --image IMAGE

`--image`: the web (Uvicorn) and worker processes run from that container image with podman
(host network, production settings) instead of this checkout; the learners, the model
stub, PostgreSQL and Redis stay on this machine (ops/container/build.sh builds the image).

`--conversation rag`: each learner first uploads the retrieval evaluation's three
documents (documents/tests/eval; a worker ingests them before the clock starts), opens a
`rag` conversation over them and asks the evaluation's questions, so every turn retrieves
and cites real passages. Compare with the default `open` run for what retrieval adds.

Needs PostgreSQL (DATABASE_URL-style --pg-url, trust auth) and Redis (--redis-url) for the
pg mode. Logs of every process go to bench/out/<mode>-<server>/. Run one at a time: runs
share the scratch database.

Measured on the development machine: 2 cores, shared with the benchmark's own learners,
the model stub, PostgreSQL and Redis. Stub: 0.2 s to the first token, then 20 ms per token,
14 tokens. 20 learners x 10 measured turns; medians of three runs.

    20 learners, 1-3 s between turns (--think 2, the default)
    mode      server   added TTFT p50 / p95 ms  turns/s  lost  dup  CPU ms per turn
    embedded  daphne   22.1 / 46.8              6.9      0     0    serve 33.8
    embedded  uvicorn  20.0 / 39.7              7.0      0     0    serve 30.1
    pg        daphne   29.8 / 49.0              7.0      0     0    web 18.8 + worker 22.9
    pg        uvicorn  29.5 / 49.0              7.0      0     0    web 16.4 + worker 22.3

    where the time goes, p50 / p95 ms (uvicorn)
              request      queue       context    model client  delivery
    embedded  6.9 / 15.8   4.8 / 11.4  4.1 / 7.9  3 / 5         0.7 / 4.4
    pg        10.7 / 20.2  9.2 / 17.8  4.8 / 8.2  2 / 5         1.6 / 4.1

    request: POST sent -> message stored (HTTP, auth, the conversation's lock); queue:
    stored -> a worker claims the reply; context: claimed -> the model call starts;
    model client: the call starts -> first token, less the model's delay; delivery:
    first token -> the learner's socket has it (store, publish, relay).

    faster learners (uvicorn, one run each)
    --think 1    embedded 22.5 / 50.5 (12.0 turns/s)   pg 28.9 / 51.0 (11.5 turns/s)
    --think 0.5  embedded 29.1 / 77.1 (17.6 turns/s)   pg 42.0 / 75.0 (18.0 turns/s)

    back to back (--think 0), a saturation test
    embedded  daphne   160.4 / 299.4            27.7     0     0    serve 31.1
    embedded  uvicorn  121.4 / 264.1            29.0     0     0    serve 29.2
    pg        daphne   127.1 / 293.7            29.1     0     0    web 16.0 + worker 19.2
    pg        uvicorn  109.9 / 281.2            30.2     0     0    web 14.3 + worker 19.5

The targets (20 learners: added p50 <= 50 ms, p95 <= 150 ms, nothing lost or duplicated)
are met in both modes with both servers, up to about 18 turns/s. Back to back, 20
learners ask for up to ~40 turns/s; the machine saturates near 29 turns/s (the embedded
mode on its one GIL, pg mode on the two cores it shares with PostgreSQL, Redis, the stub
and the learners) and the added latency is queueing for CPU: request and queue grow,
the model client and delivery do not. What bounds a turn, and what was done about it:

- the worker's poll interval: gone from the path. A queued task wakes an idle worker at
  once (in-process event; Redis pub/sub across processes); polling is only the fallback.
  Queue p50 is 5 ms embedded, 9 ms across processes;
- commits per delta: one plain UPDATE per flush, at most one per REPLY_FLUSH_SECONDS
  (30 ms) per reply, stored before it is published; the first delta is never held. On
  SQLite, one process's writers take turns on a lock rather than sleeping in SQLite's
  busy handler (1 to 100 ms naps), which halved the slowest back-to-back turn;
- the channel layer: one group_send per flush. With Redis, the pub/sub layer (one
  PUBLISH) replaced channels_redis.core (several round trips and a polling receiver):
  delivery p50 117-148 -> 5 ms back to back;
- CPU per turn, profiled with py-spy: Django now runs the middleware chain in one thread
  instead of hopping per middleware (GET /api/v1/me 5.95 -> 4.33 ms); the model client
  posts ChatOpenAI's request through the SDK client without the SDK's per-request type
  walk and reads chunks as dicts (5.7 -> 1.5 ms CPU per reply); Uvicorn's per-message
  deflate and access log are off. Serve CPU per turn went from 54-79 ms to ~30 ms;
- an earlier version of this benchmark released all learners at one instant, so every
  learner's first turn arrived in the same millisecond; that burst alone made its p95.

Uvicorn is the one to run in production (the Procfile does): less CPU per turn than
Daphne in both modes and lower latency at saturation.

Grounded (rag) turns against open ones, 2026-12-02, on another machine of the same size
(uvicorn, 20 learners, --think 2, one run each, load average 1.6-3.8 while it ran):

    mode      conversation  added TTFT p50 / p95 ms  context p50 / p95 ms  CPU ms per turn
    embedded  open          144.2 / 1463.2           25.7 / 126.3          serve 125.5
    embedded  rag           173.9 / 608.4            64.8 / 208.1          serve 115.5
    pg        open          130.8 / 483.3            20.9 / 64.3           web 47.7 + worker 91
    pg        rag           230.8 / 756.1            79.8 / 267.2          web 50.1 + worker 101

A rag turn adds its retrieval to the context segment: p50 +39 ms embedded, +59 ms pg
under this load (in isolation, bench/rag.py: prompt building +13.7 ms p50, +18.0 ms p95).
The end-to-end p95s of single runs are noisy. On that machine every figure above, open
turns included, is several times the November ones: the open baseline is the same with
analysis switched off (ANALYSIS_BATCH_SIZE=1000000: embedded 110.5 / 243.1, pg 133.9 /
399.8; web 50 ms of CPU per turn against 16.4 in November), so the difference is the
machine or what the chat path gained since, not analysis; not yet explained. Before
the workers loaded spaCy, ERRANT and wordllama at start (WORKER_WARMUPS), the first
analysis batches loaded them mid-chat and held the GIL for seconds: pg open p95 1693 ms.

The same comparison on an idle machine, 2026-12-03 (uvicorn, 20 learners, --think 2;
embedded one run each, pg two open and three rag runs):

    mode      conversation  added TTFT p50 / p95 ms           context p50 / p95 ms
    embedded  open          29.1 / 87.4                       5.9 / 14.6
    embedded  rag           39.6 / 97.2                       14.0 / 36.9
    pg        open          36.5 / 76.9; 58.5 / 148.9         6.2-9.5 / 17.4-28.8
    pg        rag           77.9 / 293.8; 84.2 / 248.9;       19.9-26.5 / 87.2-111.4
                            63.3 / 209.5

There the open baseline is back near the November figures, so the machine made most of
the difference above. A rag turn adds about +10 ms p50 and +10 ms p95 embedded, and on pg
about +30 ms p50 and +100-150 ms p95 (medians of the runs). Its retrieval runs in the
worker beside the other learners' streaming replies, so under this load the context
segment's tail grows to ~100 ms against ~10 ms for the same prompt building alone.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable
PASSWORD = "bench-password-not-secret-1"
STUB_TEXT = "Sure! Here is a short answer from the test model, one token at a time."
TURN_TIMEOUT = 60.0


# --- Processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


class Processes:
    """Child processes with their logs; stopped gently (SIGINT), then firmly."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen]] = []
        # A container's process, whose CPU counts instead of its podman client's.
        self.measured_pids: dict[str, int] = {}
        self.containers: list[str] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        (self.log_dir / f"{name}.pid").write_text(str(process.pid))
        self.children.append((name, process))
        return process

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each child has used so far, from /proc."""
        tick = os.sysconf("SC_CLK_TCK")
        used = {}
        for name, process in self.children:
            pid = self.measured_pids.get(name, process.pid)
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                used[name] = (int(fields[11]) + int(fields[12])) / tick
        return used

    def stop(self) -> None:
        for _, process in reversed(self.children):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for _, process in reversed(self.children):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for name in self.containers:
            remove = ["podman", "rm", "-f", "-t", "5", name]
            subprocess.run(remove, capture_output=True, check=False)


def run_checked(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


# --- The learner's side -----------------------------------------------------------------


@dataclass
class ReplyView:
    """One reply as a client assembles it from events (the protocol's rules)."""

    first_delta_at: float | None = None
    text: str = ""
    deltas: int = 0
    overlaps: int = 0
    gaps: int = 0
    final: dict | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    first: asyncio.Event = field(default_factory=asyncio.Event)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Socket:
    """Reads one conversation's events in the background, reply by reply."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.replies: dict[int, ReplyView] = {}
        self.resumes = 0
        self.task = asyncio.create_task(self.read())

    def reply(self, seq: int) -> ReplyView:
        return self.replies.setdefault(seq, ReplyView())

    async def read(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            event = json.loads(raw)
            kind, seq = event.get("type"), event.get("seq")
            if kind == "reply.delta":
                await self.on_delta(self.reply(seq), event, now)
            elif kind in ("reply.completed", "reply.failed"):
                view = self.reply(seq)
                view.final = event["message"]
                view.done.set()
                view.first.set()
            elif kind == "message.created" and event["message"]["role"] == "assistant":
                message = event["message"]
                view = self.reply(seq)
                if message["status"] in ("complete", "failed", "cancelled"):
                    view.final = message
                    view.done.set()
                    view.first.set()
                elif len(message["content"]) > len(view.text):
                    view.text = message["content"]

    async def on_delta(self, view: ReplyView, event: dict, now: float) -> None:
        if view.final is not None:
            return
        if view.first_delta_at is None:
            view.first_delta_at = now
            view.first.set()
        view.deltas += 1
        have = utf16_len(view.text)
        if event["offset"] > have:
            view.gaps += 1
            self.resumes += 1
            await self.ws.send(json.dumps({"type": "resume", "after_seq": event["seq"] - 1}))
            return
        if event["offset"] < have:
            view.overlaps += 1
        skip = have - event["offset"]
        encoded = event["text"].encode("utf-16-le")[2 * skip :]
        view.text += encoded.decode("utf-16-le")


@dataclass
class Turn:
    ttft: float | None
    post_seconds: float
    ok: bool
    lost: bool
    reply_id: int | None
    sent_at: float = 0.0  # wall clock, to line the turn up with the server's timestamps


async def learner(
    index: int,
    base_url: str,
    ws_url: str,
    turns: int,
    start: asyncio.Barrier,
    think: float,
    questions: list[str] | None,
) -> tuple[list[Turn], int, int]:
    import httpx
    import websockets

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        token = await http.post(
            "/api/v1/auth/token/", json={"username": f"bench{index}", "password": PASSWORD}
        )
        token.raise_for_status()
        auth = {"Authorization": f"Bearer {token.json()['access']}"}
        http.headers.update(auth)
        opening = {"text": f"Hello, I am learner {index}."}
        if questions:
            documents = (await http.get("/api/v1/documents/")).json()["results"]
            opening |= {"mode": "rag", "document_ids": [d["id"] for d in documents]}
        created = await http.post("/api/v1/conversations/", json=opening)
        conversation = created.json()
        url = f"{ws_url}/ws/conversations/{conversation['id']}/"
        async with websockets.connect(url, additional_headers=auth, max_queue=None) as ws:
            sock = Socket(ws)
            await ws.send(json.dumps({"type": "resume", "after_seq": 0}))
            await asyncio.wait_for(sock.reply(2).done.wait(), TURN_TIMEOUT)  # warm-up turn
            await start.wait()
            results = []
            for number in range(turns):
                if think:
                    # Reading the last reply and typing the next turn; spread so learners
                    # do not send in lockstep (the first turn too).
                    await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))
                text = (
                    questions[(index + number) % len(questions)]
                    if questions
                    else f"Turn {number} of learner {index}: how do I say this?"
                )
                results.append(await one_turn(http, sock, conversation["id"], text))
            sock.task.cancel()
            return results, sock.resumes, conversation["id"]


async def one_turn(http, sock: Socket, conversation_id: int, text: str) -> Turn:
    sent_at = time.time()
    started = time.perf_counter()
    response = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages/",
        json={"text": text},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    posted = time.perf_counter() - started
    if response.status_code != 202:
        return Turn(None, posted, ok=False, lost=True, reply_id=None, sent_at=sent_at)
    reply = response.json()["reply"]
    view = sock.reply(reply["seq"])
    try:
        await asyncio.wait_for(view.done.wait(), TURN_TIMEOUT)
    except TimeoutError:
        return Turn(None, posted, ok=False, lost=True, reply_id=reply["id"], sent_at=sent_at)
    final = view.final or {}
    ok = final.get("status") == "complete" and final.get("content") == STUB_TEXT
    ttft = None if view.first_delta_at is None else view.first_delta_at - started
    return Turn(
        ttft,
        posted,
        ok=ok and view.text in ("", STUB_TEXT),
        lost=False,
        reply_id=reply["id"],
        sent_at=sent_at,
    )


async def drive(
    base_url: str,
    ws_url: str,
    learners: int,
    turns: int,
    processes,
    think: float = 0.0,
    questions: list[str] | None = None,
) -> dict:
    start = asyncio.Barrier(learners + 1)
    tasks = [
        asyncio.create_task(learner(i, base_url, ws_url, turns, start, think, questions))
        for i in range(learners)
    ]
    # A learner that fails before the barrier would leave it waiting forever: fail instead.
    barrier = asyncio.create_task(start.wait())
    done, _ = await asyncio.wait([barrier, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not barrier:
            barrier.cancel()
            task.result()  # raises the learner's error
            raise RuntimeError("a learner finished before the measured turns began")
    began = time.perf_counter()
    cpu_before = {**processes.cpu_seconds(), "client": time.process_time()}
    outcomes = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    cpu_after = {**processes.cpu_seconds(), "client": time.process_time()}
    return {
        "cpu": {name: cpu_after[name] - cpu_before.get(name, 0) for name in cpu_after},
        "load": os.getloadavg()[0],
        "turns": [turn for outcome in outcomes for turn in outcome[0]],
        "resumes": sum(outcome[1] for outcome in outcomes),
        "conversations": [outcome[2] for outcome in outcomes],
        "elapsed": elapsed,
    }


# --- One configuration ------------------------------------------------------------------


def product_env(args, mode: str, stub_port: int, run_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Every simulated learner signs in from 127.0.0.1: lift the per-address limit.
        "THROTTLE_SIGN_IN": "10000/min",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "LLM_PROVIDER": "openai",
        "LLM_MODEL": "stub-model",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{stub_port}/v1",
        "OPENAI_API_KEY": "bench",
        "LLM_DAILY_TOKEN_QUOTA": "0",
        "LLM_BACKGROUND_DAILY_TOKENS": "0",
        "LLM_INTEGRATION_DAILY_TOKENS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "VAR_DIR"):
        env.pop(name, None)
    if mode == "embedded":
        env["VAR_DIR"] = str(run_dir / "var")
    else:
        env["DATABASE_URL"] = args.pg_url
        env["REDIS_URL"] = args.redis_url
        env["CHANNEL_PREFIX"] = f"bench{uuid.uuid4().hex[:8]}"
    return env


def scratch_postgres(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def web_command(server: str, port: int) -> list[str]:
    if server == "daphne":
        return [
            PYTHON,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ]
    return [
        PYTHON, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
        "--port", str(port), "--lifespan", "on", "--log-level", "warning",
        "--no-access-log", "--ws-per-message-deflate", "false",
    ]  # fmt: skip


CONTAINER_ENV = (
    "DATABASE_URL", "REDIS_URL", "CHANNEL_PREFIX", "THROTTLE_SIGN_IN", "LOG_LEVEL",
    "LLM_PROVIDER", "LLM_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "LLM_DAILY_TOKEN_QUOTA",
    "LLM_BACKGROUND_DAILY_TOKENS", "LLM_INTEGRATION_DAILY_TOKENS",
)  # fmt: skip


def podman_ready(image: str) -> None:
    """Some sandboxes need runc and lower limits (ops/container/podman-sandbox.conf)."""
    probe = ["podman", "run", "--rm", "--network", "none", "--entrypoint", "true", image]
    if "CONTAINERS_CONF" in os.environ:
        return
    if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return
    os.environ["CONTAINERS_CONF"] = str(ROOT / "ops" / "container" / "podman-sandbox.conf")
    subprocess.run(probe, check=True, capture_output=True)


def container_command(image: str, name: str, role: str, env: dict[str, str], port: int) -> list:
    settings = {name: env[name] for name in CONTAINER_ENV if name in env}
    settings |= {
        "SECRET_KEY": f"bench-{uuid.uuid4().hex}-{uuid.uuid4().hex}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "HOST": "127.0.0.1",
        "WEB_PORT": str(port),
    }
    flags = [f"--env={key}={value}" for key, value in settings.items()]
    return ["podman", "run", "--rm", "--name", name, "--network", "host", *flags, image, role]


def container_pid(name: str, timeout: float = 60.0) -> int:
    """The container's main process: the child of its PID 1 (tini)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inspect = ["podman", "inspect", "--format", "{{.State.Pid}}", name]
        found = subprocess.run(inspect, capture_output=True, text=True, check=False)
        init = found.stdout.strip()
        if found.returncode == 0 and init not in ("", "0"):
            with contextlib.suppress(OSError, ValueError):
                children = Path(f"/proc/{init}/task/{init}/children").read_text().split()
                if children:
                    return int(children[0])
        time.sleep(0.2)
    raise RuntimeError(f"container {name} did not start")


def one_configuration(args) -> dict:
    """Runs in its own process: Django is configured once per process."""
    run_dir = OUT / f"{args.mode}-{args.server}"
    run_dir.mkdir(parents=True, exist_ok=True)
    stub_port, web_port = free_port(), free_port()
    if args.image:
        podman_ready(args.image)  # before the environment is copied: it may set CONTAINERS_CONF
    env = product_env(args, args.mode, stub_port, run_dir)
    os.environ.update(env)
    for name in ("DATABASE_URL", "REDIS_URL", "VAR_DIR"):
        if name not in env:
            os.environ.pop(name, None)
    if args.mode == "pg":
        scratch_postgres(args.pg_url)
    else:
        (run_dir / "var" / "db.sqlite3").unlink(missing_ok=True)
    run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env)
    make_learners(args.learners)
    questions = attach_study_material(args.learners) if args.conversation == "rag" else None

    processes = Processes(run_dir)
    try:
        stub = [
            PYTHON, "-m", "llm.testing.openai_stub", "--port", str(stub_port),
            "--first-token-delay", str(args.first_token_delay),
            "--token-delay", str(args.token_delay), "--text", STUB_TEXT,
        ]  # fmt: skip
        processes.start("stub", stub, env)
        if args.mode == "embedded":
            serve = [PYTHON, "manage.py", "serve", "--server", args.server, "--port", str(web_port)]
            processes.start("serve", serve, env)
        elif args.image:
            for role in ("web", "worker"):
                name = f"bench-{role}-{uuid.uuid4().hex[:8]}"
                processes.containers.append(name)
                processes.start(role, container_command(args.image, name, role, env, web_port), env)
                processes.measured_pids[role] = container_pid(name)
        else:
            processes.start("web", web_command(args.server, web_port), env)
            worker = [PYTHON, "manage.py", "db_worker", "--queue-name", "*", "-v", "0"]
            processes.start("worker", worker, env)
        wait_for_port(stub_port)
        wait_for_port(web_port)
        result = asyncio.run(
            drive(
                f"http://127.0.0.1:{web_port}",
                f"ws://127.0.0.1:{web_port}",
                args.learners,
                args.turns,
                processes,
                args.think,
                questions,
            )
        )
    finally:
        processes.stop()
    return summarise(args, result)


def make_learners(count: int) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from bench.common import learner

    existing = set(get_user_model().objects.values_list("username", flat=True))
    for index in range(count):
        if f"bench{index}" not in existing:
            learner(f"bench{index}", password=PASSWORD, email="")


def attach_study_material(count: int) -> list[str]:
    """Each learner uploads their own copy of the retrieval evaluation's documents, which
    a worker ingests before the run; the learners then ask its questions, so every rag
    turn retrieves real passages."""
    from django.contrib.auth import get_user_model

    from documents.services import document_upload
    from documents.testing import evaluation
    from ops.management.commands.db_worker import ConcurrentWorker

    for index in range(count):
        learner = get_user_model().objects.get(username=f"bench{index}")
        for filename, data in evaluation.corpus().values():
            document_upload(owner=learner, filename=filename, data=data)
    ConcurrentWorker.for_all_queues(threads=2, worker_id="bench-ingest", batch=True).run()
    return [question.q for question in evaluation.questions()]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarise(args, result: dict) -> dict:
    turns: list[Turn] = result["turns"]
    added = [(t.ttft - args.first_token_delay) * 1000 for t in turns if t.ttft is not None]
    stored = stored_replies(result["conversations"], args.turns)
    segments = server_side(args, turns)
    return {
        "mode": f"{args.mode}+image" if args.image else args.mode,
        "server": args.server,
        "conversation": args.conversation,
        "learners": args.learners,
        "think_s": args.think,
        "turns": len(turns),
        "added_ttft_p50_ms": round(percentile(added, 0.50), 1),
        "added_ttft_p95_ms": round(percentile(added, 0.95), 1),
        "added_ttft_max_ms": round(max(added, default=float("nan")), 1),
        "post_p50_ms": round(percentile([t.post_seconds * 1000 for t in turns], 0.5), 1),
        "turns_per_second": round(len(turns) / result["elapsed"], 2),
        "lost": sum(t.lost for t in turns) + stored["lost"],
        "duplicated": stored["duplicated"],
        "wrong_text": sum(not t.ok and not t.lost for t in turns),
        "resumes": result["resumes"],
        # CPU milliseconds per turn by process, and the machine's load while measuring.
        "cpu_ms_per_turn": {
            name: round(seconds * 1000 / max(len(turns), 1), 1)
            for name, seconds in result["cpu"].items()
        },
        "load_average": round(result["load"], 2),
        "segments_p50_p95_ms": segments,
    }


def stored_replies(conversation_ids: list[int], turns: int) -> dict:
    """From the database: every learner message has exactly one complete reply."""
    from conversations.models import Message

    lost = duplicated = 0
    for conversation_id in conversation_ids:
        messages = list(Message.objects.filter(conversation_id=conversation_id).order_by("seq"))
        users = [m for m in messages if m.role == "user"]
        for user in users:
            replies = [m for m in messages if m.reply_to_id == user.pk]
            complete = [m for m in replies if m.status == "complete" and m.content == STUB_TEXT]
            lost += not complete
            duplicated += max(0, len(replies) - 1)
        lost += max(0, turns + 1 - len(users))
    return {"lost": lost, "duplicated": duplicated}


SEGMENTS = ("request", "queue", "context", "model_client", "delivery")


def server_side(args, turns: list[Turn]) -> dict:
    """Where each turn's added latency goes, from the rows' timestamps (one clock: the
    learners and the product run on the same machine):

    request       the learner sends the POST -> the message is stored (HTTP, auth, lock);
    queue         stored -> a worker claims the reply (enqueue, wake-up, claim);
    context       claimed -> the model call starts (context window, summary);
    model_client  the call starts -> its first token, less the model's own delay;
    delivery      first token -> the learner's socket has it (store, publish, relay).
    """
    from conversations.models import Message
    from llm.models import LLMCall

    sent = {t.reply_id: t for t in turns if t.reply_id and t.ttft is not None}
    replies = Message.objects.filter(pk__in=sent, started_at__isnull=False).select_related(
        "reply_to", "conversation"
    )
    calls: dict[int, list[tuple[float, float]]] = {}
    for call in LLMCall.objects.filter(task="chat", ttft_ms__isnull=False):
        begun = call.created_at.timestamp() - call.latency_ms / 1000
        calls.setdefault(call.user_id, []).append((begun, begun + call.ttft_ms / 1000))
    segments: dict[str, list[float]] = {name: [] for name in SEGMENTS}
    for reply in replies:
        turn = sent[reply.pk]
        claimed = reply.started_at.timestamp()
        later = [c for c in calls.get(reply.conversation.owner_id, []) if c[0] >= claimed - 0.002]
        if not later:
            continue
        call_start, first_token = min(later)
        stored = reply.reply_to.created_at.timestamp()
        times = {
            "request": stored - turn.sent_at,
            "queue": claimed - stored,
            "context": call_start - claimed,
            "model_client": first_token - call_start - args.first_token_delay,
            "delivery": turn.sent_at + turn.ttft - first_token,
        }
        for name, seconds in times.items():
            segments[name].append(seconds * 1000)
    return {
        name: [round(percentile(values, 0.5), 1), round(percentile(values, 0.95), 1)]
        for name, values in segments.items()
    }


# --- Entry point ------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["embedded", "pg", "all"], default="all")
    parser.add_argument("--server", choices=["daphne", "uvicorn", "all"], default="all")
    parser.add_argument(
        "--conversation",
        choices=["open", "rag"],
        default="open",
        help="rag: each learner asks about their own indexed documents (retrieval per turn)",
    )
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--turns", type=int, default=10, help="measured turns per learner")
    parser.add_argument("--first-token-delay", type=float, default=0.2)
    parser.add_argument("--token-delay", type=float, default=0.02)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/coach_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument(
        "--think",
        type=float,
        default=2.0,
        help="mean seconds a learner reads and types before each turn (0: back to back, "
        "a saturation test)",
    )
    parser.add_argument(
        "--image",
        help="run web (Uvicorn) and worker from this container image with podman (--mode pg)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line per run")
    args = parser.parse_args(argv)
    if args.image and (args.mode != "pg" or args.server != "uvicorn"):
        parser.error("--image runs the image's Uvicorn on PostgreSQL: --mode pg --server uvicorn")
    return args


def main() -> None:
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    if args.mode != "all" and args.server != "all":
        result = one_configuration(args)
        print(json.dumps(result) if args.json else format_table([result]), flush=True)
        return
    results = []
    modes = ["embedded", "pg"] if args.mode == "all" else [args.mode]
    servers = ["daphne", "uvicorn"] if args.server == "all" else [args.server]
    for mode in modes:
        for server in servers:
            child = [PYTHON, __file__, *sys.argv[1:], "--mode", mode, "--server", server, "--json"]
            output = subprocess.run(child, cwd=ROOT, capture_output=True, text=True, check=False)
            line = (output.stdout.strip().splitlines() or [""])[-1]
            if output.returncode != 0 or not line.startswith("{"):
                print(f"{mode}/{server} failed:\n{output.stderr[-3000:]}", file=sys.stderr)
                continue
            results.append(json.loads(line))
            print(format_table(results[-1:]), flush=True)
    print("\n" + format_table(results))


COLUMNS = [
    ("mode", "mode"),
    ("server", "server"),
    ("conversation", "conversation"),
    ("learners", "learners"),
    ("turns", "turns"),
    ("added TTFT p50 ms", "added_ttft_p50_ms"),
    ("p95 ms", "added_ttft_p95_ms"),
    ("max ms", "added_ttft_max_ms"),
    ("turns/s", "turns_per_second"),
    ("lost", "lost"),
    ("dup", "duplicated"),
    ("wrong", "wrong_text"),
    ("POST p50 ms", "post_p50_ms"),
    *[(f"{name} p50/p95", f"segment_{name}") for name in SEGMENTS],
    ("CPU ms/turn", "cpu"),
    ("load", "load_average"),
]


def format_table(results: list[dict]) -> str:
    rows = [[title for title, _ in COLUMNS]]
    for result in results:
        result = {
            **result,
            **{
                f"segment_{name}": "/".join(f"{v:g}" for v in values)
                for name, values in result["segments_p50_p95_ms"].items()
            },
            "cpu": " ".join(f"{k}={v:g}" for k, v in result["cpu_ms_per_turn"].items()),
        }
        rows.append([str(result[key]) for _, key in COLUMNS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )


if __name__ == "__main__":
    main()
