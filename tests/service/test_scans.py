"""The scan mechanism itself (service/scans), with a point type registered only here: a
"tally" point where an item is counted once and every later scan of it is a duplicate.
Replays by client id, earliest-wins batches, the clock clamp, and points that do not
exist or are closed, on both engines (the door's own tests are in test_checkin.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.table import Table

from service import clock
from service.db import write_transaction
from service.errors import DomainError
from service.scans import points
from service.scans import services as scanning
from service.scans.points import ScanContext
from service.scans.tables import ClientLog, UndoAudit
from tests.service.test_activities import NOW

TALLY = "test_tally"
OPEN_POINT, CLOSED_POINT, MISSING_POINT = 1, 2, 3


class TallyScan(Table, tablename="test_scan_tally"):
    """The test point type's own record of its scans."""

    point_id = Integer()
    item = Varchar(length=40)
    result = Varchar(length=24)
    scanner_id = Integer(null=True, default=None)
    scanned_at = Timestamptz()


@dataclass(frozen=True)
class Scanner:
    member_id: int
    name: str


@dataclass(frozen=True)
class Reading:
    point_id: int
    is_open: bool
    item: str
    counted: bool


class TallyPoint:
    code = TALLY
    duplicate_results = frozenset({"already_counted"})
    logs_client_ids = False
    points: dict[int, bool] = {OPEN_POINT: True, CLOSED_POINT: False}  # noqa: RUF012

    async def read(self, scan: ScanContext, payload: str) -> Reading | None:
        if scan.point_id not in self.points:
            return None
        counted = await TallyScan.exists().where(
            (TallyScan.point_id == scan.point_id)
            & (TallyScan.item == payload)
            & (TallyScan.result == "counted")
        )
        return Reading(scan.point_id, self.points[scan.point_id], payload, counted)

    def is_open(self, reading: Reading) -> bool:
        return reading.is_open

    def decide(self, scan: ScanContext, reading: Reading) -> str:
        return "already_counted" if reading.counted else "counted"

    async def record(
        self, scan: ScanContext, reading: Reading, verdict: str
    ) -> tuple[int, dict[str, Any]]:
        (row,) = await TallyScan.insert(
            TallyScan(
                point_id=scan.point_id,
                item=reading.item,
                result=verdict,
                scanner_id=scan.scanner_id,
                scanned_at=scan.at,
            )
        ).returning(TallyScan.id)
        return row["id"], await self.answer(scan, row["id"])

    async def answer(self, scan: ScanContext, record_id: int) -> dict[str, Any]:
        row = await TallyScan.select().where(TallyScan.id == record_id).first()
        assert row is not None
        return {"id": row["id"], "result": row["result"], "scanned_at": row["scanned_at"]}

    def result_of(self, answer: dict[str, Any]) -> str:
        return answer["result"]


@pytest.fixture
async def tally() -> AsyncIterator[TallyPoint]:
    await TallyScan.create_table(if_not_exists=True)
    point = points.register(TallyPoint())
    try:
        yield point
    finally:
        points.unregister(TALLY)
        await TallyScan.alter().drop_table(if_exists=True)


ALICE = Scanner(member_id=101, name="甲工作人员")
BOB = Scanner(member_id=102, name="乙工作人员")


def scan(
    point_id: int = OPEN_POINT,
    client_id: str | None = None,
    scanned_at: datetime | None = None,
    scanner: Scanner = ALICE,
    *,
    offline: bool = False,
) -> ScanContext:
    return scanning.context(
        TALLY,
        point_id,
        scanner,
        scanner_id=scanner.member_id,
        scanner_name=scanner.name,
        client_id=client_id,
        scanned_at=scanned_at,
        offline=offline,
    )


async def written() -> tuple[int, int]:
    return await TallyScan.count(), await ClientLog.count()


# --- one scan -----------------------------------------------------------------------------


async def test_a_repeated_client_id_answers_the_first_answer_and_writes_nothing(
    tally: TallyPoint,
) -> None:
    with clock.frozen_at(NOW):
        first = await scanning.decide(scan(client_id="tally-0001"), "box-1")
    with clock.frozen_at(NOW + timedelta(minutes=5)):
        again = await scanning.decide(scan(client_id="tally-0001"), "box-1")
        # A new client id for the same item is a new scan: the duplicate.
        other = await scanning.decide(scan(client_id="tally-0002"), "box-1")
    assert first == again
    assert first["result"] == "counted" and first["scanned_at"] == NOW
    assert other["result"] == "already_counted"
    assert await written() == (2, 2)
    logged = await ClientLog.select().where(ClientLog.client_id == "tally-0001").first()
    assert logged is not None
    assert (logged["point_type"], logged["point_id"], logged["scanner_id"]) == (
        TALLY,
        OPEN_POINT,
        ALICE.member_id,
    )
    assert logged["answer_id"] == first["id"]


