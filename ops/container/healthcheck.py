"""The container's health check, for the image's HEALTHCHECK and Kubernetes exec probes.

It finds the container's role from the entrypoint's arguments (PID 1 is tini, then
entrypoint.sh ROLE), or from --role:

- web: GET /health on this container's own port.
    full (default)  200: every component is ok (database, channel layer, a worker's
                    heartbeat, the model provider): the image's HEALTHCHECK
    ready           the database and the channel layer are ok: this process can serve
                    requests even while no worker runs or the model endpoint is down
                    (a Kubernetes readiness probe: take the pod out of the Service only
                    for what it cannot serve without)
    live            /health answered at all, 200 or 503, within the timeout: the event
                    loop is responsive (a liveness probe must not restart web processes
                    because PostgreSQL or a worker is down)
- worker: this container's heartbeat row (one per worker process, written every few
  seconds with its hostname) is younger than WORKER_STALE_SECONDS. Every mode is the same.
- anything else (a one-shot migrate): healthy.

Exit 0 healthy, 1 not; one line on stdout says why. Standard library only for the web
(Python starts in about 50 ms); psycopg for the worker, from the image's environment.
"""

import argparse
import http.client
import json
import os
import socket
import sys
from pathlib import Path

ROLES = ("web", "worker")
# WorkerHeartbeat's table (ops.models); ops/container/tests checks that it still is.
HEARTBEAT_TABLE = "ops_workerheartbeat"
# Components the web process cannot serve a request without.
SERVING_COMPONENTS = ("database", "channel_layer")


def role_from_pid1(cmdline: Path = Path("/proc/1/cmdline")) -> str | None:
    """The first known role among PID 1's arguments (tini -- entrypoint.sh ROLE ...)."""
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return None
    for arg in args:
        if arg.decode(errors="replace") in ROLES:
            return arg.decode()
    return None


def host_header() -> str:
    """A name Django accepts: the first concrete entry of ALLOWED_HOSTS."""
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip()
        if host and host != "*":
            return "health" + host if host.startswith(".") else host
    return "localhost"


def web_status(mode: str, port: int, timeout: float) -> tuple[bool, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/health", headers={"Host": host_header()})
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return False, f"web: no answer on port {port}: {exc.__class__.__name__}: {exc}"
    finally:
        connection.close()
    if mode == "live":
        return response.status in (200, 503), f"web: /health answered {response.status}"
    try:
        components = json.loads(body)["components"]
    except (ValueError, KeyError, TypeError):
        return False, f"web: /health answered {response.status} without components"
    down = sorted(name for name, c in components.items() if c.get("status") != "ok")
    if mode == "ready":
        blocking = [name for name in down if name in SERVING_COMPONENTS]
        return not blocking, f"web: {response.status}; down: {', '.join(down) or 'none'}"
    return response.status == 200, f"web: {response.status}; down: {', '.join(down) or 'none'}"


def heartbeat_fresh(age_seconds: float | None, stale_seconds: float) -> tuple[bool, str]:
    if age_seconds is None:
        return False, f"worker: no heartbeat row for host {socket.gethostname()!r} yet"
    if age_seconds > stale_seconds:
        return False, f"worker: last heartbeat {age_seconds:.0f}s ago (> {stale_seconds:.0f}s)"
    return True, f"worker: heartbeat {age_seconds:.1f}s ago"


def worker_status(timeout: float) -> tuple[bool, str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return True, "worker: no PostgreSQL DATABASE_URL; heartbeat not checked"
    import psycopg

    stale = float(os.environ.get("WORKER_STALE_SECONDS", "30"))
    query = (
        "SELECT EXTRACT(EPOCH FROM (now() - max(last_seen))) "  # noqa: S608 - a constant
        f"FROM {HEARTBEAT_TABLE} WHERE hostname = %s"
    )
    try:
        with psycopg.connect(url, connect_timeout=max(1, int(timeout))) as connection:
            row = connection.execute(query, (socket.gethostname()[:255],)).fetchone()
    except psycopg.Error as exc:
        return False, f"worker: database unreachable: {exc.__class__.__name__}"
    age = None if row is None or row[0] is None else float(row[0])
    return heartbeat_fresh(age, stale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", choices=ROLES, help="default: from PID 1's arguments")
    parser.add_argument("--mode", choices=("full", "ready", "live"), default="full")
    parser.add_argument("--ready", dest="mode", action="store_const", const="ready")
    parser.add_argument("--live", dest="mode", action="store_const", const="live")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8000")))
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    role = args.role or role_from_pid1()
    if role == "web":
        ok, why = web_status(args.mode, args.port, args.timeout)
    elif role == "worker":
        ok, why = worker_status(args.timeout)
    else:
        ok, why = True, "not a long-running role: nothing to check"
    print(why)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
