from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The signal handlers read the models: connected once the registry is ready.
        from accounts import signals

        signals.connect()
