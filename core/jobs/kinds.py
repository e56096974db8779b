"""How the mechanism treats one model's rows, and the registry of those kinds.

A kind is made by `@jobs.task(Model, ...)` where the model's task is declared; nothing
else registers one."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.jobs.models import JobStatus

logger = logging.getLogger("core.jobs")

WORKER_LOST = "The worker processing this stopped before it finished, too many times."


class Setting:
    """A kind's figure read from the named setting each time it is used (so it can change
    at run time, and tests can override it)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, kind: Any, owner: type | None = None) -> Any:
        return self if kind is None else getattr(settings, self.name)


@dataclass(eq=False)
class JobKind:
    """How the mechanism treats one model's rows. The defaults fit `Job` subclasses; a
    model with other status names or timings (replies) subclasses this.

    `attempts_allowed` is a number, or the name of the setting that holds it (read each
    time, so it can change at run time)."""

    model: type[models.Model]
    task: Any = None
    on_change: Callable[[Any], None] | None = None
    attempts_allowed: int | str | None = None
    # Rounds of attempts a failed row gets from the sweeper, later and later
    # (JOB_AUTO_RETRY_BASE_SECONDS * 2**round after it failed); a number or a setting's
    # name, like `attempts_allowed`. None: a failed row waits for someone to retry it.
    auto_retries_allowed: int | str | None = None
    queued: str = JobStatus.QUEUED
    running: str = JobStatus.RUNNING
    done: str = JobStatus.DONE
    failed: str = JobStatus.FAILED
    finished_field: str = "finished_at"
    lost_reason: str = WORKER_LOST
    overdue_reason: str = "This took too long and was stopped. Please try again."

    @property
    def label(self) -> str:
        """What the logs call one row."""
        return self.model.__name__

    @property
    def max_attempts(self) -> int:
        allowed = self.attempts_allowed
        if isinstance(allowed, str):
            return getattr(settings, allowed)
        return allowed or settings.JOB_MAX_ATTEMPTS

    @property
    def auto_retries(self) -> int:
        allowed = self.auto_retries_allowed
        if isinstance(allowed, str):
            return getattr(settings, allowed)
        return allowed or 0

    def rounds(self, attempts: int) -> int:
        """Rounds of attempts the row had before this one: each retry, automatic or by
        hand, and each deferral starts a new one."""
        return attempts // self.attempt_stride

    def auto_retry_after(self, attempts: int) -> float | None:
        """Seconds after its failure that a row failed with `attempts` is retried by the
        sweeper; None when it has had all its automatic rounds."""
        rounds = self.rounds(attempts)
        if rounds >= self.auto_retries:
            return None
        return settings.JOB_AUTO_RETRY_BASE_SECONDS * 2**rounds

    @property
    def attempt_stride(self) -> int:
        return self.max_attempts + 1

    def attempts_used(self, attempts: int) -> int:
        """Attempts since the row was last queued by hand (`jobs.retry`). The count itself
        never goes down, because it fences each attempt's writes (`mine`): a retry moves
        it on to the next multiple of `attempt_stride` instead of back to 0, so the
        remainder is what this round has used (0 to max_attempts)."""
        return attempts % self.attempt_stride

    def out_of_attempts(self, attempts: int) -> bool:
        return self.attempts_used(attempts) >= self.max_attempts

    def retried_attempts(self) -> Any:
        """The count a retry leaves: the next multiple of the stride, never less than
        now, so an attempt still running from before can never match `mine` again."""
        stride = self.attempt_stride
        return (F("attempts") + (stride - 1)) / stride * stride

    heartbeat_seconds = Setting("JOB_HEARTBEAT_SECONDS")
    stale_seconds = Setting("JOB_STALE_SECONDS")
    queued_stale_seconds = Setting("JOB_QUEUED_STALE_SECONDS")
    max_seconds = Setting("JOB_MAX_SECONDS")

    @property
    def objects(self) -> models.Manager:
        return self.model._default_manager

    def mine(self, row: Any) -> Q:
        """The rows that are still `row`'s attempt: the guard of every write a running
        job makes, so a cancel, a delete or a sweeper that gave the attempt up stops it."""
        return Q(pk=row.pk, status=self.running, attempts=row.attempts)

    def claimable(self) -> Q:
        """What a row must also match to be claimed (besides being queued)."""
        return Q()

    def claim_fields(self) -> dict[str, Any]:
        """Fields a claim resets, besides status, attempts and the timestamps."""
        return {"error": ""}

    def load(self, pk: int) -> Any:
        """The claimed row, as the work needs it."""
        return self.objects.filter(pk=pk).first()

    def claimed(self, row: Any) -> None:
        """Called once a row is claimed (before the work starts)."""

    def requeue_fields(self, row: Any, now: datetime) -> dict[str, Any]:
        return {
            "status": self.queued,
            "heartbeat_at": None,
            "queued_at": now,
            "task_id": "",
            # A job that never got to a worker uses up an attempt too, so a queue that
            # keeps losing it ends in a failure rather than a loop.
            "attempts": F("attempts") + (1 if row.status == self.queued else 0),
        }

    def retry_fields(self, row: Any) -> dict[str, Any]:
        """Fields a retry of a finished row resets, besides its status and attempts."""
        return {}

    def fail_fields(self, reason: str, now: datetime) -> dict[str, Any]:
        return {
            "status": self.failed,
            "error": reason,
            self.finished_field: now,
            "heartbeat_at": None,
        }

    def changed(self, row: Any) -> None:
        if self.on_change is not None:
            try:
                self.on_change(row)
            except Exception:
                logger.exception("on_change of %s %s failed", self.model.__name__, row.pk)


_kinds: dict[type, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Put `kind.model`'s rows under the mechanism (called by `@jobs.task`)."""
    _kinds[kind.model] = kind
    return kind


def unregister(model: type[models.Model]) -> None:
    """Take `model` out of the mechanism (tests whose job table comes and goes)."""
    _kinds.pop(model, None)


def kind_of(model: type[models.Model]) -> JobKind:
    try:
        return _kinds[model]
    except KeyError:
        raise LookupError(
            f"{model.__name__} is not a job model: declare its task with @jobs.task"
        ) from None


def all_kinds() -> list[JobKind]:
    return list(_kinds.values())
