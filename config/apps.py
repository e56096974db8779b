from django.apps import AppConfig


class WiringConfig(AppConfig):
    """The top layer: it may import every app, so it connects what follows what."""

    name = "config"
    verbose_name = "Wiring"

    def ready(self) -> None:
        # flow imports the apps' services, which import models: only once all are loaded.
        from config import flow

        flow.connect()
