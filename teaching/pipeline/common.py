"""What every stage needs to know about the learner."""

from dataclasses import dataclass

from django.conf import settings

from accounts.models import Language


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


def stopped(run) -> bool:
    """Whether a stage should stop: the run stopped being ours (cancelled, or given up
    by the sweeper). A stage called outside a job (a staff action, a test) never stops."""
    from ops import jobs

    if run.status == jobs.JobStatus.CANCELLED:
        return True
    return run.status == jobs.JobStatus.RUNNING and jobs.lost(run)
