"""The real product in a subprocess, for browser tests: its own database, the scripted model.

It runs the way a learner's laptop runs it — `manage.py migrate`, then `manage.py serve`
(web server and task worker in one process, SQLite, in-memory channel layer) — with
DATABASE_URL and REDIS_URL removed so nothing is shared with the test process.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.conf import settings

STARTUP_SECONDS = 90
STOP_SECONDS = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ProductServer:
    def __init__(
        self,
        workdir: Path,
        *,
        script: dict,
        server: str = "daphne",
        env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.server = server
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.script_path = workdir / "llm-script.json"
        self.script(script)
        self.process: subprocess.Popen | None = None
        self.env = {**self._environment(), **(env or {})}

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            VAR_DIR=str(self.workdir / "var"),
            LLM_PROVIDER="scripted",
            LLM_SCRIPT_FILE=str(self.script_path),
            PYTHONUNBUFFERED="1",
            DEBUG="false",
        )
        return env

    def script(self, script: dict) -> None:
        """What the scripted model answers next; the server re-reads the file on change."""
        staged = self.script_path.with_suffix(".tmp")
        staged.write_text(json.dumps(script))
        staged.replace(self.script_path)  # atomic: the server never reads half a file

    def manage(self, *args: str) -> str:
        """Run a management command to completion; its output is kept in the log."""
        result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        with self.log_path.open("a") as log:
            log.write(f"$ manage.py {' '.join(args)}\n{result.stdout}{result.stderr}\n")
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{self.log()}")
        return result.stdout

    def sign_up(self, username: str, password: str, **profile: str) -> int:
        """A learner signed up in the server's database (accounts.services.learner_sign_up,
        profile fields by name); her id."""
        fields = ", ".join(f"{name}={value!r}" for name, value in profile.items())
        out = self.manage(
            "shell",
            "-c",
            "from accounts.services import learner_sign_up; "
            f"print(learner_sign_up(username={username!r}, password={password!r}, {fields}).pk)",
        )
        return int(out.strip().splitlines()[-1])

    def start(self) -> None:
        self.manage("migrate", "--noinput")
        log = self.log_path.open("a")
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
            [
                sys.executable,
                *("manage.py", "serve", "--port", str(self.port), "--server", self.server),
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"The server exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                if httpx.get(f"{self.url}/accounts/login/", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"The server did not answer in {STARTUP_SECONDS} s:\n{self.log()}")

    def stop(self) -> None:
        """Ctrl-C first (the server stops, then its worker), a kill if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_SECONDS)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else "(no output)"
