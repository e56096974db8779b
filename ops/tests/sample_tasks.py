"""Tasks the worker tests enqueue; module level because the worker imports them by path."""

import threading

from django_tasks import task

rendezvous = threading.Barrier(3)


@task()
def meet_two_others() -> str:
    # Returns only if two other tasks are running at the same moment.
    rendezvous.wait(timeout=10)
    return threading.current_thread().name


@task()
def explode() -> None:
    raise ValueError("boom")


@task()
def note_time() -> float:
    import time

    return time.monotonic()


@task()
def report_log_context(conversation_id: int, note: str = "") -> dict:
    # What every log event of this task carries, as the task sees it.
    import structlog

    return {k: str(v) for k, v in structlog.contextvars.get_contextvars().items()}


@task()
def queue_a_follow_up() -> None:
    # Enqueued by a running task, as a finished analysis batch queues its clustering.
    note_time.enqueue()


WARMED_UP_AT: list[float] = []


def warm_up() -> None:
    import time

    WARMED_UP_AT.append(time.monotonic())


def fail_to_warm_up() -> None:
    raise OSError("model file missing")
