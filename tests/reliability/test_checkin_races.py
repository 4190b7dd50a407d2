"""Duplicate scan races (QUALITY.md reliability 2): 2 to 10 scanners redeem one ticket at
once, through the services and over HTTP; offline batches replayed with the same client
ids; two offline scanners that admitted one ticket; one client id sent many times at once.
On whichever engine this run uses (make test runs both).

The control run switches both guards off (the per-ticket lock and the partial unique
index) and must admit the ticket more than once, proving these tests can fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.checkin.schemas import BatchScan, CheckinOut
from service.checkin.tables import Scan
from service.db import is_unique_violation
from service.orgs.schemas import Actor
from service.seams import SEAMS
from tests.conftest import ENGINE, Org, add_member
from tests.http.activity_helpers import bearer
from tests.http.activity_helpers import new_published as published_now
from tests.service.test_activities import NOW, published, workers

START = NOW + timedelta(days=3)
AT_DOOR = START - timedelta(minutes=10)
# The exact DDL of service/checkin/piccolo_migrations/checkin_2026_11_24t19_37_55_000000.py
ONE_ADMISSION_DDL = (
    "CREATE UNIQUE INDEX checkin_one_admission ON checkin_scan (registration_id) "
    "WHERE result = 'admitted' AND undone_at IS NULL"
)


async def door_staff(org: Org, activity_id: int, count: int) -> list[Actor]:
    """`count` staff members of union-a, each assigned to the activity's door."""
    staff = []
    for index in range(count):
        phone = f"1350000{index:04d}"
        staff.append(await add_member(phone, f"检票员{index}", "union-a", ["staff"]))
        await checkin.assign_staff(org.organiser_a, activity_id, phone)
    return staff


async def tickets_for(activity_id: int, count: int) -> list[tuple[int, str]]:
    """(registration id, ticket code) of `count` workers with confirmed places."""
    out = []
    for member in await workers(count):
        with clock.frozen_at(NOW):
            registration, _ = await activities.register(member, activity_id)
        assert registration.status == "confirmed" and registration.ticket_code
        out.append((registration.id, registration.ticket_code))
    return out


async def ticket(activity_id: int) -> tuple[int, str]:
    return (await tickets_for(activity_id, 1))[0]


async def standing_admissions(registration_id: int) -> list[dict[str, Any]]:
    return list(
        await Scan.select()
        .where(
            (Scan.registration_id == registration_id)
            & (Scan.result == "admitted")
            & Scan.undone_at.is_null()
        )
        .run()
    )


def assert_one_admission(answers: list[CheckinOut], scanners: list[Actor]) -> CheckinOut:
    """Exactly one green; every other scanner amber, naming the first scan's time and
    scanner."""
    results = [answer.result for answer in answers]
    assert results.count("admitted") == 1, results
    assert results.count("already_checked_in") == len(answers) - 1, results
    winner = next(answer for answer in answers if answer.result == "admitted")
    assert winner.first_scanner in {scanner.name for scanner in scanners}
    for answer in answers:
        assert answer.registration_id == winner.registration_id
        assert answer.first_checked_in_at == winner.first_checked_in_at
        assert answer.first_scanner == winner.first_scanner
    return winner


async def race(
    scanners: list[Actor], activity_id: int, code: str, *, at: Any = AT_DOOR
) -> list[CheckinOut]:
    async def one(index: int, scanner: Actor) -> CheckinOut:
        return await checkin.check_in(
            scanner, activity_id, code, client_id=f"race-{index:04d}-{scanner.member_id}"
        )

    with clock.frozen_at(at):
        return list(await asyncio.gather(*(one(i, s) for i, s in enumerate(scanners))))


# --- the race ------------------------------------------------------------------------------


@pytest.mark.parametrize("scanners", [2, 10])
async def test_scanners_racing_on_one_ticket_admit_it_once(org: Org, scanners: int) -> None:
    activity_id = await published(org, capacity=5)
    staff = await door_staff(org, activity_id, scanners)
    registration_id, code = await ticket(activity_id)
    answers = await race(staff, activity_id, code)
    winner = assert_one_admission(answers, staff)
    assert winner.first_checked_in_at == AT_DOOR
    admissions = await standing_admissions(registration_id)
    assert len(admissions) == 1
    assert admissions[0]["scanner_name"] == winner.first_scanner
    assert await Scan.count().run() == scanners
    with clock.frozen_at(AT_DOOR):
        assert (await checkin.door_state(org.organiser_a, activity_id)).admitted == 1


