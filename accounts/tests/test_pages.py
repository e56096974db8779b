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
        {"native_language": "de", "target_language": "en", "level": "C1", "explain_in": "native"},
    )

    assert response.status_code == 302
    profile = LearnerProfile.objects.get(user=alice)
    assert (profile.level, profile.explanation_language) == ("C1", "de")


def test_log_in_page_is_rate_limited(client, alice):
    for _ in range(10):
        client.post(reverse("accounts:login"), {"username": "alice", "password": "guess"})

    blocked = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})

    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.content.decode()
    assert client.get(reverse("accounts:profile")).status_code == 302  # not signed in


def test_sign_up_errors_are_summed_up_at_the_top_of_the_form(client):
    response = client.post(
        reverse("accounts:signup"),
        {**SIGN_UP, "password2": "something-else", "target_language": "fr"},
    )

    body = response.content.decode()
    summary = body.index('id="error-summary"')
    assert summary < body.index('<div class="field')
    assert 'role="alert"' in body[summary - 80 : summary + 80]
    assert '<a href="#id_target_language">Language you are learning: Pick a language' in body
    assert '<a href="#id_password2">' in body


def test_log_out_confirms_it(client, alice):
    client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})

    response = client.post(reverse("accounts:logout"), follow=True)

    assert "You are logged out." in response.content.decode()


def test_the_profile_page_refuses_the_same_native_and_target_language(client, alice):
    client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})

    response = client.post(
        reverse("accounts:profile"),
        {"native_language": "en", "target_language": "en", "level": "B1"},
    )

    assert response.status_code == 200
    assert "Pick a language other than your native one." in response.content.decode()
    assert LearnerProfile.objects.get(user=alice).native_language == "es"


def test_sign_up_the_profile_page_and_the_api_share_their_labels():
    from accounts.api import ProfileSerializer
    from accounts.forms import ProfileForm, SignUpForm

    names = ("native_language", "target_language", "level")
    sign_up, profile = SignUpForm(), ProfileForm()
    api = ProfileSerializer().fields

    for name in names:
        assert sign_up.fields[name].label == profile.fields[name].label == api[name].label


def test_a_deleted_learners_sessions_are_deleted_with_them(client, alice, bob):
    from django.contrib.sessions.models import Session

    client.force_login(alice)
    other = type(client)()
    other.force_login(bob)
    assert Session.objects.count() == 2
    alice.delete()
    (left,) = Session.objects.all()
    assert left.get_decoded()["_auth_user_id"] == str(bob.pk)
