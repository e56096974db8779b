"""pytest fixtures of the gateway, registered for the whole suite by the root conftest.

`scripted_llm` switches every task profile to the scripted provider (LLM_PROVIDER=scripted)
and returns its controller. Cached replies of earlier tests are out of reach, and retries
back off in milliseconds so failure tests stay fast. `openai_llm` does the same for the
`openai` provider against a local OpenAI-compatible stub server (real HTTP, no network).
`llama_server` is llama.cpp's own OpenAI-compatible server serving the shipped model, for
tests marked `llama_server`.
"""

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm.cache import cache_namespace_reset
from llm.health import probe_cache_clear
from llm.providers.openai import endpoint_cache_clear
from llm.providers.scripted import SCRIPT, Script
from llm.testing.openai_stub import OpenAIStub


@pytest.fixture
def scripted_llm(settings) -> Iterator[Script]:
    settings.LLM_PROVIDER = "scripted"
    settings.LLM_SCRIPT_FILE = ""
    settings.LLM_RETRY_BASE_SECONDS = 0.001
    settings.LLM_PROFILE_CACHE_SECONDS = 0  # tests edit profiles with QuerySet.update()
    SCRIPT.reset()
    cache_namespace_reset(uuid.uuid4().hex[:12])
    yield SCRIPT
    SCRIPT.reset()


@pytest.fixture(scope="session")
def openai_stub_server() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


@pytest.fixture
def openai_llm(settings, openai_stub_server: OpenAIStub) -> OpenAIStub:
    """Every profile on the `openai` provider, talking HTTP to a local stub server."""
    settings.LLM_PROVIDER = "openai"
    settings.LLM_MODEL = "gpt-4o-mini"
    settings.OPENAI_BASE_URL = openai_stub_server.base_url
    settings.OPENAI_API_KEY = ""
    settings.LLM_RETRY_BASE_SECONDS = 0.001
    settings.LLM_PROFILE_CACHE_SECONDS = 0
    openai_stub_server.reset()
    endpoint_cache_clear()
    probe_cache_clear()
    cache_namespace_reset(uuid.uuid4().hex[:12])
    return openai_stub_server


ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    """`python -m llama_cpp.server` (through llm.testing.llama_server) in a subprocess."""

    def __init__(self, log: Path) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        self._process: subprocess.Popen | None = None

    def start(self) -> "LlamaServer":
        import httpx

        from llm.providers.local import model_path

        command = [
            sys.executable,
            "-m",
            "llm.testing.llama_server",
            "--model",
            str(model_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            "2048",
            "--n_threads",
            "2",
        ]
        with self.log.open("wb") as out:
            self._process = subprocess.Popen(  # noqa: S603
                command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"llama_cpp.server did not answer:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory) -> Iterator[LlamaServer]:
    server = LlamaServer(tmp_path_factory.mktemp("llama") / "server.log").start()
    yield server
    server.stop()
