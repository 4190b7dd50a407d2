"""The parity test of BOOTH_SCAN_READ (service/jobfairs/services.py), the booth scan's
one-statement read, against the rooms' own services it repeats: the ticket's registration
and holder (activities.door_registration), its reissue counter (tickets.current_reissue),
the holder's worker group (orgs.actor_for_member), admitted at the entrance
(jobfairs.checked_in_registrations, itself tied to the door's roster in test_jobfairs.py),
may record at the booth (access.may, through _scannable_booth), and the lead and posting
as Piccolo reads them. Both forms are run on the same cases, on both engines, and must
agree; the verdicts are also written out, so a rule gone wrong in both forms still fails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.db import run_sql, write_transaction
from service.errors import DomainError
from service.jobfairs import services as jobfairs
from service.jobfairs.tables import Lead, Posting
from service.orgs import access
from service.orgs import services as orgs
from service.orgs.schemas import Actor
from service.tickets import services as tickets
from service.tickets import tokens
from tests.conftest import Org, add_member
from tests.service.test_activities import NOW
from tests.service.test_jobfairs import AT_FAIR, START, fair_with_booths, scan, tickets_for


async def _by_sql(
    actor: Actor | None, booth_id: int, code: str, posting_id: int | None
) -> tuple[bool, dict[str, Any]]:
    token = jobfairs._ticket(code)
    rows = await run_sql(
        jobfairs.BOOTH_SCAN_READ,
        *access.may_sql_params(actor, "record_booth", "booth"),
        token.ticket_id if token else None,
        posting_id,
        booth_id,
    )
    (row,) = rows
    sent = jobfairs._BoothScan(token, "consulted", posting_id, None, "")
    reading = jobfairs._reading_of(row, sent)
    return bool(row["may_record"]), _facts(reading.activity_id, reading.employer_id, reading)


def _facts(activity_id: int, employer_id: int, reading: Any) -> dict[str, Any]:
    lead = reading.lead
    return {
        "fair": (activity_id, employer_id),
        "registration": reading.registration,
        "reissue": reading.reissue,
        "group": reading.group if reading.registration else None,
        "checked_in": reading.checked_in,
        "lead": None
        if lead is None
        else (lead.id, lead.version, lead.stage, lead.peak, lead.stage_at, lead.checked_in),
        "posting": reading.posting,
        "worker": _verdict(reading),
    }


def _verdict(reading: Any) -> str:
    """The ticket and posting rules fed by a reading: "ok" or the refusal's code."""
    try:
        jobfairs._worker(
            reading.activity_id,
            reading.sent.token,
            reading.registration,
            reading.reissue,
            reading.group,
        )
        jobfairs._posting_of(reading)
    except DomainError as refusal:
        return refusal.code
    return "ok"


async def _by_services(
    actor: Actor, booth_id: int, code: str, posting_id: int | None
) -> tuple[bool, dict[str, Any]]:
    """The same facts through the rooms' services and Piccolo, one look-up each."""
    booth = await jobfairs._booth(booth_id)
    try:
        await jobfairs._scannable_booth(actor, booth_id)
        may = True
    except DomainError:
        may = False
    token = jobfairs._ticket(code)
    registration = await activities.door_registration(token.ticket_id) if token else None
    reissue = await tickets.current_reissue(token.ticket_id) if token else 0
    group = None
    lead = None
    checked_in = False
    if registration is not None:
        holder = await orgs.actor_for_member(registration.member_id)
        group = holder.group if holder else "other"
        checked_in = registration.id in await jobfairs.checked_in_registrations(
            booth["activity_id"]
        )
        found = (
            await Lead.select()
            .where((Lead.booth_id == booth_id) & (Lead.registration_id == registration.id))
            .first()
            .run()
        )
        if found is not None:
            lead = (
                found["id"],
                found["version"],
                found["stage"],
                found["peak"],
                found["stage_at"],
                found["checked_in"],
            )
    posting = None
    if posting_id is not None:
        row = (
            await Posting.select(Posting.activity_id, Posting.employer_id)
            .where(Posting.id == posting_id)
            .first()
            .run()
        )
        posting = (row["activity_id"], row["employer_id"]) if row else None
    reading = jobfairs._BoothReading(
        sent=jobfairs._BoothScan(token, "consulted", posting_id, None, ""),
        booth_id=booth_id,
        activity_id=booth["activity_id"],
        employer_id=booth["employer_id"],
        registration=registration,
        reissue=reissue,
        group=group or "other",
        checked_in=checked_in,
        lead=None,
        posting=posting,
    )
    facts = _facts(booth["activity_id"], booth["employer_id"], reading)
    facts["lead"] = lead
    return may, facts


