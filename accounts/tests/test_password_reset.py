"""Django's password-reset flow, as the sign-up form promises."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-long-passphrase"


def test_the_login_page_links_to_the_reset(client):
    body = client.get(reverse("accounts:login")).content.decode()

    assert reverse("accounts:password-reset") in body
    assert "Forgot your password?" in body


def test_a_learner_resets_the_password_from_the_emailed_link(client, alice):
    response = client.post(reverse("accounts:password-reset"), {"email": "alice@example.com"})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password-reset-sent")
    assert "3 days" in client.get(response.url).content.decode()
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your Curiosity Coach password"
    link = re.search(r"http://testserver(/accounts/reset/\S+/\S+/)", message.body).group(1)

    form = client.get(link, follow=True)  # Django swaps the token for a session marker
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert done.url == reverse("accounts:password-reset-complete")
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert not alice.check_password(PASSWORD)
    # The link works once.
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, alice):
    response = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password-reset-sent")
    assert mail.outbox == []


def test_reset_requests_are_rate_limited_like_sign_ins(client, alice):
    url = reverse("accounts:password-reset")
    answers = [client.post(url, {"email": "alice@example.com"}) for _ in range(11)]

    assert [a.status_code for a in answers[:10]] == [302] * 10
    assert answers[10].status_code == 429
    assert "Too many attempts" in answers[10].content.decode()
    assert len(mail.outbox) == 10


def test_the_console_backend_is_the_default_and_smtp_follows_email_host(monkeypatch):
    import importlib

    import config.settings.accounts as accounts_settings

    monkeypatch.delenv("EMAIL_HOST", raising=False)
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    assert importlib.reload(accounts_settings).EMAIL_BACKEND.endswith("console.EmailBackend")
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    assert importlib.reload(accounts_settings).EMAIL_BACKEND.endswith("smtp.EmailBackend")
    monkeypatch.delenv("EMAIL_HOST")
    importlib.reload(accounts_settings)
