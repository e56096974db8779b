"""The deployment files agree with the product: the image's entrypoint and health check,
compose.yaml and the Kubernetes base. Fast and offline; building and starting the image is
ops/container/build.sh, validating the rendered manifests deploy/k8s/validate.sh."""

import importlib.util
import json
import os
import re
import socket
import subprocess
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTAINER = ROOT / "ops" / "container"
K8S_BASE = ROOT / "deploy" / "k8s" / "base"

# Read by the image's entrypoint or by Django itself, not by a settings module.
CONTAINER_VARIABLES = {
    "DJANGO_SETTINGS_MODULE",
    "HOST",
    "WEB_PORT",
    "WAIT_FOR_MIGRATIONS",
    "WEB_GRACEFUL_SECONDS",
}


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


healthcheck = load("coach_healthcheck", CONTAINER / "healthcheck.py")
waiting = load("coach_wait", CONTAINER / "wait.py")
requirements = load("coach_requirements", CONTAINER / "requirements.py")


def yaml_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s_resources() -> list[dict]:
    kustomization = yaml.safe_load((K8S_BASE / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in yaml_documents(K8S_BASE / name)]


def env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def settings_source() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "config" / "settings").rglob("*.py")))


# --- The image's scripts ----------------------------------------------------------------


def test_requirements_are_the_projects():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert requirements.requirements(ROOT / "pyproject.toml") == project["dependencies"]
    local = requirements.requirements(ROOT / "pyproject.toml", "local")
    assert any(line.startswith("llama-cpp-python") for line in local)


def entrypoint(*args: str, **env: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own script, under /bin/sh)
        ["/bin/sh", str(CONTAINER / "entrypoint.sh"), *args],
        env={"PATH": os.environ["PATH"], "COACH_DRY_RUN": "1", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_entrypoint_web_serves_as_the_procfile_does():
    command = entrypoint("web")
    assert command.startswith("uvicorn config.asgi:application ")
    procfile = (ROOT / "Procfile").read_text()
    web_line = next(line for line in procfile.splitlines() if line.startswith("web:"))
    flags = re.findall(r"(--[a-z-]+)(?: ([^-\s$][^\s]*))?", web_line.split("application", 1)[1])
    for flag, value in flags:
        if flag in ("--host", "--port"):
            continue
        assert flag in command, flag
        if value:
            assert f"{flag} {value}" in command, (flag, value)
    assert "--forwarded-allow-ips" not in command


def test_entrypoint_trusts_only_the_named_proxies():
    command = entrypoint("web", TRUSTED_PROXIES="10.0.0.0/8, 192.168.4.7")
    assert "--proxy-headers" in command
    assert "--no-proxy-headers" not in command
    assert command.endswith("--forwarded-allow-ips 10.0.0.0/8,192.168.4.7")


def test_entrypoint_roles():
    assert entrypoint("worker") == "python3 manage.py db_worker --queue-name *"
    assert entrypoint("migrate") == "python3 manage.py migrate --noinput"
    assert entrypoint("manage", "demo_learner") == "python3 manage.py demo_learner"
    assert entrypoint("wait-for-migrations") == "python3 ops/container/wait.py migrations"
    assert entrypoint("python3", "-V") == "python3 -V"
    assert "--port 9000" in entrypoint("web", WEB_PORT="9000")


def test_heartbeat_table_is_the_models():
    from ops.models import WorkerHeartbeat

    assert WorkerHeartbeat._meta.db_table == healthcheck.HEARTBEAT_TABLE


def test_role_from_pid1(tmp_path):
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"/usr/bin/tini\0--\0/app/ops/container/entrypoint.sh\0worker\0")
    assert healthcheck.role_from_pid1(cmdline) == "worker"
    cmdline.write_bytes(b"/usr/bin/tini\0--\0/app/ops/container/entrypoint.sh\0migrate\0")
    assert healthcheck.role_from_pid1(cmdline) is None


