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
        self._follow_clustering(services.run_for_conversation)

    @staticmethod
    def _follow_clustering(hook) -> None:
        """A run starts once a conversation's clustering is done. Analysis cannot import
        teaching (dependencies run one way), so it offers a hook list, as
        conversations.hooks does; ready() may run twice in tests."""
        from analysis import hooks

        if hook not in hooks.after_clustering:
            hooks.after_clustering.append(hook)
