"""Typed failures of a model call, each with a message a learner can read.

Providers raise these (translated from their SDK's exceptions) so the gateway can decide
on retries without knowing any SDK: `retryable` says whether another attempt may help,
`retry_after` carries a provider's Retry-After in seconds.
"""

from config.errors import UserFacingError


class LLMError(UserFacingError):
    status_code = 502
    title = "The tutor could not answer"
    retryable = False

    def __init__(
        self, user_message: str = "", *, detail: object = None, retry_after: float | None = None
    ) -> None:
        super().__init__(user_message, detail=detail)
        self.retry_after = retry_after


class QuotaExceeded(LLMError):
    status_code = 429
    title = (
        "You have used today's allowance of tutor replies. "
        "It renews at midnight (UTC) — see you then!"
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


class ProfileNotFound(LLMError):
    status_code = 500
    title = "This kind of request is not configured."
