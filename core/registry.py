"""Name -> dotted path registries whose entries are imported on first use, so a
deployment that never names a provider or detector never imports its dependencies."""

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Generic, TypeVar

from django.utils.module_loading import import_string

T = TypeVar("T")


class Registry(Generic[T]):
    """`paths` maps a name to a dotted path; `make` turns the imported object into the
    entry (a class is instantiated once; a function is kept as it is)."""

    def __init__(
        self, what: str, paths: Mapping[str, str], make: Callable[[object], T] | None = None
    ):
        self.what = what
        self.paths = dict(paths)
        self._make = make or (lambda found: found)
        self._entries: dict[str, T] = {}
        self._lock = threading.Lock()

    def __contains__(self, name: str) -> bool:
        return name in self.paths

    def __iter__(self):
        return iter(self.paths)

    def check(self, name: str) -> str:
        if name not in self.paths:
            raise ValueError(f"Unknown {self.what} {name!r}; choose one of {sorted(self.paths)}")
        return name

    def get(self, name: str) -> T:
        entry = self._entries.get(name)
        if entry is not None:
            return entry
        self.check(name)
        with self._lock:
            if name not in self._entries:
                self._entries[name] = self._make(import_string(self.paths[name]))
            return self._entries[name]

    @contextmanager
    def replaced(self, name: str, entry: T) -> Iterator[None]:
        """Another entry under a known name for the duration of a block (a fake in a test)."""
        self.check(name)
        with self._lock:
            before = self._entries.get(name)
            self._entries[name] = entry
        try:
            yield
        finally:
            with self._lock:
                if before is None:
                    self._entries.pop(name, None)
                else:
                    self._entries[name] = before

    @contextmanager
    def added(self, name: str, path: str) -> Iterator[None]:
        """One more entry for the duration of a block (tests swap a seam this way)."""
        self.paths[name] = path
        try:
            yield
        finally:
            with self._lock:
                self.paths.pop(name, None)
                self._entries.pop(name, None)


def instance(cls: type[T]) -> T:
    """`make` for registries of classes: one shared instance per name."""
    return cls()