async def test_the_booth_scan_read_agrees_with_the_rooms_services(org: Org) -> None:
    fair = await fair_with_booths(org)
    other = await fair_with_booths(org, title="另一场")
    activity_id = fair["activity_id"]
    booth_a, booth_b = fair["booths"]
    people = await tickets_for(activity_id, 6)
    (_, _, foreign) = (await tickets_for(other["activity_id"], 1, [people[0][0]]))[0]
    fresh, admitted, undone, cancelled, reissued, scanned = people
    with clock.frozen_at(START - timedelta(minutes=5)):
        await checkin.check_in(org.organiser_a, activity_id, admitted[2])
        mistaken = await checkin.check_in(org.organiser_a, activity_id, undone[2])
        await checkin.undo(org.organiser_a, mistaken.scan_id, "扫错了")
    with clock.frozen_at(NOW):
        await activities.cancel_registration(cancelled[0], cancelled[1])
        async with write_transaction():
            await tickets.revoke(reissued[1], activity_id, "reissued")
    new_code = await tickets.code_for(reissued[1], activity_id)
    await scan(org.organiser_a, booth_a.id, scanned[2], "interview", "parity-0001")
    await scan(org.organiser_a, booth_a.id, admitted[2], "consulted", "parity-0002")
    staff = await add_member("13600000031", "企业HR", "union-a", ["staff"])
    await jobfairs.assign_booth_staff(org.organiser_a, booth_a.id, "13600000031")
    own, theirs = fair["postings"][0], fair["postings"][2]
    codes = {
        "fresh": fresh[2],
        "admitted_and_scanned": admitted[2],
        "admission_undone": undone[2],
        "cancelled": cancelled[2],
        "reissued_old_code": reissued[2],
        "reissued_new_code": new_code,
        "scanned_here": scanned[2],
        "other_fair": foreign,
        "junk": "JUNK",
    }
    postings = {
        "none": None,
        "own": own.id,
        "other_employer": theirs.id,
        "other_fair": other["postings"][0].id,
        "missing": 999_999,
    }
    scanners = {
        "organiser": org.organiser_a,
        "booth_a_staff": staff,
        "worker": org.worker_a1,
        "other_organiser": org.organiser_b,
        "admin": org.admin,
    }
    disagreements = []
    at_booth_a: dict[str, str] = {}
    may: dict[tuple[str, int], bool] = {}
    with clock.frozen_at(AT_FAIR):
        for booth in (booth_a, booth_b):
            for who, actor in scanners.items():
                for ticket, code in codes.items():
                    for named, posting_id in postings.items():
                        by_sql = await _by_sql(actor, booth.id, code, posting_id)
                        by_services = await _by_services(actor, booth.id, code, posting_id)
                        if by_sql != by_services:
                            disagreements.append((booth.number, who, ticket, named))
                        may[(who, booth.id)] = by_services[0]
                        if booth is booth_a and who == "organiser" and named == "none":
                            at_booth_a[ticket] = by_services[1]["worker"]
    assert disagreements == []
    assert at_booth_a == {
        "fresh": "ok",
        "admitted_and_scanned": "ok",
        "admission_undone": "ok",
        "cancelled": "invalid_ticket",
        "reissued_old_code": "invalid_ticket",
        "reissued_new_code": "ok",
        "scanned_here": "ok",
        "other_fair": "wrong_activity",
        "junk": "invalid_ticket",
    }
    assert {key for key, allowed in may.items() if allowed} == {
        ("organiser", booth_a.id),
        ("organiser", booth_b.id),
        ("admin", booth_a.id),
        ("admin", booth_b.id),
        ("booth_a_staff", booth_a.id),
    }
    # Both values occur for every fact compared, so the comparison compared something.
    facts = [
        (await _by_sql(org.organiser_a, booth_a.id, codes[ticket], posting_id))[1]
        for ticket in ("admitted_and_scanned", "admission_undone", "scanned_here")
        for posting_id in (own.id, None)
    ]
    assert {f["checked_in"] for f in facts} == {True, False}
    assert {f["lead"] is None for f in facts} == {True, False}
    assert {f["posting"] is None for f in facts} == {True, False}
    assert tokens.verify_ticket(codes["reissued_new_code"]).reissue == 1
