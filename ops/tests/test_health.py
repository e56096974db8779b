"""/health and /metrics. Transactional: the checks run on their own threads and connections."""

import pytest
from django.db import connection
from django.utils import timezone

from ops.models import WorkerHeartbeat


def fresh_heartbeat() -> None:
    WorkerHeartbeat.objects.create(worker_id="w1", last_seen=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_health_is_200_when_every_component_is_ok(client):
    fresh_heartbeat()

    response = client.get("/health")

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert {name: c["status"] for name, c in body["components"].items()} == {
        "database": "ok",
        "channel_layer": "ok",
        "worker": "ok",
        "model_provider": "ok",
    }


@pytest.mark.django_db(transaction=True)
def test_health_is_503_without_a_live_worker(client):
    WorkerHeartbeat.objects.create(
        worker_id="old", last_seen=timezone.now() - timezone.timedelta(minutes=5)
    )

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["components"]["worker"]["status"] == "down"


@pytest.fixture
def unreachable_database(transactional_db):
    """Points the default connection at a database that cannot be reached, for real."""
    original = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.close_pool()
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    else:
        connection.settings_dict["NAME"] = "/nonexistent-dir/nowhere.sqlite3"
    yield
    connection.close()
    if connection.vendor == "postgresql":
        connection.close_pool()
    connection.settings_dict.clear()
    connection.settings_dict.update(original)


def test_health_is_503_when_the_database_is_unreachable(client, unreachable_database):
    response = client.get("/health")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["components"]["database"]["status"] == "down"
    assert body["components"]["channel_layer"]["status"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_metrics_expose_request_and_product_gauges(client):
    fresh_heartbeat()
    client.get("/health")

    body = client.get("/metrics").content.decode()

    assert 'coach_worker_heartbeat_age_seconds{worker="w1"}' in body
    assert "django_http_requests_total_by_method_total" in body


async def test_the_channel_layer_check_leaves_no_channel_behind():
    from channels.layers import get_channel_layer

    from ops import health

    for _ in range(3):
        assert (await health.channel_layer())[0]

    layer = get_channel_layer()
    # The Redis pub/sub layer keeps one layer (and subscription set) per event loop.
    held = layer._get_layer().channels if hasattr(layer, "_get_layer") else layer.channels
    assert [name for name in held if "health." in name] == []


@pytest.mark.django_db(transaction=True)
def test_health_is_503_when_the_model_server_is_down(client, settings):
    import socket

    from llm.health import probe_cache_clear

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = dead
    settings.LLM_MODEL = "any-model"
    probe_cache_clear()
    fresh_heartbeat()

    response = client.get("/health")

    model = response.json()["components"]["model_provider"]
    assert response.status_code == 503
    assert model["status"] == "down"
    assert model["detail"].startswith(f"openai: unreachable at {dead}")
