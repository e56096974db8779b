"""Typed failures of a model call, each with a message a learner can read.

Providers raise these (translated from their SDK's exceptions) so the gateway can decide
on retries without knowing any SDK: `retryable` says whether another attempt may help,
`retry_after` carries a provider's Retry-After in seconds, and `upstream_status` the HTTP
status the model endpoint answered with (None when it never answered).
"""

from datetime import datetime

from core.errors import UserFacingError


class LLMError(UserFacingError):
    status_code = 502
    title = "The tutor could not answer"
    retryable = False

    def __init__(
        self,
        user_message: str = "",
        *,
        detail: object = None,
        retry_after: float | None = None,
        upstream_status: int | None = None,
    ) -> None:
        super().__init__(user_message, detail=detail)
        self.retry_after = retry_after
        self.upstream_status = upstream_status


class QuotaExceeded(LLMError):
    status_code = 429
    title = (
        "You have used today's allowance of tutor replies. "
        "It renews at midnight (UTC) — see you then!"
    )

    def __init__(
        self, user_message: str = "", *, renews_at: datetime | None = None, **kwargs: object
    ) -> None:
        super().__init__(user_message, **kwargs)
        self.renews_at = renews_at  # a datetime: when the allowance is whole again


class BackgroundQuotaExceeded(QuotaExceeded):
    """The background allowance (analysis, lessons) is spent: the work waits for it."""

    title = (
        "Today's allowance for analysing your messages and preparing lessons is used up. "
        "The work continues when it renews at midnight (UTC)."
    )


class ModelUnavailable(LLMError):
    status_code = 503
    title = "The tutor is busy or unreachable right now. Please try again in a moment."
    retryable = True


class ModelRateLimited(ModelUnavailable):
    """The provider said 429: retried (honouring Retry-After), then shown as busy."""


class ModelTimeout(LLMError):
    status_code = 504
    title = "The tutor took too long to answer. Please try again."
    retryable = True


class StructuredOutputError(LLMError):
    status_code = 502
    title = "The tutor's answer came back in an unexpected shape. Please try again."


class InvalidModelRequest(LLMError):
    status_code = 400
    title = "The tutor could not process this request."


class ModelMisconfigured(LLMError):
    """The endpoint refused who we are or what we asked for (401, 403, 404), or cannot
    tell which model to use: no retry helps until someone fixes the settings."""

    status_code = 503
    title = (
        "The tutor is misconfigured and cannot answer right now. Please let the site's staff know."
    )


class ProfileNotFound(LLMError):
    status_code = 500
    title = "This kind of request is not configured."
