"""The shared cast and guards of the test suite.

alice is the learner under test, bob another learner who must never see her data, and
carol is staff. The network is blocked: anything but loopback fails loudly.
"""

import socket

import pytest
from rest_framework.test import APIClient

from accounts.services import learner_sign_up

pytest_plugins = ["llm.testing.fixtures", "ops.testing"]

PASSWORD = "correct-horse-battery-staple"

_real_connect = socket.socket.connect


def _loopback_only_connect(sock, address):
    host = address[0] if isinstance(address, tuple) else address
    if (
        isinstance(host, str)
        and host not in ("127.0.0.1", "::1", "localhost")
        and not (host.startswith("127.") or host.startswith("/"))
    ):
        raise OSError(f"Tests may not reach the network ({host!r})")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True, scope="session")
def _block_network():
    socket.socket.connect = _loopback_only_connect
    yield
    socket.socket.connect = _real_connect


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache; each test starts with none spent."""
    from django.core.cache import cache

    cache.clear()


def make_learner(username: str, **extra):
    return learner_sign_up(
        username=username,
        password=PASSWORD,
        email=f"{username}@example.com",
        native_language="es",
        target_language="en",
        level="B1",
        **extra,
    )


@pytest.fixture
def alice(db):
    return make_learner("alice")


@pytest.fixture
def bob(db):
    return make_learner("bob")


@pytest.fixture
def carol(db):
    user = make_learner("carol")
    user.is_staff = True
    user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


@pytest.fixture
def api(alice) -> APIClient:
    """An API client signed in as alice with a real JWT."""
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


@pytest.fixture
def bob_api(bob) -> APIClient:
    client = APIClient()
    client.force_authenticate(bob)
    return client
