"""What every stage needs to know: the learner, and whether its run is still its own."""

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from accounts.models import Language
from core import jobs


@dataclass(frozen=True)
class Learner:
    native: str
    target: str
    level: str

    @classmethod
    def of(cls, user) -> "Learner":
        profile = getattr(user, "profile", None)
        if profile is None:
            return cls(native="", target="en", level="B1")
        return cls(profile.native_language, profile.target_language, profile.level)

    def explanation_language(self, language: str) -> str:
        """Explanations are in the language learned, or in the learner's own by setting."""
        if settings.TEACHING_EXPLANATION_LANGUAGE == "native" and self.native:
            return self.native
        return language

    @property
    def languages(self) -> set[str]:
        return {code for code in (self.native, self.target, "en") if code}


def language_name(code: str) -> str:
    try:
        return str(Language(code).label)
    except ValueError:
        return code


# The claimed row of the attempt running the stages (set by `advance`): stages load their
# run by id, which tells the row's current attempt, not the one they work for.
_attempt: contextvars.ContextVar = contextvars.ContextVar("teaching_attempt", default=None)


@contextlib.contextmanager
def attempt(run) -> Iterator[None]:
    token = _attempt.set(run)
    try:
        yield
    finally:
        _attempt.reset(token)


def stopped(run) -> bool:
    """Whether a stage should stop: the run stopped being this attempt's (cancelled,
    given up by the sweeper, or queued again by a retry), asked of the database. Inside
    the transaction that stores a stage's output it also holds off a cancel or retry until
    the output is committed. A stage called outside a job (a staff action, a test) never
    stops unless its run was cancelled."""
    claimed = _attempt.get()
    if claimed is not None and claimed.pk == run.pk:
        return not jobs.still_mine(claimed)
    return run.status == jobs.JobStatus.CANCELLED
