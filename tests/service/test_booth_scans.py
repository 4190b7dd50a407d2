"""The job-fair booth as a scan point type of service/scans: every booth scan with a client
id is in the shared client-id log, pointing at its stage scan, and a resend is answered
from there (even when the same scan would be refused now); a client id of another booth or
scanner is a conflict; undos are in the shared undo audit; a scan is one read and one
write; two phones racing on one lead never lose the furthest stage nor make a second lead
(the lead's compare-and-set write); the migration that moves old booth scans' client ids
into the shared log."""

from __future__ import annotations

import asyncio
import importlib
from datetime import timedelta
from typing import Any

import pytest

from service import clock
from service.errors import DomainError
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothScanItem
from service.jobfairs.tables import Lead, StageScan
from service.scans import points
from service.scans import services as scanning
from service.scans.tables import ClientLog, UndoAudit
from tests.conftest import ENGINE, Org
from tests.service.test_jobfairs import AT_FAIR, fair_with_booths, scan, tickets_for


async def logged() -> dict[str, tuple[str, int, int | None, int]]:
    return {
        row["client_id"]: (row["point_type"], row["point_id"], row["scanner_id"], row["answer_id"])
        for row in await ClientLog.select()
    }


def device_of(booth: Any) -> jobfairs.BoothDevice:
    """A phone signed in by the booth's device link (no member account)."""
    return jobfairs.BoothDevice(
        booth_id=booth.id,
        activity_id=booth.activity_id,
        booth_number=booth.number,
        employer_name=booth.employer_name,
        valid_until=AT_FAIR + timedelta(hours=3),
    )


def test_the_booth_is_a_registered_scan_point_type() -> None:
    assert points.point_type("booth") is jobfairs.BOOTH_POINT
    assert "booth" in points.codes()


async def test_booth_scans_are_logged_once_and_a_resend_answers_the_first_answer(
    org: Org,
) -> None:
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    me = org.organiser_a.member_id
    first = await scan(org.organiser_a, booth_id, code, "resume", "log-00001")
    later = AT_FAIR + timedelta(minutes=1)
    moved = await scan(org.organiser_a, booth_id, code, "interview", "log-00002", at=later)
    (queued,) = await jobfairs.record_batch(
        org.organiser_a,
        booth_id,
        [BoothScanItem(code=code, stage="consulted", client_id="log-00003", scanned_at=AT_FAIR)],
    )
    assert [a["result"] for a in (first, moved, queued)] == ["recorded", "recorded", "superseded"]
    assert await logged() == {
        "log-00001": ("booth", booth_id, me, first["scan_id"]),
        "log-00002": ("booth", booth_id, me, moved["scan_id"]),
        "log-00003": ("booth", booth_id, me, queued["scan_id"]),
    }
    # Again, each of them: the first answers. The first scan, sent live again now that
    # the worker is further on, would be refused as backwards: a resend is not.
    again = [
        await scan(
            org.organiser_a, booth_id, code, "resume", "log-00001", at=later + timedelta(minutes=1)
        ),
        await scan(org.organiser_a, booth_id, code, "interview", "log-00002", at=later),
        *await jobfairs.record_batch(
            org.organiser_a,
            booth_id,
            [BoothScanItem(code=code, stage="consulted", client_id="log-00003")],
        ),
    ]
    assert [(a["result"], a["scan_id"]) for a in again] == [
        (a["result"], a["scan_id"]) for a in (first, moved, queued)
    ]
    assert await StageScan.count() == 3 and len(await logged()) == 3


async def test_a_client_id_of_another_booth_or_scanner_is_a_conflict(org: Org) -> None:
    fair = await fair_with_booths(org)
    booth_a, booth_b = fair["booths"]
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    await scan(org.organiser_a, booth_a.id, code, "consulted", "reused-0001")
    for actor, booth_id in ((org.organiser_a, booth_b.id), (device_of(booth_a), booth_a.id)):
        with pytest.raises(DomainError) as caught:
            await scan(actor, booth_id, code, "consulted", "reused-0001")
        assert (caught.value.code, caught.value.field) == ("conflict", "client_id")
    assert await StageScan.count() == 1 and await Lead.count() == 1


