"""Recurring mistake families from analysed errors. Pure: no ORM, no model call."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ErrorPoint:
    key: str
    error_type: str
    original: str
    correction: str
    features: dict = field(default_factory=dict)
    priority: int = 3
    when: datetime | None = None


@dataclass(frozen=True)
class Cluster:
    label: int
    name: str
    description: str
    error_type: str
    keys: tuple[str, ...]
    top_edits: tuple[tuple[str, str], ...]
    score: float
    xy: tuple[tuple[float, float], ...]  # 2-D map coordinates, one per key


def cluster_errors(points: Sequence[ErrorPoint], *, seed: int = 0) -> list[Cluster]:
    """Clusters ranked by frequency x priority, deterministic for the same input."""
    raise NotImplementedError("cluster_errors lands with the clustering step")
