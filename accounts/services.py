"""Writes for accounts: creating learners and keeping their profiles."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import LearnerProfile

User = get_user_model()

DEMO_USERNAME = "demo"


@transaction.atomic
def learner_sign_up(
    *,
    username: str,
    password: str,
    email: str = "",
    native_language: str,
    target_language: str,
    level: str,
) -> User:
    user = User.objects.create_user(username=username, email=email, password=password)
    LearnerProfile.objects.create(
        user=user, native_language=native_language, target_language=target_language, level=level
    )
    return user


def tokens_revoke(*, user_id: int) -> None:
    """Every token (JWT) issued to the user so far stops working (core.tokens)."""
    User.objects.filter(pk=user_id).update(signed_out_everywhere_at=timezone.now())


def learner_profile_get_or_create(*, user: User) -> LearnerProfile:
    profile, _ = LearnerProfile.objects.get_or_create(user=user)
    return profile


def learner_profile_update(*, user: User, **fields: str) -> LearnerProfile:
    profile = learner_profile_get_or_create(user=user)
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.save(update_fields=[*fields, "updated_at"])
    return profile


def demo_learner_ensure() -> tuple[User, str | None]:
    """Returns the demo learner and, only when it was just made, its new password."""
    existing = User.objects.filter(username=DEMO_USERNAME).first()
    if existing:
        return existing, None
    password = get_random_string(16)
    user = learner_sign_up(
        username=DEMO_USERNAME,
        password=password,
        native_language="es",
        target_language="en",
        level="B1",
    )
    return user, password