async def test_scanners_racing_over_http_admit_once(client: httpx.AsyncClient, org: Org) -> None:
    """The same race through the ASGI app: ten staff phones, one ticket, at once."""
    activity_id = await published_now(org, capacity=5)
    staff = await door_staff(org, activity_id, 10)
    await checkin.update_settings(
        org.organiser_a,
        activity_id,
        checkin.DoorSettingsIn(opens_at=clock.now() - timedelta(hours=1)),
    )
    member = (await workers(1))[0]
    registration, _ = await activities.register(member, activity_id)
    assert registration.ticket_code
    headers = [await bearer(f"1350000{index:04d}") for index in range(10)]

    async def one(index: int) -> httpx.Response:
        return await client.post(
            "/api/v1/checkins",
            json={
                "activity_id": activity_id,
                "code": registration.ticket_code,
                "client_id": f"http-race-{index:04d}",
            },
            headers=headers[index],
        )

    responses = await asyncio.gather(*(one(index) for index in range(10)))
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    results = [body["result"] for body in bodies]
    assert results.count("admitted") == 1, results
    assert results.count("already_checked_in") == 9, results
    winner = next(body for body in bodies if body["result"] == "admitted")
    assert winner["first_scanner"] in {s.name for s in staff}
    assert {(b["first_checked_in_at"], b["first_scanner"]) for b in bodies} == {
        (winner["first_checked_in_at"], winner["first_scanner"])
    }
    assert len(await standing_admissions(registration.id)) == 1
    assert await Scan.count().run() == 10


async def test_phones_with_skewed_clocks_racing_online_admit_once(
    client: httpx.AsyncClient, org: Org
) -> None:
    """The scanner page sends its phone's time with every live scan. Ten phones whose
    clocks disagree by seconds scan one ticket at once: one green, nine amber. (A scan
    that arrives second with an earlier clock must not displace the first: both phones
    would have shown green.)"""
    activity_id = await published_now(org, capacity=5)
    await door_staff(org, activity_id, 10)
    await checkin.update_settings(
        org.organiser_a,
        activity_id,
        checkin.DoorSettingsIn(opens_at=clock.now() - timedelta(hours=1)),
    )
    member = (await workers(1))[0]
    registration, _ = await activities.register(member, activity_id)
    headers = [await bearer(f"1350000{index:04d}") for index in range(10)]
    now = clock.now()

    async def one(index: int, round_: int) -> httpx.Response:
        return await client.post(
            "/api/v1/checkins",
            json={
                "activity_id": activity_id,
                "code": registration.ticket_code,
                "client_id": f"skewed-{round_}-{index:04d}",
                "scanned_at": (now - timedelta(seconds=index * 7)).isoformat(),
            },
            headers=headers[index],
        )

    # Sent latest clock first, so each later arrival claims an earlier time.
    responses = [await one(index, 1) for index in range(10)]
    responses += await asyncio.gather(*(one(index, 2) for index in range(10)))
    results = [r.json()["result"] for r in responses]
    assert results[0] == "admitted"
    assert results[1:] == ["already_checked_in"] * 19, results
    assert {r.json()["first_scanner"] for r in responses} == {"检票员0"}
    assert len(await standing_admissions(registration.id)) == 1


async def test_racing_gates_and_manual_admission_admit_once(org: Org) -> None:
    """Scanners at two gates and a staff member admitting by name from the look-up list,
    all at once."""
    activity_id = await published(org, capacity=5)
    with clock.frozen_at(NOW):
        await checkin.update_settings(
            org.organiser_a, activity_id, checkin.DoorSettingsIn(gates=["A", "B"])
        )
    staff = await door_staff(org, activity_id, 6)
    registration_id, code = await ticket(activity_id)
    with clock.frozen_at(AT_DOOR):
        answers = await asyncio.gather(
            *(
                checkin.check_in(scanner, activity_id, code, gate="AB"[index % 2])
                for index, scanner in enumerate(staff[:4])
            ),
            *(
                checkin.admit_registration(scanner, activity_id, registration_id, gate="A")
                for scanner in staff[4:]
            ),
        )
    assert_one_admission(list(answers), staff)
    assert len(await standing_admissions(registration_id)) == 1