async def test_the_same_client_id_sent_at_once_is_recorded_once(tally: TallyPoint) -> None:
    with clock.frozen_at(NOW):
        answers = await asyncio.gather(
            *(scanning.decide(scan(client_id="tally-race-1"), "box-1") for _ in range(5))
        )
    assert {answer["id"] for answer in answers} == {answers[0]["id"]}
    assert await written() == (1, 1)


async def test_a_client_id_of_another_scanner_or_point_is_a_conflict(tally: TallyPoint) -> None:
    TallyPoint.points[4] = True
    try:
        with clock.frozen_at(NOW):
            await scanning.decide(scan(client_id="tally-0001"), "box-1")
            for other in (scan(client_id="tally-0001", scanner=BOB), scan(4, "tally-0001")):
                with pytest.raises(DomainError) as refused:
                    await scanning.decide(other, "box-2")
                assert refused.value.code == "conflict"
    finally:
        del TallyPoint.points[4]
    assert await written() == (1, 1)


async def test_the_same_client_id_at_another_point_type_is_its_own(tally: TallyPoint) -> None:
    # The log is keyed by point type: a door's client id does not answer a tally scan.
    with clock.frozen_at(NOW):
        await scanning.log_client_id("door", OPEN_POINT, "shared-0001", ALICE.member_id, 999)
        answer = await scanning.decide(scan(client_id="shared-0001"), "box-1")
    assert answer["result"] == "counted"
    assert await written() == (1, 2)


@pytest.mark.parametrize(
    ("point_id", "code"),
    [(MISSING_POINT, "no_such_point"), (CLOSED_POINT, "point_closed")],
)
async def test_a_missing_or_closed_point_answers_its_code_and_writes_nothing(
    tally: TallyPoint, point_id: int, code: str
) -> None:
    with clock.frozen_at(NOW), pytest.raises(DomainError) as refused:
        await scanning.decide(scan(point_id, "tally-0001"), "box-1")
    assert refused.value.code == code
    assert refused.value.status_code == (404 if code == "no_such_point" else 409)
    assert await written() == (0, 0)
    # The control: the same scan at an open point is written.
    with clock.frozen_at(NOW):
        await scanning.decide(scan(OPEN_POINT, "tally-0001"), "box-1")
    assert await written() == (1, 1)


async def test_an_unknown_point_type_answers_its_code(tally: TallyPoint) -> None:
    with clock.frozen_at(NOW), pytest.raises(DomainError) as refused:
        await scanning.decide(scan(), "box-1")  # registered: no error
        await scanning.decide(replace_type(scan(), "no_such_type"), "box-1")
    assert refused.value.code == "unknown_point_type"
    assert await written() == (1, 0)


def replace_type(context: ScanContext, code: str) -> ScanContext:
    from dataclasses import replace

    return replace(context, point_type=code)


@pytest.mark.parametrize(
    "client_id", ["short", "x" * 65, "has space 123", "引号'; DROP TABLE x;--"]
)
async def test_a_malformed_client_id_is_refused_before_any_read(
    tally: TallyPoint, client_id: str
) -> None:
    with pytest.raises(DomainError) as refused:
        scan(client_id=client_id)
    assert (refused.value.code, refused.value.field) == ("validation_error", "client_id")
    assert await written() == (0, 0)


def test_a_registered_code_cannot_be_taken_by_another_point_type() -> None:
    first = points.register(TallyPoint())
    try:
        with pytest.raises(ValueError, match=TALLY):
            points.register(TallyPoint())
        assert points.register(first) is first
        # A room registers its point types when its services are imported.
        from service.checkin import services as checkin

        assert points.point_type("door") is checkin.DOOR_POINT
        assert set(points.codes()) >= {"door", TALLY}
    finally:
        points.unregister(TALLY)


# --- the scan time ------------------------------------------------------------------------


async def test_scan_time_is_clamped_to_sane_bounds(tally: TallyPoint) -> None:
    with clock.frozen_at(NOW):
        long_ago = await scanning.decide(scan(scanned_at=NOW - timedelta(days=30)), "box-1")
        ahead = await scanning.decide(scan(scanned_at=NOW + timedelta(hours=3)), "box-2")
        fair = await scanning.decide(scan(scanned_at=NOW - timedelta(hours=2)), "box-3")
        with pytest.raises(DomainError) as naive:
            scan(scanned_at=NOW.replace(tzinfo=None))
    assert long_ago["scanned_at"] == NOW - scanning.MAX_CLOCK_PAST
    assert ahead["scanned_at"] == NOW + scanning.MAX_CLOCK_FUTURE
    assert fair["scanned_at"] == NOW - timedelta(hours=2)
    assert (naive.value.code, naive.value.field) == ("validation_error", "scanned_at")


