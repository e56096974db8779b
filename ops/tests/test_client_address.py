"""Which address a request is counted and logged by (core.middleware)."""

import pytest
from django.test import override_settings

from core.middleware import client_address


def test_without_trusted_proxies_the_connection_is_the_client():
    assert client_address("127.0.0.1", "10.0.0.7") == "127.0.0.1"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "192.168.4.7"])
@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.1.2.3", "203.0.113.9", "203.0.113.9"),
        # The client wrote the leftmost entry itself: only what proxies added counts.
        ("10.1.2.3", "198.51.100.1, 203.0.113.9", "203.0.113.9"),
        ("10.1.2.3", "203.0.113.9, 192.168.4.7", "203.0.113.9"),
        ("10.1.2.3", "", "10.1.2.3"),
        ("10.1.2.3", "not-an-address, 203.0.113.9", "203.0.113.9"),
        ("10.1.2.3", "203.0.113.9, garbage", "10.1.2.3"),
        ("10.1.2.3", "10.9.9.9", "10.9.9.9"),
        # An untrusted peer's header is its own invention.
        ("203.0.113.50", "10.1.1.1", "203.0.113.50"),
    ],
)
def test_forwarded_for_is_read_from_trusted_proxies_only(peer, forwarded, client):
    assert client_address(peer, forwarded) == client


@pytest.mark.django_db
def test_the_middleware_rewrites_remote_addr(client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "nobody", "password": "x"},
        content_type="application/json",
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert response.wsgi_request.META["REMOTE_ADDR"] == "203.0.113.9"
