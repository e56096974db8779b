"""The API against its own OpenAPI schema: schemathesis (every check, the stateful phase)
drives the real product (`manage.py serve`) through /api/schema/, and must find nothing.

Bounded by examples per operation (about a minute and a half here) and deterministic
(schemathesis.toml), so it tries the same cases each time.
"""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from conversations.tests.browser_support import ProductServer

pytestmark = pytest.mark.timeout(420)

USERNAME, PASSWORD = "sam", "a-long-practice-passphrase"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
RUN_SECONDS = 300


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
        product.manage(
            "shell",
            "-c",
            "from accounts.services import learner_sign_up; "
            f"learner_sign_up(username={USERNAME!r}, password={PASSWORD!r}, "
            "native_language='es', target_language='en', level='B1')",
        )
        yield product
    finally:
        product.stop()


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
            "--workers",
            "1",
            # A loaded CI machine is slow, not broken.
            "--request-timeout",
            "30",
            "--header",
            f"Authorization: Bearer {token}",
            "--generation-database",
            "none",
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
