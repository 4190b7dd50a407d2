"""How every scan is run, whatever its point type: cheap checks (client id, scan time),
the point type's one read, its decision, its record and the client-id log in one write;
a repeated client id answers the first answer and writes nothing. Offline queues are
settled earliest first, and undoing a scan's record is audited here too."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from service import clock
from service.db import is_unique_violation, run_sql, write_transaction
from service.errors import DomainError
from service.scans.points import PointType, ScanContext, point_type

# An offline scanner's clock is trusted for ordering, within reason.
MAX_CLOCK_PAST = timedelta(hours=24)
MAX_CLOCK_FUTURE = timedelta(minutes=2)
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
MAX_BATCH = 500

# Stable codes of the mechanism itself (a point type adds its own verdicts).
UNKNOWN_POINT_TYPE = "unknown_point_type"
NO_SUCH_POINT = "no_such_point"
POINT_CLOSED = "point_closed"

# The client-id log's columns, for a point type whose hot path writes its row inside its
# own statement (the door's LIVE_ADMISSION_PG): quote these, do not retype them.
CLIENT_LOG_COLUMNS = "point_type, point_id, client_id, scanner_id, answer_id, recorded_at"
INSERT_CLIENT_LOG = (
    f"INSERT INTO scan_client_log ({CLIENT_LOG_COLUMNS}) "  # noqa: S608 (a constant)
    "VALUES ({}, {}, {}, {}, {}, {})"
)
READ_CLIENT_LOG = (
    "SELECT point_id, scanner_id, answer_id FROM scan_client_log "
    "WHERE point_type = {} AND client_id = {}"
)

A = TypeVar("A")
I = TypeVar("I")  # noqa: E741
P = TypeVar("P")


# --- cheap checks ---------------------------------------------------------------------------


def client_id_of(client_id: str | None, *, required: bool = False) -> str | None:
    """A scanner's id for one scan (None when it sent none and none is `required`), or
    validation_error."""
    if client_id is None or client_id == "":
        if not required:
            return None
        client_id = ""  # refused below, with the same message as a malformed one
    if not CLIENT_ID.match(client_id):
        raise DomainError(
            "validation_error",
            "client_id must be 8 to 64 letters, digits or - _ . :",
            field="client_id",
        )
    return client_id


def scan_time(scanned_at: datetime | None, now: datetime) -> datetime:
    """The scanner's time of a scan, clamped: a phone's clock orders its offline scans,
    but never more than a day back nor beyond a couple of minutes ahead."""
    if scanned_at is None:
        return now
    if scanned_at.tzinfo is None:
        raise DomainError(
            "validation_error", "Give scanned_at with its time zone.", field="scanned_at"
        )
    return min(max(scanned_at, now - MAX_CLOCK_PAST), now + MAX_CLOCK_FUTURE)


def context(
    code: str,
    point_id: int,
    actor: Any,
    *,
    scanner_id: int | None,
    scanner_name: str,
    client_id: str | None,
    scanned_at: datetime | None,
    offline: bool = False,
) -> ScanContext:
    """A scan's context, its cheap checks done (no read yet)."""
    return ScanContext(
        point_type=code,
        point_id=point_id,
        actor=actor,
        scanner_id=scanner_id,
        scanner_name=scanner_name[:50],
        client_id=client_id_of(client_id),
        at=scan_time(scanned_at, clock.now()),
        offline=offline,
    )


def kind_of(code: str) -> PointType:
    found = point_type(code)
    if found is None:
        raise DomainError(UNKNOWN_POINT_TYPE, "There is no such kind of scan point.")
    return found


# --- one scan -------------------------------------------------------------------------------


async def decide(scan: ScanContext, payload: Any) -> Any:
    """Decide one scan at its point: the point type's one read, its verdict, and its record
    with the client-id log row in one write. A point that does not exist answers
    no_such_point, a closed one point_closed: nothing written either way."""
    kind = kind_of(scan.point_type)
    reading = await kind.read(scan, payload)
    if reading is None:
        raise DomainError(NO_SUCH_POINT, "There is no such scan point.")
    if not kind.is_open(reading):
        raise DomainError(POINT_CLOSED, "This scan point is closed now.")
    return await record(kind, scan, reading, kind.decide(scan, reading))