async def test_every_scan_needs_its_client_id(org: Org) -> None:
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    (one, two) = await tickets_for(fair["activity_id"], 2)
    with pytest.raises(DomainError) as caught:
        await scan(org.organiser_a, booth_id, one[2], "consulted", "")
    assert (caught.value.code, caught.value.field) == ("validation_error", "client_id")
    # A queue with a scan that has none is refused whole: it could never be resent safely.
    with pytest.raises(DomainError) as caught:
        await jobfairs.record_batch(
            org.organiser_a,
            booth_id,
            [
                BoothScanItem(code=one[2], stage="consulted", client_id="queue-0001"),
                BoothScanItem(code=two[2], stage="consulted", client_id=""),
            ],
        )
    assert (caught.value.code, caught.value.field) == ("validation_error", "client_id")
    assert await StageScan.count() == 0
    # A malformed one is that scan's own answer; the rest are recorded.
    answers = await jobfairs.record_batch(
        org.organiser_a,
        booth_id,
        [
            BoothScanItem(code=one[2], stage="consulted", client_id="queue-0001"),
            BoothScanItem(code=two[2], stage="consulted", client_id="bad id!"),
        ],
    )
    assert [a["result"] for a in answers] == ["recorded", "validation_error"]
    assert await StageScan.count() == 1


async def test_an_undo_is_in_the_shared_undo_audit(org: Org) -> None:
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    await scan(org.organiser_a, booth_id, code, "consulted", "audit-0001")
    wrong = await scan(org.organiser_a, booth_id, code, "signed", "audit-0002")
    with clock.frozen_at(AT_FAIR + timedelta(minutes=2)):
        undone = await jobfairs.undo_stage(org.organiser_a, wrong["scan_id"])
    assert undone.stage == "consulted"
    (audit,) = await UndoAudit.select()
    assert (audit["point_type"], audit["point_id"], audit["record_id"], audit["action"]) == (
        "booth",
        booth_id,
        wrong["scan_id"],
        "undo_stage",
    )
    assert (audit["actor_id"], audit["actor_name"]) == (org.organiser_a.member_id, "甲组织者")
    lead = await Lead.select().first().run()
    assert lead["stage"] == "consulted" and lead["version"] == 2  # scan, scan, undo


