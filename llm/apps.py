from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class LlmConfig(AppConfig):
    name = "llm"
    verbose_name = "Models"

    def ready(self) -> None:
        # Models and what reads them load only once the app registry is ready.
        from llm import health, selectors
        from llm.models import Endpoint, TaskProfile
        from ops import health as ops_health

        # An edit in the admin applies to this process's next call at once.
        post_save.connect(
            selectors.profile_cache_clear, sender=TaskProfile, dispatch_uid="llm-profiles"
        )
        post_delete.connect(
            selectors.profile_cache_clear, sender=TaskProfile, dispatch_uid="llm-profiles-d"
        )
        # Profiles are cached with their endpoint: an endpoint's edit clears them too.
        post_save.connect(
            selectors.profile_cache_clear, sender=Endpoint, dispatch_uid="llm-endpoints"
        )
        post_delete.connect(
            selectors.profile_cache_clear, sender=Endpoint, dispatch_uid="llm-endpoints-d"
        )
        health.require_openai_model()
        ops_health.register("model_provider", health.provider_status)
