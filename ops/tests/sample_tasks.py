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
