"""The learner profile's rules and labels, in one place: sign-up, the profile page and
`PATCH /api/v1/me` all ask `profile_errors`, and show the same labels."""

LABELS = {
    "native_language": "Your native language",
    "target_language": "Language you are learning",
    "level": "Your level",
    "explain_in": "Explain my mistakes in",
}
SAME_LANGUAGE = "Pick a language other than your native one."


def profile_errors(*, native_language: str, target_language: str) -> dict[str, str]:
    """What is wrong with these profile values together, by field (empty when nothing)."""
    if native_language and native_language == target_language:
        return {"target_language": SAME_LANGUAGE}
    return {}


def explanation_language(user) -> str:
    """The language grammar notes and explanations are shown in for `user` ("en" for a
    user with no learner profile)."""
    profile = getattr(user, "profile", None) if user is not None else None
    return profile.explanation_language if profile is not None else "en"
