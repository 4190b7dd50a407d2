"""The door as the first user of service/scans: every door scan with a client id is in
the shared client-id log, pointing at its row of the door's scan log, whichever write
path recorded it (PostgreSQL's one-statement admission, the duplicate, a plain verdict,
an offline batch); replays are answered from there and write nothing."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.checkin.schemas import BatchScan
from service.checkin.tables import Scan
from service.scans import services as scanning
from service.scans.tables import ClientLog, UndoAudit
from tests.conftest import ENGINE, Org
from tests.service.test_activities import NOW, published, workers
from tests.service.test_checkin import AT_DOOR, confirmed_ticket


async def logged() -> dict[str, tuple[str, int, int | None, int]]:
    return {
        row["client_id"]: (row["point_type"], row["point_id"], row["scanner_id"], row["answer_id"])
        for row in await ClientLog.select()
    }


async def test_every_door_scan_with_a_client_id_is_logged_once(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    members = await workers(2)
    with clock.frozen_at(NOW):
        code, other_code = [
            (await activities.register(member, activity_id))[0].ticket_code for member in members
        ]
    assert code and other_code
    scanner = org.organiser_a
    with clock.frozen_at(AT_DOOR):
        admitted = await checkin.check_in(scanner, activity_id, code, client_id="door-0001")
        repeat = await checkin.check_in(scanner, activity_id, code, client_id="door-0002")
        bad = await checkin.check_in(scanner, activity_id, "NOT-A-CODE", client_id="door-0003")
        unnamed = await checkin.check_in(scanner, activity_id, other_code)
        (queued,) = await checkin.check_in_batch(
            scanner,
            activity_id,
            [BatchScan(code=code, client_id="door-0004", scanned_at=AT_DOOR)],
        )
    assert [a.result for a in (admitted, repeat, bad, unnamed, queued)] == [
        "admitted",
        "already_checked_in",
        "invalid",
        "admitted",
        "already_checked_in",
    ]
    me = scanner.member_id
    assert await logged() == {
        "door-0001": ("door", activity_id, me, admitted.scan_id),
        "door-0002": ("door", activity_id, me, repeat.scan_id),
        "door-0003": ("door", activity_id, me, bad.scan_id),
        "door-0004": ("door", activity_id, me, queued.scan_id),
    }

    # Every one of them again: the first answers, nothing written anywhere.
    scans_before = await Scan.count()
    with clock.frozen_at(AT_DOOR + timedelta(minutes=5)):
        again = [
            await checkin.check_in(scanner, activity_id, code, client_id="door-0001"),
            await checkin.check_in(scanner, activity_id, code, client_id="door-0002"),
            await checkin.check_in(scanner, activity_id, "NOT-A-CODE", client_id="door-0003"),
            *await checkin.check_in_batch(
                scanner,
                activity_id,
                [BatchScan(code=code, client_id="door-0004", scanned_at=AT_DOOR)],
            ),
        ]
    assert [(a.result, a.scan_id) for a in again] == [
        (a.result, a.scan_id) for a in (admitted, repeat, bad, queued)
    ]
    assert await Scan.count() == scans_before
    assert len(await logged()) == 4


async def test_an_earlier_offline_scan_takes_the_admission_and_both_stay_logged(
    org: Org,
) -> None:
    activity_id = await published(org, capacity=5)
    _, code = await confirmed_ticket(org, activity_id)
    with clock.frozen_at(AT_DOOR):
        later = BatchScan(code=code, client_id="gate-b-0001", scanned_at=AT_DOOR)
        earlier = BatchScan(
            code=code, client_id="gate-a-0001", scanned_at=AT_DOOR - timedelta(minutes=2)
        )
        (b,) = await checkin.check_in_batch(org.organiser_a, activity_id, [later])
        (a,) = await checkin.check_in_batch(org.organiser_a, activity_id, [earlier])
        (b_again,) = await checkin.check_in_batch(org.organiser_a, activity_id, [later])
    assert (b.result, a.result, b_again.result) == (
        "admitted",
        "admitted",
        "already_checked_in",
    )
    assert b_again.scan_id == b.scan_id
    assert {client: row[3] for client, row in (await logged()).items()} == {
        "gate-b-0001": b.scan_id,
        "gate-a-0001": a.scan_id,
    }


class OldAuditEntry(Table, tablename="checkin_audit"):
    """The door's undo audit as it was before the shared one (dropped by the migration)."""

    activity_id = Integer()
    scan_id = Integer()
    action = Varchar(length=24)
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=50, default="")
    reason = Text(default="")
    created_at = Timestamptz()