class FakeHealth(BaseHTTPRequestHandler):
    status = 200
    components: dict = {}
    hosts: list = []

    def do_GET(self):
        type(self).hosts.append(self.headers["Host"])
        body = json.dumps({"status": "x", "components": type(self).components}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_web():
    server = HTTPServer(("127.0.0.1", 0), FakeHealth)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeHealth.hosts = []
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def health(port: int, status: int, down: tuple[str, ...], mode: str) -> bool:
    FakeHealth.status = status
    names = ("database", "channel_layer", "worker", "model_provider")
    FakeHealth.components = {n: {"status": "down" if n in down else "ok"} for n in names}
    return healthcheck.web_status(mode, port, timeout=2)[0]


def test_web_modes(fake_web, monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", ".example.com,coach.example.com")
    assert health(fake_web, 200, (), "full")
    assert FakeHealth.hosts[-1] == "health.example.com"
    # No worker: degraded, but this process can still serve pages.
    assert not health(fake_web, 503, ("worker",), "full")
    assert health(fake_web, 503, ("worker", "model_provider"), "ready")
    assert health(fake_web, 503, ("worker",), "live")
    # No database: not ready, yet alive (no restart for someone else's outage).
    assert not health(fake_web, 503, ("database",), "ready")
    assert not health(fake_web, 503, ("channel_layer",), "ready")
    assert health(fake_web, 503, ("database",), "live")
    assert not health(fake_web, 500, (), "live")


def test_web_down_when_nothing_listens():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ok, why = healthcheck.web_status("live", port, timeout=1)
    assert not ok
    assert "no answer" in why


def test_heartbeat_freshness():
    assert healthcheck.heartbeat_fresh(3.0, 30.0)[0]
    assert not healthcheck.heartbeat_fresh(31.0, 30.0)[0]
    assert not healthcheck.heartbeat_fresh(None, 30.0)[0]


@pytest.mark.django_db(transaction=True)
def test_worker_check_reads_this_hosts_heartbeat(monkeypatch):
    from django.db import connection
    from django.utils import timezone

    from ops.models import WorkerHeartbeat

    if connection.vendor != "postgresql":
        pytest.skip("the worker check reads PostgreSQL; this run is on SQLite")
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert not healthcheck.worker_status(timeout=5)[0]
    WorkerHeartbeat.objects.create(
        worker_id="probe-test", hostname=socket.gethostname()[:255], last_seen=timezone.now()
    )
    ok, why = healthcheck.worker_status(timeout=5)
    assert ok, why


@pytest.mark.django_db(transaction=True)
def test_wait_sees_a_migrated_database():
    assert waiting.wait("database", limit=0) == (True, "the database answers")
    assert waiting.wait("migrations", limit=0) == (True, "the database has every migration")


def test_wait_gives_up_with_the_reason(monkeypatch):
    from django.db import connection

    def refuse():
        raise OSError("connection refused")

    monkeypatch.setattr(connection, "ensure_connection", refuse)
    ok, reason = waiting.wait("database", limit=0)
    assert not ok
    assert "connection refused" in reason


# --- compose.yaml -------------------------------------------------------------------------


def test_compose_services_start_in_order():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker"}
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert services[name]["environment"]["WAIT_FOR_MIGRATIONS"] == "1"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["migrate"]
    assert "replicas" in services["worker"]["deploy"]
    assert "postgres-data" in compose["volumes"]
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name]


def test_settings_named_in_deployments_exist():
    """Every variable compose.yaml and the ConfigMap set is one the product reads."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    names = set(compose["services"]["web"]["environment"])
    names |= set(compose["services"]["worker"]["environment"])
    names |= set(env_file(K8S_BASE / "config.env"))
    secret = yaml_documents(ROOT / "deploy/k8s/overlays/demo/secret.example.yaml")[0]
    names |= set(secret["stringData"])
    source = settings_source()
    unknown = sorted(
        n for n in names - CONTAINER_VARIABLES if not re.search(rf"[\"']{n}[\"']", source)
    )
    assert not unknown, f"not read by config/settings: {unknown}"


# --- Kubernetes base -------------------------------------------------------------------------


def test_kubernetes_base_wiring():
    resources = k8s_resources()
    by_kind: dict[str, dict[str, dict]] = {}
    for resource in resources:
        by_kind.setdefault(resource["kind"], {})[resource["metadata"]["name"]] = resource
    deployments = by_kind["Deployment"]
    assert set(deployments) == {"coach-web", "coach-worker"}
    selectors = {name: d["spec"]["selector"]["matchLabels"] for name, d in deployments.items()}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        assert selectors[name].items() <= pod["metadata"]["labels"].items()
        container = pod["spec"]["containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert "/app/ops/container/healthcheck.py" in container[probe]["exec"]["command"]
        assert container["resources"]["requests"]["cpu"]
        assert container["resources"]["limits"]["memory"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert pod["spec"]["initContainers"][0]["args"] == ["wait-for-migrations"]
        # Every HPA and PDB points at a Deployment that exists, by its labels.
        hpa = by_kind["HorizontalPodAutoscaler"][name]
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        pdb = by_kind["PodDisruptionBudget"][name]
        assert pdb["spec"]["selector"]["matchLabels"] == selectors[name]
    web = deployments["coach-web"]["spec"]["template"]
    assert web["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    assert web["metadata"]["annotations"]["prometheus.io/port"] == "8000"
    service = by_kind["Service"]["coach-web"]
    assert service["spec"]["selector"] == selectors["coach-web"]
    backend = by_kind["Ingress"]["coach"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend["service"]["name"] == "coach-web"
    migrate = by_kind["Job"]["coach-migrate"]["spec"]["template"]["spec"]["containers"][0]
    assert migrate["args"] == ["migrate"]
