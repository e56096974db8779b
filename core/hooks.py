"""Points in one app that later stages follow, called explicitly after commit.

Dependencies run one way (accounts ← llm ← documents ← conversations ← analysis ←
teaching), so an app cannot call the apps built on it. It names a `Hook` instead and
calls it once its change is committed; which functions follow each hook is declared in
one file, config/flow.py, read top to bottom.
"""

import logging
from collections.abc import Callable
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)

Subscriber = Callable[[int], object]


class Hook:
    def __init__(self, name: str) -> None:
        self.name = name
        self.subscribers: list[Subscriber] = []

    def __repr__(self) -> str:
        return f"Hook({self.name!r})"

    def subscribe(self, subscriber: Subscriber) -> None:
        if subscriber not in self.subscribers:
            self.subscribers.append(subscriber)

    def call(self, pk: int) -> None:
        """Call every subscriber now, inside the caller's transaction (their writes, a
        queued task, commit or roll back with it)."""
        for subscriber in list(self.subscribers):
            subscriber(pk)

    def call_on_commit(self, pk: int) -> None:
        """Call every subscriber with `pk` once the surrounding transaction commits (at
        once outside one). A failing subscriber is logged and does not undo or fail the
        change that called it."""
        for subscriber in list(self.subscribers):
            transaction.on_commit(partial(subscriber, pk), robust=True)


class Slot:
    """A function an app needs from a later stage it may not import: the later stage
    provides it in config/flow.py. Until one is provided, the slot answers `default`
    (an app still works alone, e.g. in its own tests)."""

    def __init__(self, name: str, default: Callable[..., object]) -> None:
        self.name = name
        self.default = default
        self.provider: Callable[..., object] | None = None

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"

    def provide(self, provider: Callable[..., object]) -> None:
        self.provider = provider

    def __call__(self, *args: object, **kwargs: object) -> object:
        return (self.provider or self.default)(*args, **kwargs)
