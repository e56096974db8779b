"""Logs: structured (structlog, django-structlog), as readable text or one JSON object per
event. Both carry request_id, user_id, conversation_id, task_id and duration_ms where they
apply (see ops/logs.py)."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import env
from ops import logs

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "text": readable key=value lines (development); "json": production's default.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")


def logging_config(level: str, log_format: str) -> dict:
    if log_format not in ("text", "json"):
        raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            **logs.formatters(),
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "daphne": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
            # The openai SDK's HTTP client logs every request at INFO; model calls are
            # logged (and accounted) by the gateway already.
            "httpx2": {"level": "WARNING"},
        },
    }


LOGGING = logging_config(LOG_LEVEL, LOG_FORMAT)
logs.configure()