async def test_a_booth_scan_is_one_read_and_one_write(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No transaction around: on PostgreSQL the lead, the stage scan and the client id's
    log row are one statement; on SQLite one hand-off to the writer's thread."""
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    statements: list[str] = []
    transactions: list[bool] = []
    real_run_sql = jobfairs.run_sql

    async def counted(sql: str, *params: Any) -> list[dict[str, Any]]:
        statements.append(sql)
        return await real_run_sql(sql, *params)

    real_transaction = jobfairs.write_transaction

    def counted_transaction() -> Any:
        transactions.append(True)
        return real_transaction()

    for module in (jobfairs, scanning):
        monkeypatch.setattr(module, "run_sql", counted)
        monkeypatch.setattr(module, "write_transaction", counted_transaction)
    first = await scan(org.organiser_a, booth_id, code, "consulted", "hot-00001")
    second = await scan(org.organiser_a, booth_id, code, "interview", "hot-00002")
    assert (first["result"], second["result"]) == ("recorded", "recorded")
    if ENGINE == "postgres":
        assert statements == [
            jobfairs.BOOTH_SCAN_READ,
            jobfairs.RECORD_NEW_LEAD_PG,
            jobfairs.BOOTH_SCAN_READ,
            jobfairs.RECORD_LEAD_PG,
        ]
    else:
        assert statements == [jobfairs.BOOTH_SCAN_READ] * 2
    assert transactions == []
    assert set(await logged()) == {"hot-00001", "hot-00002"}


def _racing_reads(monkeypatch: pytest.MonkeyPatch, first_reads: dict[str, bool]) -> None:
    """Both phones' first reads are made before either writes, and the scan of the lower
    stage writes last: the interleaving that loses a stage when a write does not check
    what it read."""
    barrier = asyncio.Barrier(2)
    real_read = jobfairs.BoothPoint.read

    async def read(self: Any, scan: Any, sent: Any) -> Any:
        reading = await real_read(self, scan, sent)
        if first_reads.pop(sent.stage, False):
            await barrier.wait()
            if sent.stage == "interview":
                await asyncio.sleep(0.3)
        return reading

    monkeypatch.setattr(jobfairs.BoothPoint, "read", read)


@pytest.mark.parametrize("known", [True, False], ids=["existing_lead", "first_scans"])
async def test_two_phones_racing_on_one_worker_keep_the_furthest_stage_and_one_lead(
    org: Org, monkeypatch: pytest.MonkeyPatch, known: bool
) -> None:
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    if known:
        await scan(org.organiser_a, booth_id, code, "consulted", "race-00000")
    _racing_reads(monkeypatch, {"intent": True, "interview": True})
    phone_a = [
        BoothScanItem(code=code, stage="intent", client_id="race-a-0001", scanned_at=AT_FAIR)
    ]
    phone_b = [
        BoothScanItem(code=code, stage="interview", client_id="race-b-0001", scanned_at=AT_FAIR)
    ]
    with clock.frozen_at(AT_FAIR + timedelta(minutes=10)):
        (a,), (b,) = await asyncio.gather(
            jobfairs.record_batch(org.organiser_a, booth_id, phone_a),
            jobfairs.record_batch(org.organiser_a, booth_id, phone_b),
        )
    assert (a["result"], b["result"]) == ("recorded", "superseded")
    assert b["stage"] == "intent" and a["lead_id"] == b["lead_id"]
    leads = await Lead.select().run()
    assert [(lead["stage"], lead["peak"]) for lead in leads] == [("intent", 4)]
    assert await StageScan.count() == (3 if known else 2)
    assert set(await logged()) >= {"race-a-0001", "race-b-0001"}


async def test_a_scan_that_keeps_losing_its_write_answers_conflict(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    tries: list[int] = []

    async def always_lost(*args: Any) -> None:
        tries.append(1)
        return None

    monkeypatch.setattr(jobfairs, "_write", always_lost)
    with pytest.raises(DomainError) as caught:
        await scan(org.organiser_a, booth_id, code, "consulted", "lost-00001")
    assert caught.value.code == "conflict" and len(tries) == jobfairs.MAX_TRIES
    queued = BoothScanItem(code=code, stage="resume", client_id="lost-00002")
    (answer,) = await jobfairs.record_batch(org.organiser_a, booth_id, [queued])
    assert answer["result"] == "conflict" and answer["message"]
    assert await StageScan.count() == 0 and await Lead.count() == 0 and await logged() == {}


async def test_the_migration_moves_booth_client_ids_and_undos_to_the_shared_tables(
    org: Org,
) -> None:
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    first = await scan(org.organiser_a, booth_id, code, "consulted", "old-booth-1")
    wrong = await scan(org.organiser_a, booth_id, code, "signed", "old-booth-2")
    with clock.frozen_at(AT_FAIR + timedelta(minutes=1)):
        await jobfairs.undo_stage(org.organiser_a, wrong["scan_id"])
    # As a database from before the move holds them: client ids and undos only in the
    # booth's own stage scans.
    await ClientLog.delete(force=True)
    await UndoAudit.delete(force=True)
    module = importlib.import_module(
        "service.jobfairs.piccolo_migrations.jobfairs_2026_12_05t09_00_01_000000"
    )
    manager = await module.forwards()
    for _ in range(2):  # a rerun copies nothing twice
        for move in manager.raw:
            await move()
    me = org.organiser_a.member_id
    assert await logged() == {
        "old-booth-1": ("booth", booth_id, me, first["scan_id"]),
        "old-booth-2": ("booth", booth_id, me, wrong["scan_id"]),
    }
    (audit,) = await UndoAudit.select()
    assert (audit["point_type"], audit["point_id"], audit["record_id"], audit["action"]) == (
        "booth",
        booth_id,
        wrong["scan_id"],
        "undo_stage",
    )
    # A phone resending its queue after the upgrade gets the first answer back.
    again = await scan(
        org.organiser_a, booth_id, code, "consulted", "old-booth-1", at=AT_FAIR + timedelta(hours=1)
    )
    assert (again["result"], again["scan_id"]) == ("recorded", first["scan_id"])