async def record(kind: PointType, scan: ScanContext, reading: Any, verdict: Any) -> Any:
    """Write a decided scan. No look-up of the client id first: a repeated one is refused
    by the log's unique index with the record, which is rolled back, and then answered
    with the first scan's answer."""
    try:
        if kind.logs_client_ids:
            _, answer = await kind.record(scan, reading, verdict)
        else:
            async with write_transaction():
                record_id, answer = await kind.record(scan, reading, verdict)
                await log_client_id(
                    scan.point_type, scan.point_id, scan.client_id, scan.scanner_id, record_id
                )
    except Exception as error:
        # The same client id sent twice, or twice at once: the first one's answer stands.
        if scan.client_id is None or not is_unique_violation(error):
            raise
        replayed = await replay(kind, scan)
        if replayed is None:
            raise
        return replayed
    return answer


async def log_client_id(
    code: str,
    point_id: int,
    client_id: str | None,
    scanner_id: int | None,
    answer_id: int,
    recorded_at: datetime | None = None,
) -> None:
    """Log a scan's client id with the id of its record (call it inside the record's
    transaction, so a refused client id takes the record back with it)."""
    if client_id is None:
        return
    await run_sql(
        INSERT_CLIENT_LOG,
        code,
        point_id,
        client_id,
        scanner_id,
        answer_id,
        recorded_at or clock.now(),
    )


async def replay(kind: PointType, scan: ScanContext) -> Any | None:
    """The first answer given to this scan's client id (None when it is new). A client id
    of another point or scanner is a conflict, never someone else's answer."""
    if scan.client_id is None:
        return None
    rows = await run_sql(READ_CLIENT_LOG, scan.point_type, scan.client_id)
    if not rows:
        return None
    logged = rows[0]
    if logged["point_id"] != scan.point_id or logged["scanner_id"] != scan.scanner_id:
        raise DomainError(
            "conflict", "This client_id was already used for another scan.", field="client_id"
        )
    return await kind.answer(scan, int(logged["answer_id"]))


# --- offline queues -------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchRun(Generic[A]):
    """A settled queue: the answers in the order sent, and which of them (by position)
    were flagged as later duplicates, for the scanner to show after its sync."""

    answers: list[A]
    duplicates: list[int]


async def run_batch(
    code: str,
    items: Sequence[I],
    *,
    open_point: Callable[[], Awaitable[P]],
    decide_one: Callable[[P, I], Awaitable[A]],
    scanned_at: Callable[[I], datetime | None],
    client_id: Callable[[I], str | None],
    limit: int = MAX_BATCH,
) -> BatchRun[A]:
    """An offline scanner's queue: every scan needs its client id (so a resent queue
    replays), scans are decided oldest first by the scanner's clock (so the earliest scan
    of a thing wins and later ones are its duplicates), answered in the order sent.
    `open_point` reads the point once (and checks the scanner may scan there)."""
    kind = kind_of(code)
    if len(items) > limit:
        raise DomainError(
            "validation_error",
            "Send at most %(limit)s scans at a time.",
            field="scans",
            limit=limit,
        )
    point = await open_point()
    for item in items:
        if not client_id(item):
            raise DomainError(
                "validation_error", "Every queued scan needs its client_id.", field="client_id"
            )

    def when(index: int) -> float:
        moment = scanned_at(items[index])
        return moment.timestamp() if moment else 0.0

    answers: dict[int, A] = {}
    for index in sorted(range(len(items)), key=when):
        answers[index] = await decide_one(point, items[index])
    ordered = [answers[index] for index in range(len(items))]
    duplicates = [
        index
        for index, answer in enumerate(ordered)
        if kind.result_of(answer) in kind.duplicate_results
    ]
    return BatchRun(answers=ordered, duplicates=duplicates)


# --- undo -----------------------------------------------------------------------------------


async def audit_undo(
    code: str,
    point_id: int,
    record_id: int,
    *,
    action: str,
    actor_id: int | None,
    actor_name: str,
    reason: str,
) -> None:
    """Keep who undid which scan's record, when and why (inside the undo's transaction)."""
    await run_sql(
        "INSERT INTO scan_undo_audit (point_type, point_id, record_id, action, actor_id, "
        "actor_name, reason, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
        code,
        point_id,
        record_id,
        action,
        actor_id,
        actor_name[:50],
        reason,
        clock.now(),
    )
