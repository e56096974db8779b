from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class LlmConfig(AppConfig):
    name = "llm"
    verbose_name = "Models"

    def ready(self) -> None:
        from llm.health import require_openai_model
        from llm.models import TaskProfile
        from llm.selectors import profile_cache_clear

        # An edit in the admin applies to this process's next call at once.
        post_save.connect(profile_cache_clear, sender=TaskProfile, dispatch_uid="llm-profiles")
        post_delete.connect(profile_cache_clear, sender=TaskProfile, dispatch_uid="llm-profiles-d")
        require_openai_model()
