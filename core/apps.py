from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # jobs and checks read models and settings: imported once the registry is ready.
        from core import checks, jobs

        checks.register()
        # Jobs are declared in each app's tasks.py; importing them registers the kinds.
        jobs.discover()
