import pytest
from django.urls import reverse

from accounts.models import LearnerProfile, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

SIGN_UP = {
    "username": "dana",
    "email": "dana@example.com",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "native_language": "fr",
    "target_language": "en",
    "level": "A2",
}


def test_sign_up_creates_learner_with_profile_and_logs_in(client):
    response = client.post(reverse("accounts:signup"), SIGN_UP)

    assert response.status_code == 302
    user = User.objects.get(username="dana")
    assert user.profile.native_language == "fr"
    assert user.profile.level == "A2"
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_sign_up_shows_clear_errors(client):
    response = client.post(
        reverse("accounts:signup"),
        {**SIGN_UP, "password2": "something-else", "target_language": "fr"},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "The two password fields didn" in body
    assert "Pick a language other than your native one." in body
    assert not User.objects.filter(username="dana").exists()


def test_sign_up_rejects_taken_username(client, alice):
    response = client.post(reverse("accounts:signup"), {**SIGN_UP, "username": "alice"})

    assert response.status_code == 400
    assert "A user with that username already exists." in response.content.decode()


def test_log_in_and_log_out(client, alice):
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 200

    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_log_in_with_wrong_password_explains(client, alice):
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_login_page_is_styled_and_offline(client):
    body = client.get(reverse("accounts:login")).content.decode()

    assert "/static/css/app.css" in body
    assert "http://" not in body.split("<body", 1)[0] and "https://" not in body


def test_profile_update(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:profile"),
        {"native_language": "de", "target_language": "en", "level": "C1"},
    )

    assert response.status_code == 302
    assert LearnerProfile.objects.get(user=alice).level == "C1"


def test_log_in_page_is_rate_limited(client, alice):
    for _ in range(10):
        client.post(reverse("accounts:login"), {"username": "alice", "password": "guess"})

    blocked = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})

    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.content.decode()
    assert client.get(reverse("accounts:profile")).status_code == 302  # not signed in
