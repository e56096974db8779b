from django.apps import AppConfig
from django.conf import settings


class TeachingConfig(AppConfig):
    name = "teaching"
    verbose_name = "Teaching modules"

    def ready(self) -> None:
        from ops import jobs
        from teaching import services, tasks
        from teaching.models import TeachingRun

        jobs.register(
            TeachingRun,
            task=tasks.teaching_run,
            on_change=services.teaching_run_changed,
            max_attempts=settings.TEACHING_MAX_ATTEMPTS,
        )
