"""The registry of scan point types. A point type (`door`, `booth`, `delivery_site`,
each registered by its own room's services.py) says how one scan at one of its points is
read, decided, recorded and answered again; services.decide runs those steps the same
way for every type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class ScanContext:
    """What every scan carries besides its payload, checked before any read."""

    point_type: str
    point_id: int
    actor: Any  # the room's idea of who scans; opaque here
    scanner_id: int | None
    scanner_name: str
    client_id: str | None
    at: datetime  # the scan time, clamped to sane bounds (services.scan_time)
    offline: bool = False  # from a synced queue: the scanner already showed a verdict


class PointType(Protocol):
    """What a room registers for each kind of scan point."""

    code: str  # stable: stored in the client-id log and the undo audit
    # Results that mark a later scan of something already scanned (flagged in a batch).
    duplicate_results: frozenset[str]
    # True when `record` writes the client-id log row itself (a hot path that folds it
    # into its one statement); otherwise decide() writes it in record's transaction.
    logs_client_ids: bool

    async def read(self, scan: ScanContext, payload: Any) -> Any | None:
        """The one read: the point and what the payload refers to; None when the point
        does not exist (or the scanner may not know it does). May raise Forbidden."""

    def is_open(self, reading: Any) -> bool:
        """Whether the point takes scans now (a closed point answers point_closed)."""

    def decide(self, scan: ScanContext, reading: Any) -> Any:
        """The verdict, from the reading alone: no I/O."""

    async def record(self, scan: ScanContext, reading: Any, verdict: Any) -> tuple[int, Any]:
        """Write the verdict: (the id of the record written, the answer)."""

    async def answer(self, scan: ScanContext, record_id: int) -> Any:
        """The answer a recorded scan was given, rebuilt from its record (a replay)."""

    def result_of(self, answer: Any) -> str:
        """The stable result code of an answer."""


_POINT_TYPES: dict[str, PointType] = {}


def register(point_type: PointType) -> PointType:
    """Register a point type (once per code; registering the same object again is a
    no-op, so a module imported twice does no harm)."""
    known = _POINT_TYPES.get(point_type.code)
    if known is not None and known is not point_type:
        raise ValueError(f"scan point type {point_type.code!r} is registered already")
    _POINT_TYPES[point_type.code] = point_type
    return point_type


def unregister(code: str) -> None:
    """For tests that register a point type of their own."""
    _POINT_TYPES.pop(code, None)


def point_type(code: str) -> PointType | None:
    return _POINT_TYPES.get(code)


def codes() -> list[str]:
    return sorted(_POINT_TYPES)
