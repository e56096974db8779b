from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from prometheus_client import REGISTRY

        from ops import logs, wake

        wake.connect()
        logs.connect()

        from ops.metrics import ProductCollector

        if not getattr(REGISTRY, "_coach_registered", False):
            REGISTRY.register(ProductCollector())
            REGISTRY._coach_registered = True
