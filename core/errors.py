"""The one base for failures a learner is shown as they are.

Services raise subclasses; the API turns them into `{"error": ..., "detail": ...}` with
their status, pages show `user_message`. Nothing else needs to know about HTTP.
"""


class UserFacingError(Exception):
    status_code = 400
    title = "Request failed"

    def __init__(self, user_message: str = "", *, detail: object = None) -> None:
        self.user_message = user_message or self.title
        self.detail = detail if detail is not None else self.user_message
        super().__init__(self.user_message)


class NotFound(UserFacingError):
    status_code = 404
    title = "Not found"


class Conflict(UserFacingError):
    status_code = 409
    title = "Conflict"


class TooLarge(UserFacingError):
    status_code = 413
    title = "Too large"


class RateLimited(UserFacingError):
    status_code = 429
    title = "Too many requests"


def check_length(text: str, limit: int, *, subject: str) -> None:
    """Too long is a 413 that names the limit: `subject` as the learner reads it ("Your
    message")."""
    if len(text) > limit:
        raise TooLarge(
            f"{subject} is too long: keep it under {limit:,} characters.",
            detail={"limit": limit, "length": len(text)},
        )
