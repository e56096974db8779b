"""Which daily allowance a model call spends.

A learner's chat (replies, the doubt solver, tests) spends her chat allowance,
LLM_DAILY_TOKEN_QUOTA. Work done for her in the background (analysis, lessons, document
ingestion) spends a background allowance of its own, so that it can never end her chat
for the day: LLM_BACKGROUND_DAILY_TOKENS for her own conversations, and
LLM_INTEGRATION_DAILY_TOKENS per integration for the conversations it posts for her.

A background job runs its work inside `background(...)`: its calls are charged there,
and a spent allowance defers the job to when the allowance renews (`jobs.Defer`)
instead of failing it.
"""

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from llm import errors
from llm.scheduling import BACKGROUND_PRIORITY

CHAT = "chat"
BACKGROUND = "background"


@dataclass(frozen=True)
class Charge:
    """What a call is charged to: an allowance, and the integration it works for."""

    allowance: str = CHAT
    integration_id: int | None = None


_current: contextvars.ContextVar[Charge | None] = contextvars.ContextVar("llm_charge", default=None)


def current() -> Charge:
    """The charge of the background work running now; the chat's outside it."""
    return _current.get() or Charge()


def charge_for(task: str) -> Charge:
    """The charge of a call of profile `task` made now: the background job's, or by the
    profile (the background profiles are background wherever they are called from)."""
    current = _current.get()
    if current is not None:
        return current
    return Charge(BACKGROUND if task in BACKGROUND_PRIORITY else CHAT)


@contextlib.contextmanager
def background(*, integration_id: int | None = None) -> Iterator[Charge]:
    """Charge the calls made inside to the background allowance (of `integration_id`
    when the work is for one of its conversations). A spent allowance raises
    `jobs.Defer` until it renews: the job waits for it rather than failing."""
    charge = Charge(BACKGROUND, integration_id)
    token = _current.set(charge)
    try:
        yield charge
    except errors.QuotaExceeded as exc:
        from core import jobs  # job models need the app registry; `llm` loads before it

        raise jobs.Defer(exc.user_message, until=exc.renews_at) from None
    finally:
        _current.reset(token)


def renews_at(day_start: datetime) -> datetime:
    """When an allowance counted from `day_start` (midnight UTC) renews."""
    return day_start + timedelta(days=1)