# --- offline batches ---------------------------------------------------------------------


async def test_a_replayed_batch_adds_nothing(org: Org) -> None:
    activity_id = await published(org, capacity=10)
    (scanner,) = await door_staff(org, activity_id, 1)
    tickets = await tickets_for(activity_id, 5)
    queue = [
        BatchScan(
            code=code, client_id=f"offline-{i:04d}", scanned_at=AT_DOOR + timedelta(seconds=i)
        )
        for i, (_, code) in enumerate(tickets)
    ] + [BatchScan(code="GARBAGE", client_id="offline-9999", scanned_at=AT_DOOR)]
    with clock.frozen_at(AT_DOOR + timedelta(minutes=5)):
        first = await checkin.check_in_batch(scanner, activity_id, queue)
        rows = await Scan.count().run()
        # The phone lost the answer and sends the queue again, twice at once.
        replays = await asyncio.gather(
            checkin.check_in_batch(scanner, activity_id, queue),
            checkin.check_in_batch(scanner, activity_id, queue),
        )
        state = await checkin.door_state(org.organiser_a, activity_id)
    assert [a.result for a in first] == ["admitted"] * 5 + ["invalid"]
    assert rows == 6
    for replay in replays:
        assert replay == first
    assert await Scan.count().run() == rows
    assert state.admitted == 5


async def test_two_offline_scanners_keep_the_earliest_admission(org: Org) -> None:
    """Gate A scanned each ticket a minute after gate B, but syncs first (or at the same
    time): the server keeps B's admission and A's scans become duplicates."""
    activity_id = await published(org, capacity=10)
    gate_a, gate_b = await door_staff(org, activity_id, 2)
    tickets = await tickets_for(activity_id, 4)

    def queue(prefix: str, delay: timedelta) -> list[BatchScan]:
        return [
            BatchScan(
                code=code,
                client_id=f"{prefix}-{i:04d}",
                scanned_at=AT_DOOR + timedelta(minutes=i) + delay,
            )
            for i, (_, code) in enumerate(tickets)
        ]

    queue_a, queue_b = queue("gate-a", timedelta(minutes=1)), queue("gate-b", timedelta())
    sync = AT_DOOR + timedelta(minutes=30)
    with clock.frozen_at(sync):
        # A syncs alone first: it admits everything.
        first_a = await checkin.check_in_batch(gate_a, activity_id, queue_a[:2])
        assert [a.result for a in first_a] == ["admitted", "admitted"]
        # Then both at once.
        answers_a, answers_b = await asyncio.gather(
            checkin.check_in_batch(gate_a, activity_id, queue_a),
            checkin.check_in_batch(gate_b, activity_id, queue_b),
        )
        assert [a.result for a in answers_b] == ["admitted"] * 4
        assert [a.client_id for a in answers_a] == [scan.client_id for scan in queue_a]
        # After the sync, A's queue replayed shows A its scans as duplicates of B's.
        after_a = await checkin.check_in_batch(gate_a, activity_id, queue_a)
        roster = await checkin.roster(org.organiser_a, activity_id)
        state = await checkin.door_state(org.organiser_a, activity_id)
    assert [a.result for a in after_a] == ["already_checked_in"] * 4
    for answer, scan in zip(after_a, queue_b, strict=True):
        assert answer.first_checked_in_at == scan.scanned_at
        assert answer.first_scanner == gate_b.name
    admitted_by = {t.ticket_id: (t.admitted_client_id, t.admitted_by) for t in roster.tickets}
    assert admitted_by == {
        registration_id: (scan.client_id, gate_b.name)
        for (registration_id, _), scan in zip(tickets, queue_b, strict=True)
    }
    for registration_id, _ in tickets:
        assert len(await standing_admissions(registration_id)) == 1
    assert state.admitted == 4
    assert await Scan.count().run() == 8  # one row per client id, however often sent


# --- one client id, sent many times at once ----------------------------------------------


