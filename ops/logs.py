"""Structured logs: one event per line, with the context it happened in.

structlog renders every record, the product's own `logging` calls included: as one JSON
object per line in production (LOG_FORMAT=json), as readable `key=value` text in
development. django-structlog's middleware binds `request_id` (X-Request-ID when the
proxy sends one) and `user_id` for the length of a request; the receivers here add the
request's `duration_ms` and `conversation_id`, and bind `task_id`, `task` and the task's
ids for the length of a background task. Anything logged meanwhile carries them.

    from ops import logs
    logs.bind(conversation_id=7)     # for the rest of this request or task
"""

import inspect
import logging
import time
from typing import Any

import structlog

# Added to every record from the standard library (the product's `logger.info(...)`
# calls and Django's own) before it is rendered; `extra={...}` fields become keys.
_FOREIGN = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure() -> None:
    """structlog's own loggers hand their events to `logging`, where the formatter of
    LOG_FORMAT renders them like every other record."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def formatters() -> dict[str, dict[str, Any]]:
    """`logging` formatters, by LOG_FORMAT name."""

    def formatter(renderer: Any) -> dict[str, Any]:
        return {
            "()": structlog.stdlib.ProcessorFormatter,
            "foreign_pre_chain": _FOREIGN,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        }

    return {
        "json": formatter(structlog.processors.JSONRenderer(ensure_ascii=False)),
        "text": formatter(structlog.dev.ConsoleRenderer(colors=False)),
    }


def bind(**values: Any) -> None:
    """Add keys to every event of the current request or task."""
    structlog.contextvars.bind_contextvars(**values)


# -- requests (django-structlog's signals) ------------------------------------------------


def request_started(sender: Any, request: Any, **kwargs: Any) -> None:
    request._log_started = time.perf_counter()
    # The address core.middleware.TrustedProxyMiddleware settled, never a header's.
    bind(ip=request.META.get("REMOTE_ADDR", ""))


def request_finished(sender: Any, request: Any, log_kwargs: dict[str, Any], **kwargs: Any):
    started = getattr(request, "_log_started", None)
    if started is not None:
        log_kwargs["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    conversation = _conversation_in(request)
    if conversation is not None:
        log_kwargs["conversation_id"] = conversation


def _conversation_in(request: Any) -> int | None:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    if "conversation_id" in match.kwargs:
        return match.kwargs["conversation_id"]
    if "pk" in match.kwargs and (match.url_name or "").startswith("conversation"):
        return match.kwargs["pk"]
    return None


# -- background tasks (django-tasks' signals, sent in the thread that runs the task) -----

task_logger = structlog.get_logger("ops.tasks")


def task_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    structlog.contextvars.clear_contextvars()
    bind(task_id=str(task_result.id), task=task_result.task.module_path, **_task_ids(task_result))
    _task_clock[task_result.id] = time.perf_counter()
    task_logger.info("task_started")


def task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    started = _task_clock.pop(task_result.id, None)
    duration = None if started is None else round((time.perf_counter() - started) * 1000, 1)
    status = str(getattr(task_result.status, "value", task_result.status)).lower()
    level = logging.INFO if status == "successful" else logging.WARNING
    task_logger.log(level, "task_finished", status=status, duration_ms=duration)
    structlog.contextvars.clear_contextvars()


_task_clock: dict[Any, float] = {}


def _task_ids(task_result: Any) -> dict[str, Any]:
    """The task's arguments that are ids (`reply_id`, `conversation_id`), by name."""
    try:
        names = list(inspect.signature(task_result.task.func).parameters)
    except (TypeError, ValueError):
        names = []
    if task_result.task.takes_context:
        names = names[1:]
    values = {**dict(zip(names, task_result.args, strict=False)), **task_result.kwargs}
    return {k: v for k, v in values.items() if k.endswith("_id") and isinstance(v, int | str)}


def connect() -> None:
    from django_structlog import signals as request_signals
    from django_tasks import signals as task_signals

    request_signals.bind_extra_request_metadata.connect(request_started, dispatch_uid="ops-log")
    request_signals.bind_extra_request_finished_metadata.connect(
        request_finished, dispatch_uid="ops-log"
    )
    task_signals.task_started.connect(task_started, dispatch_uid="ops-log")
    task_signals.task_finished.connect(task_finished, dispatch_uid="ops-log")
