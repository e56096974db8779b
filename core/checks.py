"""`manage.py check` (and every start) refuses declared background work that could not
run: a periodic job whose interval setting is missing or not a positive number, and a
warm-up path that does not import. A typo fails here, not later in a worker's thread."""

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from core import jobs


def register() -> None:
    checks.register(periodic_jobs_check, checks.Tags.compatibility)
    checks.register(warmups_check, checks.Tags.compatibility)


def periodic_jobs_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for job in jobs.periodic_jobs():
        every = getattr(settings, job.every, None)
        if not isinstance(every, int | float) or isinstance(every, bool) or every <= 0:
            errors.append(
                checks.Error(
                    f"Periodic job {job.name} runs every settings.{job.every}, which is "
                    f"{every!r}: it must be a positive number of seconds.",
                    id="core.E001",
                )
            )
    return errors


def warmups_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for path in settings.WORKER_WARMUPS:
        try:
            func = import_string(path)
        except ImportError as exc:
            errors.append(checks.Error(f"WORKER_WARMUPS names {path!r}: {exc}", id="core.E002"))
            continue
        if not callable(func):
            errors.append(
                checks.Error(f"WORKER_WARMUPS names {path!r}, not a function", id="core.E002")
            )
    return errors
