"""The API against its own OpenAPI schema: schemathesis (every check, the stateful phase)
drives the real product (`manage.py serve`) through /api/schema/, and must find nothing.

Bounded by examples per operation (about a minute and a half here) and reproducible:
deterministic by default, so it tries the same cases each time, or seeded with
SCHEMATHESIS_SEED (CI's PostgreSQL pass runs a second seed, so two sets of cases are tried).
"""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from conversations.tests.browser_support import ProductServer

pytestmark = pytest.mark.timeout(720)

USERNAME, PASSWORD = "sam", "a-long-practice-passphrase"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Every learner message the fuzzer posts is also checked and replied to by the same
# process: on a loaded 2-core machine the run takes minutes.
RUN_SECONDS = 600


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    product = ProductServer(
        tmp_path_factory.mktemp("contract"),
        script={"default": {"text": "Good question.", "chunk_size": 8, "delay": 0}},
        server="uvicorn",
        env={
            # The run sends thousands of requests; limits would turn them into 429s.
            "THROTTLE_ANON": "100000/min",
            "THROTTLE_USER": "100000/min",
            "THROTTLE_SIGN_IN": "100000/min",
            "LLM_DAILY_TOKEN_QUOTA": "0",
        },
    )
    try:
        product.start()
        product.sign_up(USERNAME, PASSWORD, native_language="es", target_language="en", level="B1")
        yield product
    finally:
        product.stop()


def generation_options() -> list[str]:
    """A seed, with no example database (each run tries the seed's cases, not earlier
    failures); or deterministic mode, which keeps no database of its own."""
    seed = os.environ.get("SCHEMATHESIS_SEED")
    if seed:
        return ["--seed", seed, "--generation-database", "none"]
    return ["--generation-deterministic"]


def test_the_api_keeps_every_promise_of_its_schema(server, tmp_path):
    token = httpx.post(
        f"{server.url}/api/v1/auth/token/", json={"username": USERNAME, "password": PASSWORD}
    ).json()["access"]

    run = subprocess.run(  # noqa: S603 (the venv's own schemathesis)
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(Path(settings.BASE_DIR) / "schemathesis.toml"),
            "run",
            f"{server.url}/api/schema/",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            "100",
            *generation_options(),
            "--workers",
            "1",
            # A loaded CI machine is slow, not broken.
            "--request-timeout",
            "30",
            "--header",
            f"Authorization: Bearer {token}",
            "--no-color",
            "--report",
            "ndjson",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
        cwd=tmp_path,
    )

    output = run.stdout + run.stderr
    print(output)  # the summary, in the test log
    assert run.returncode == 0, output[-12000:]
    assert "Traceback" not in server.log(), server.log()[-4000:]
