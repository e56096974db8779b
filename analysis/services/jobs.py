"""How batches and clustering runs sit under the shared job mechanism."""

from django.conf import settings

from ops import jobs


class AnalysisKind(jobs.JobKind):
    """A small model's invalid output (jobs.Retry) is asked for again up to
    ANALYSIS_MAX_ATTEMPTS times, read when needed so it can change at run time."""

    @property
    def max_attempts(self) -> int:
        return settings.ANALYSIS_MAX_ATTEMPTS
