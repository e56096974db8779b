from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        # Replies join the shared job mechanism (heartbeat and sweeper) at start-up.
        from conversations.services import liveness  # noqa: F401
