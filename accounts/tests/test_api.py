import time

import pytest
from rest_framework.test import APIClient

from accounts import services
from conftest import PASSWORD
from core.websocket import _validated_token

pytestmark = pytest.mark.django_db


def test_jwt_obtain_then_me(alice):
    client = APIClient()
    tokens = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    me = client.get("/api/v1/me").json()

    assert me["username"] == "alice"
    assert me["profile"] == {
        "native_language": "es",
        "target_language": "en",
        "level": "B1",
        "explain_in": "target",
    }


def test_jwt_refresh_gives_a_working_access_token(alice):
    client = APIClient()
    tokens = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    ).json()

    refreshed = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")

    assert refreshed.status_code == 200
    assert client.get("/api/v1/me").json()["username"] == "alice"


def test_signing_out_everywhere_revokes_the_tokens_issued_before(alice):
    client = APIClient()
    tokens = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    ).json()
    time.sleep(1.02 - time.time() % 1)  # issue times are whole seconds

    services.tokens_revoke(user_id=alice.pk)

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    refused = client.get("/api/v1/me")
    assert refused.status_code == 401
    assert "signed out everywhere" in refused.json()["detail"]
    assert (
        APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code
        == 401
    )
    assert _validated_token(tokens["access"]) == (None, None)  # the sockets' check
    # Signing in again works at once.
    fresh = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
        .json()
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
    assert client.get("/api/v1/me").status_code == 200


def test_wrong_password_gets_401_in_the_error_shape(alice):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json"
    )

    assert response.status_code == 401
    assert set(response.json()) == {"error", "detail"}


def test_me_requires_authentication():
    response = APIClient().get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]


def test_garbage_token_is_refused(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert client.get("/api/v1/me").status_code == 401


def test_me_updates_profile_and_validates(api):
    ok = api.patch("/api/v1/me", {"level": "C2"}, format="json")
    bad = api.patch("/api/v1/me", {"level": "Z9"}, format="json")

    assert ok.status_code == 200 and ok.json()["profile"]["level"] == "C2"
    assert bad.status_code == 400
    assert bad.json()["error"] == "Invalid input"
    assert "level" in bad.json()["detail"]


def test_schema_and_swagger_are_served_locally(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/me" in schema.content
    assert docs.status_code == 200
    assert b"https://" not in docs.content


def test_jwt_sign_in_is_rate_limited_per_address(alice):
    client = APIClient()
    attempts = [
        client.post("/api/v1/auth/token/", {"username": "alice", "password": "guess"})
        for _ in range(11)
    ]

    assert [a.status_code for a in attempts[:10]] == [401] * 10
    assert attempts[10].status_code == 429
    assert attempts[10].json()["error"]
    assert "Retry-After" in attempts[10].headers


def test_me_refuses_the_same_native_and_target_language_as_sign_up_does(api):
    both = api.patch("/api/v1/me", {"native_language": "fr", "target_language": "fr"})
    # The stored target language is "en": a native language of "en" alone clashes with it.
    one = api.patch("/api/v1/me", {"native_language": "en"})
    fine = api.patch("/api/v1/me", {"native_language": "fr", "target_language": "en"})

    for response in (both, one):
        assert response.status_code == 400
        assert response.json()["detail"] == {
            "target_language": ["Pick a language other than your native one."]
        }
    assert fine.status_code == 200
    assert fine.json()["profile"]["native_language"] == "fr"