async def test_the_migration_moves_the_doors_client_ids_and_audit_to_the_shared_tables(
    org: Org,
) -> None:
    activity_id = await published(org, capacity=5)
    _, code = await confirmed_ticket(org, activity_id)
    with clock.frozen_at(AT_DOOR):
        first = await checkin.check_in(org.organiser_a, activity_id, code, client_id="old-00001")
    # As a database from before the move holds them: the client id only in the scan log,
    # the undo in checkin_audit.
    await ClientLog.delete(force=True)
    await OldAuditEntry.create_table()
    await OldAuditEntry.insert(
        OldAuditEntry(
            activity_id=activity_id,
            scan_id=first.scan_id,
            action="undo_admission",
            actor_id=org.organiser_a.member_id,
            actor_name="甲组织者",
            reason="扫错了",
            created_at=AT_DOOR,
        )
    )
    module = importlib.import_module(
        "service.checkin.piccolo_migrations.checkin_2026_12_04t16_42_00_000000"
    )
    manager = await module.forwards()
    for move in manager.raw:
        await move()

    assert await logged() == {
        "old-00001": ("door", activity_id, org.organiser_a.member_id, first.scan_id)
    }
    (audit,) = await UndoAudit.select()
    assert (audit["point_type"], audit["point_id"], audit["record_id"]) == (
        "door",
        activity_id,
        first.scan_id,
    )
    assert (audit["action"], audit["actor_name"], audit["reason"]) == (
        "undo_admission",
        "甲组织者",
        "扫错了",
    )
    assert audit["created_at"] == AT_DOOR
    assert not await OldAuditEntry.table_exists()
    # A scanner resending its queue after the upgrade gets the first answer back.
    with clock.frozen_at(AT_DOOR + timedelta(minutes=1)):
        again = await checkin.check_in(org.organiser_a, activity_id, code, client_id="old-00001")
    assert (again.result, again.scan_id) == ("admitted", first.scan_id)


async def test_a_live_door_scan_on_postgres_is_one_read_and_one_write(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The B3 hot path kept through the shared mechanism: the client-id log row rides in
    the door's one-statement admission (and in its duplicate), no transaction around."""
    if ENGINE != "postgres":
        pytest.skip("the one-statement admission is PostgreSQL's")
    activity_id = await published(org, capacity=5)
    _, code = await confirmed_ticket(org, activity_id)
    statements: list[str] = []
    transactions: list[bool] = []
    real_run_sql = checkin.run_sql

    async def counted(sql: str, *params: Any) -> list[dict[str, Any]]:
        statements.append(sql)
        return await real_run_sql(sql, *params)

    real_transaction = checkin.write_transaction

    def counted_transaction() -> Any:
        transactions.append(True)
        return real_transaction()

    monkeypatch.setattr(checkin, "run_sql", counted)
    monkeypatch.setattr(scanning, "run_sql", counted)
    monkeypatch.setattr(checkin, "write_transaction", counted_transaction)
    monkeypatch.setattr(scanning, "write_transaction", counted_transaction)
    with clock.frozen_at(AT_DOOR):
        admitted = await checkin.check_in(org.organiser_a, activity_id, code, client_id="hot-0001")
        repeat = await checkin.check_in(org.organiser_a, activity_id, code, client_id="hot-0002")
    assert (admitted.result, repeat.result) == ("admitted", "already_checked_in")
    assert statements == [checkin.SCAN_READ, checkin.LIVE_ADMISSION_PG] * 2
    assert transactions == []
    assert set(await logged()) == {"hot-0001", "hot-0002"}