# --- offline batches ----------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    item: str
    client_id: str | None
    scanned_at: datetime | None


async def settle(queue: list[Queued], point_id: int = OPEN_POINT) -> scanning.BatchRun[Any]:
    async def open_point() -> int:
        return point_id

    async def decide_one(point: int, queued: Queued) -> dict[str, Any]:
        context = scan(point, queued.client_id, queued.scanned_at, offline=True)
        return await scanning.decide(context, queued.item)

    return await scanning.run_batch(
        TALLY,
        queue,
        open_point=open_point,
        decide_one=decide_one,
        scanned_at=lambda queued: queued.scanned_at,
        client_id=lambda queued: queued.client_id,
        limit=10,
    )


async def test_a_batch_is_settled_earliest_first_and_later_scans_are_flagged(
    tally: TallyPoint,
) -> None:
    at = NOW - timedelta(minutes=30)
    queue = [
        Queued("box-1", "queue-0003", at + timedelta(minutes=3)),
        Queued("box-2", "queue-0004", at + timedelta(minutes=4)),
        Queued("box-1", "queue-0001", at + timedelta(minutes=1)),
        Queued("box-1", "queue-0002", at + timedelta(minutes=2)),
    ]
    with clock.frozen_at(NOW):
        settled = await settle(queue)
    results = [answer["result"] for answer in settled.answers]  # in the order sent
    assert results == ["already_counted", "counted", "counted", "already_counted"]
    assert settled.answers[2]["scanned_at"] == at + timedelta(minutes=1)
    assert settled.duplicates == [0, 3]
    assert await written() == (4, 4)

    # The same queue resent (its sync answer was lost): the same answers, nothing written.
    with clock.frozen_at(NOW + timedelta(minutes=1)):
        resent = await settle(list(reversed(queue)))
    assert resent.answers == list(reversed(settled.answers))
    assert await written() == (4, 4)


@pytest.mark.parametrize(
    ("queue", "field"),
    [
        ([Queued("box-1", f"queue-{i:04d}", None) for i in range(11)], "scans"),
        ([Queued("box-1", "queue-0001", None), Queued("box-2", None, None)], "client_id"),
        ([Queued("box-1", "queue-0001", None), Queued("box-2", "", None)], "client_id"),
    ],
    ids=["oversized", "without client id", "empty client id"],
)
async def test_a_bad_batch_is_refused_whole(
    tally: TallyPoint, queue: list[Queued], field: str
) -> None:
    with clock.frozen_at(NOW), pytest.raises(DomainError) as refused:
        await settle(queue)
    assert (refused.value.code, refused.value.field) == ("validation_error", field)
    assert await written() == (0, 0)


async def test_a_batch_for_a_closed_point_writes_nothing(tally: TallyPoint) -> None:
    with clock.frozen_at(NOW), pytest.raises(DomainError) as refused:
        await settle([Queued("box-1", "queue-0001", NOW)], CLOSED_POINT)
    assert refused.value.code == "point_closed"
    assert await written() == (0, 0)


# --- undo ---------------------------------------------------------------------------------


async def test_an_undo_is_audited_with_who_when_and_why(tally: TallyPoint) -> None:
    with clock.frozen_at(NOW):
        answer = await scanning.decide(scan(client_id="tally-0001"), "box-1")
        async with write_transaction():
            await TallyScan.update({TallyScan.result: "undone"}).where(TallyScan.id == answer["id"])
            await scanning.audit_undo(
                TALLY,
                OPEN_POINT,
                answer["id"],
                action="undo_count",
                actor_id=ALICE.member_id,
                actor_name=ALICE.name,
                reason="扫错了",
            )
    (row,) = await UndoAudit.select()
    assert (row["point_type"], row["point_id"], row["record_id"], row["action"]) == (
        TALLY,
        OPEN_POINT,
        answer["id"],
        "undo_count",
    )
    assert (row["actor_id"], row["actor_name"], row["reason"]) == (
        ALICE.member_id,
        "甲工作人员",
        "扫错了",
    )
    assert row["created_at"] == NOW


def test_the_scan_mechanism_imports_no_room() -> None:
    """Rooms plug into scans/, never the other way round (ARCHITECTURE.md)."""
    import ast
    from pathlib import Path

    service = Path(points.__file__).resolve().parents[1]
    rooms = {
        path.parent.name for path in service.glob("*/piccolo_app.py") if path.parent.name != "scans"
    }
    assert {"checkin", "activities", "orgs"} <= rooms
    imported: set[str] = set()
    for path in (service / "scans").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    reached = {name.split(".")[1] for name in imported if name.startswith("service.")}
    assert not reached & rooms, sorted(reached & rooms)
