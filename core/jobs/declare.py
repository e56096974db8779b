"""Jobs declared where they are defined, in each app's tasks.py (found at start-up by
`autodiscover_modules("tasks")`, as the admin finds admin.py):

    @jobs.task(AnalysisBatch, on_change=events.batch_changed, max_attempts="ANALYSIS_MAX_ATTEMPTS")
    def analyse_batch(batch: AnalysisBatch) -> None:
        batches.batch_process(batch)

    @jobs.periodic(every="JOBS_SWEEP_SECONDS")
    def sweep() -> None: ...

A declared job is a django-tasks task under the function's own dotted name, taking the
row's pk; services queue a row with `jobs.enqueue(row)` and never import tasks.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import autodiscover_modules
from django_tasks import TaskContext
from django_tasks import task as django_task

from core.jobs.kinds import JobKind, register
from core.jobs.run import run


def task(
    model: type,
    *,
    kind: type[JobKind] = JobKind,
    on_change: Callable[[Any], None] | None = None,
    max_attempts: int | str | None = None,
    auto_retries: int | str | None = None,
    priority: int = 0,
    claims_itself: bool = False,
):
    """Declare the task that works on `model`'s rows and put them under the mechanism.

    The decorated function gets the claimed row (see `core.jobs.run`). With
    `claims_itself`, it gets the row's pk and the task's id instead and claims, beats and
    finishes with the mechanism's pieces itself (replies, which stream as they finish).
    With `auto_retries` (a number or a setting's name), the sweeper retries a failed row
    that many times, waiting longer each time (JobKind.auto_retry_after)."""

    def declare(work: Callable[..., Any]):
        def body(context: TaskContext, pk: int) -> None:
            task_id = str(context.task_result.id)
            if claims_itself:
                work(pk, task_id=task_id)
            else:
                run(model, pk, work=work, task_id=task_id)

        declared = django_task(priority=priority, takes_context=True)(_named_as(body, work))
        register(
            kind(
                model=model,
                task=declared,
                on_change=on_change,
                attempts_allowed=max_attempts,
                auto_retries_allowed=auto_retries,
            )
        )
        return declared

    return declare


@dataclass(frozen=True)
class Periodic:
    func: Callable[[], Any]
    every: str  # the setting holding the seconds between runs

    @property
    def name(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"


_periodic: list[Periodic] = []


def periodic(*, every: str):
    """Declare a function every worker runs on a timer; `every` names the setting with
    the seconds between runs (checked by `manage.py check`)."""

    def declare(func: Callable[[], Any]) -> Callable[[], Any]:
        if all(p.func is not func for p in _periodic):
            _periodic.append(Periodic(func=func, every=every))
        return func

    return declare


def periodic_jobs() -> list[Periodic]:
    return list(_periodic)


def discover() -> None:
    """Import every app's tasks.py, where jobs are declared."""
    autodiscover_modules("tasks")


def _named_as(body: Callable[..., Any], work: Callable[..., Any]) -> Callable[..., Any]:
    """django-tasks finds a task again by its function's dotted name: give the body the
    declared function's, which the returned task object takes in its module."""
    body.__module__ = work.__module__
    body.__name__ = work.__name__
    body.__qualname__ = work.__qualname__
    body.__doc__ = work.__doc__
    return body