async def test_one_client_id_sent_ten_times_at_once_is_one_scan(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    (scanner,) = await door_staff(org, activity_id, 1)
    registration_id, code = await ticket(activity_id)
    with clock.frozen_at(AT_DOOR):
        answers = await asyncio.gather(
            *(
                checkin.check_in(scanner, activity_id, code, client_id="resend-00000001")
                for _ in range(10)
            )
        )
        junk = await asyncio.gather(
            *(
                checkin.check_in(scanner, activity_id, "JUNK", client_id="resend-00000002")
                for _ in range(10)
            )
        )
    assert {a.result for a in answers} == {"admitted"}
    assert len({a.scan_id for a in answers}) == 1
    assert {a.result for a in junk} == {"invalid"}
    assert len({a.scan_id for a in junk}) == 1
    assert await Scan.count().where(Scan.client_id == "resend-00000001").run() == 1
    assert await Scan.count().run() == 2
    assert len(await standing_admissions(registration_id)) == 1


async def test_one_client_id_sent_ten_times_at_once_over_http(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await published_now(org, capacity=5)
    await checkin.update_settings(
        org.organiser_a,
        activity_id,
        checkin.DoorSettingsIn(opens_at=clock.now() - timedelta(hours=1)),
    )
    member = (await workers(1))[0]
    registration, _ = await activities.register(member, activity_id)
    headers = await bearer(org.phones["organiser_a"])
    payload = {
        "activity_id": activity_id,
        "code": registration.ticket_code,
        "client_id": "http-resend-0001",
    }
    responses = await asyncio.gather(
        *(client.post("/api/v1/checkins", json=payload, headers=headers) for _ in range(10))
    )
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    assert {r.json()["result"] for r in responses} == {"admitted"}
    assert len({r.json()["scan_id"] for r in responses}) == 1
    assert await Scan.count().run() == 1


# --- the last guard, and the control run -------------------------------------------------


async def test_the_database_refuses_a_second_standing_admission(org: Org) -> None:
    """The partial unique index is there (on this engine), whatever the services do; an
    undone admission frees the ticket."""
    activity_id = await published(org, capacity=5)
    registration_id, _ = await ticket(activity_id)

    def admission(client_id: str) -> Scan:
        return Scan(
            activity_id=activity_id,
            registration_id=registration_id,
            result="admitted",
            client_id=client_id,
            scanned_at=AT_DOOR,
            recorded_at=AT_DOOR,
        )

    await Scan.insert(admission("guard-0001")).run()
    with pytest.raises(Exception) as refused:
        await Scan.insert(admission("guard-0002")).run()
    assert is_unique_violation(refused.value), refused.value
    await Scan.update({Scan.undone_at: AT_DOOR}).where(Scan.client_id == "guard-0001").run()
    await Scan.insert(admission("guard-0003")).run()
    assert len(await standing_admissions(registration_id)) == 1


@pytest.fixture
async def unguarded(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Both guards off: the per-ticket lock (decisions made on a read from before the
    transaction) and the partial unique index. The index is recreated afterwards."""
    monkeypatch.setattr(SEAMS, "serialise_admissions", False)
    await Scan.raw("DROP INDEX checkin_one_admission").run()
    try:
        yield
    finally:
        # The control run leaves double admissions behind, which the index would refuse.
        await Scan.delete(force=True).run()
        await Scan.raw(ONE_ADMISSION_DDL).run()


async def test_control_without_the_guards_admits_a_ticket_twice(
    org: Org, unguarded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity_id = await published(org, capacity=5)
    staff = await door_staff(org, activity_id, 10)
    registration_id, code = await ticket(activity_id)
    # Make the interleaving the guards exist for certain rather than likely: every scanner
    # reads "not admitted yet" before any of them writes (the scans are fast enough that
    # a plain gather sometimes serialises them by chance).
    everyone_has_read = asyncio.Barrier(len(staff))
    read_admission = checkin._admission

    async def read_then_wait(registration: int) -> dict[str, Any] | None:
        found = await read_admission(registration)
        await everyone_has_read.wait()
        return found

    monkeypatch.setattr(checkin, "_admission", read_then_wait)
    answers = await race(staff, activity_id, code)
    admitted = [answer.result for answer in answers].count("admitted")
    standing = len(await standing_admissions(registration_id))
    # PostgreSQL: real concurrent transactions. SQLite: the write transactions are
    # serialised, but with the lock off every decision rests on a read made before the
    # transaction, so the double admission shows on both engines.
    assert admitted > 1, f"the control run did not admit the ticket twice ({ENGINE})"
    assert standing == admitted
