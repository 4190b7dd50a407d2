"""Job fairs through the services: employers, booths and postings with their bad input;
the hiring funnel at a booth (forward only, undo, idempotent and conflicting offline
scans, booth scope, consent and masking); the report against a hand-computed fair."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.errors import DomainError
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, BoothScanItem, EmployerIn, PostingIn
from service.jobfairs.tables import Lead, StageScan
from service.orgs.schemas import Actor
from tests.conftest import Org, add_member
from tests.service.test_activities import NOW, published, workers

START = NOW + timedelta(days=3)
AT_FAIR = START + timedelta(minutes=30)


async def fair_with_booths(org: Org, employers: int = 2, **overrides: Any) -> dict[str, Any]:
    """A published fair with `employers` approved employers, a booth and two postings each."""
    activity_id = await published(org, capacity=50, **overrides)
    booths, postings = [], []
    for index in range(employers):
        employer = await jobfairs.create_employer(
            org.organiser_a,
            activity_id,
            EmployerIn(
                name=f"企业{index}",
                industry="物流",
                contact_name=f"人事{index}",
                contact_phone=f"1390000{index:04d}",
            ),
        )
        booths.append(
            await jobfairs.create_booth(
                org.organiser_a,
                activity_id,
                BoothIn(number=f"A{index + 1}", employer_id=employer.id),
            )
        )
        for title in ("分拣员", "快递员"):
            postings.append(
                await jobfairs.create_posting(
                    org.organiser_a,
                    activity_id,
                    PostingIn(
                        employer_id=employer.id,
                        title=title,
                        headcount=5,
                        pay_min=5000,
                        pay_max=7000,
                        district="城关镇",
                        worker_groups=["courier"],
                    ),
                )
            )
    return {"activity_id": activity_id, "booths": booths, "postings": postings}


async def tickets_for(
    activity_id: int, count: int, members: list[Actor] | None = None
) -> list[tuple[Actor, int, str]]:
    members = members or await workers(count)
    out = []
    with clock.frozen_at(NOW):
        for member in members:
            registration, _ = await activities.register(member, activity_id)
            assert registration.ticket_code
            out.append((member, registration.id, registration.ticket_code))
    return out


async def scan(
    actor: Actor, booth_id: int, code: str, stage: str, client_id: str, **kw: Any
) -> Any:
    with clock.frozen_at(kw.pop("at", AT_FAIR)):
        return await jobfairs.record_stage(
            actor, booth_id, code, kw.pop("posting_id", None), stage, client_id=client_id, **kw
        )


async def record(actor: Actor, booth_id: int, code: str, stage: str, client_id: str) -> Any:
    """A scan at whatever time the caller froze (for concurrent scans)."""
    return await jobfairs.record_stage(actor, booth_id, code, None, stage, client_id=client_id)


# --- employers, booths, postings ---------------------------------------------------------


async def test_bad_postings_are_refused_and_nothing_is_written(org: Org) -> None:
    fair = await fair_with_booths(org, employers=1)
    other = await fair_with_booths(org, employers=1, title="另一场招聘会")
    employer_id = fair["booths"][0].employer_id
    base = {
        "employer_id": employer_id,
        "title": "司机",
        "headcount": 1,
        "pay_min": 6000,
        "pay_max": 8000,
    }
    cases = [
        ({"pay_min": 9000}, "pay_min"),
        ({"headcount": 0}, "headcount"),
        ({"headcount": -3}, "headcount"),
        ({"worker_groups": ["astronaut"]}, "worker_groups"),
        ({"employer_id": other["booths"][0].employer_id}, "employer_id"),
        ({"title": "  "}, "title"),
    ]
    for change, field in cases:
        with pytest.raises(DomainError) as caught:
            await jobfairs.create_posting(
                org.organiser_a, fair["activity_id"], PostingIn(**{**base, **change})
            )
        assert caught.value.field == field
    assert len(await jobfairs.list_postings(org.organiser_a, fair["activity_id"])) == 2


async def test_one_booth_per_employer_and_contact_phone_masked(org: Org) -> None:
    fair = await fair_with_booths(org, employers=1)
    booth = fair["booths"][0]
    with pytest.raises(DomainError) as caught:
        await jobfairs.create_booth(
            org.organiser_a,
            fair["activity_id"],
            BoothIn(number="B9", employer_id=booth.employer_id),
        )
    assert caught.value.code == "conflict" and caught.value.field == "employer_id"
    employers = await jobfairs.list_employers(org.organiser_a, fair["activity_id"])
    assert employers[0].contact_phone_masked == "139****0000"
    with pytest.raises(DomainError) as caught:
        await jobfairs.list_employers(org.organiser_b, fair["activity_id"])
    assert caught.value.code == "not_found"
    with pytest.raises(DomainError):
        await jobfairs.list_employers(org.worker_a1, fair["activity_id"])


async def test_workers_search_and_bookmark_postings(org: Org) -> None:
    fair = await fair_with_booths(org)
    found = await jobfairs.search_postings(org.worker_a1, fair["activity_id"], query="分拣")
    assert [p.title for p in found.items] == ["分拣员", "分拣员"]
    assert (
        await jobfairs.search_postings(org.worker_a1, fair["activity_id"], min_pay=7001)
    ).total == 0
    assert (
        await jobfairs.search_postings(org.worker_a1, fair["activity_id"], group="domestic")
    ).total == 0
    assert (
        await jobfairs.search_postings(org.worker_a1, fair["activity_id"], district="城关镇")
    ).total == 4
    # A LIKE wildcard typed by a worker is a literal character.
    assert (
        await jobfairs.search_postings(org.worker_a1, fair["activity_id"], query="%")
    ).total == 0
    posting = fair["postings"][1]
    await jobfairs.set_bookmark(org.worker_a1, posting.id, True)
    await jobfairs.set_bookmark(org.worker_a1, posting.id, True)  # repeated: one bookmark
    mine = await jobfairs.search_postings(org.worker_a1, fair["activity_id"], bookmarked_only=True)
    assert [(p.id, p.bookmarked) for p in mine.items] == [(posting.id, True)]


# --- the funnel ---------------------------------------------------------------------------


async def test_stages_move_forward_rescans_update_and_backwards_is_refused(org: Org) -> None:
    fair = await fair_with_booths(org)
    booth = fair["booths"][0]
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    first = await scan(org.organiser_a, booth.id, code, "consulted", "c-00000001")
    assert first["result"] == "recorded" and first["checked_in"] is False
    later = AT_FAIR + timedelta(minutes=12)
    second = await scan(org.organiser_a, booth.id, code, "interview", "c-00000002", at=later)
    again = await scan(
        org.organiser_a, booth.id, code, "interview", "c-00000003", at=later + timedelta(minutes=1)
    )
    assert second["result"] == "recorded" and again["result"] == "already"
    assert again["since"] == later and again["lead_id"] == first["lead_id"]
    with pytest.raises(DomainError) as caught:
        await scan(
            org.organiser_a, booth.id, code, "resume", "c-00000004", at=later + timedelta(minutes=2)
        )
    assert caught.value.code == "stage_backwards" and caught.value.status_code == 409
    assert await Lead.count() == 1
    assert await StageScan.count() == 3  # the refused scan wrote nothing


async def test_same_client_id_answers_the_first_result_and_writes_nothing(org: Org) -> None:
    fair = await fair_with_booths(org)
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    booth_id = fair["booths"][0].id
    # One frozen clock around the concurrent scans: clock.frozen_at is process-wide, and
    # entered and left by interleaved tasks it would stay frozen after the test.
    with clock.frozen_at(AT_FAIR):
        answers = await asyncio.gather(
            *(record(org.organiser_a, booth_id, code, "resume", "same-client-01") for _ in range(5))
        )
    assert {a["scan_id"] for a in answers} == {answers[0]["scan_id"]}
    assert await StageScan.count() == 1 and await Lead.count() == 1


async def test_offline_batches_from_two_devices_keep_the_furthest_stage(org: Org) -> None:
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    device_a = [
        BoothScanItem(code=code, stage="intent", client_id="dev-a-0001", scanned_at=AT_FAIR)
    ]
    device_b = [
        BoothScanItem(
            code=code,
            stage="interview",
            client_id="dev-b-0001",
            scanned_at=AT_FAIR + timedelta(minutes=3),
        )
    ]
    with clock.frozen_at(AT_FAIR + timedelta(minutes=20)):
        a = await jobfairs.record_batch(org.organiser_a, booth_id, device_a)
        b = await jobfairs.record_batch(org.organiser_a, booth_id, device_b)
        replay = await jobfairs.record_batch(org.organiser_a, booth_id, device_a + device_b)
    assert a[0]["result"] == "recorded" and b[0]["result"] == "superseded"
    assert b[0]["stage"] == "intent"
    assert [r["scan_id"] for r in replay] == [a[0]["scan_id"], b[0]["scan_id"]]
    assert await StageScan.count() == 2


async def test_undo_within_five_minutes_is_audited(org: Org) -> None:
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    await scan(org.organiser_a, booth_id, code, "consulted", "u-00000001")
    wrong = await scan(org.organiser_a, booth_id, code, "signed", "u-00000002")
    with clock.frozen_at(AT_FAIR + timedelta(minutes=4)):
        undone = await jobfairs.undo_stage(org.organiser_a, wrong["scan_id"])
    assert undone.stage == "consulted"
    audit = await StageScan.select().where(StageScan.action == "undo").run()
    assert (
        audit[0]["undo_of"] == wrong["scan_id"]
        and audit[0]["actor_id"] == org.organiser_a.member_id
    )
    late = await scan(org.organiser_a, booth_id, code, "resume", "u-00000003")
    with clock.frozen_at(AT_FAIR + timedelta(minutes=6)), pytest.raises(DomainError) as caught:
        await jobfairs.undo_stage(org.organiser_a, late["scan_id"])
    assert caught.value.code == "conflict"


async def test_bad_tickets_other_fairs_and_other_booths(org: Org) -> None:
    fair = await fair_with_booths(org)
    other = await fair_with_booths(org, title="另一场")
    booth_a, booth_b = fair["booths"]
    ((member, _, code),) = await tickets_for(fair["activity_id"], 1)
    ((_, _, foreign),) = await tickets_for(other["activity_id"], 1, [member])
    staff_a = await add_member("13600000001", "企业HR", "union-a", ["staff"])
    await jobfairs.assign_booth_staff(org.organiser_a, booth_a.id, "13600000001")
    cases = [
        (dict(code="JUNK"), "invalid_ticket"),
        (dict(code=foreign), "wrong_activity"),
        (dict(code=code, posting_id=other["postings"][0].id), "validation_error"),
        (dict(code=code, posting_id=fair["postings"][2].id), "validation_error"),  # booth B's job
        (dict(code=code, stage="hired"), "validation_error"),
        (dict(code=code, rating=9), "validation_error"),
    ]
    for index, (change, expected) in enumerate(cases):
        values = {"stage": "consulted", **change}
        with pytest.raises(DomainError) as caught:
            await scan(
                staff_a,
                booth_a.id,
                values.pop("code"),
                values.pop("stage"),
                f"bad-{index:05d}",
                **values,
            )
        assert caught.value.code == expected, change
    with pytest.raises(DomainError) as caught:
        await scan(staff_a, booth_b.id, code, "consulted", "bad-other-booth")
    assert caught.value.code == "forbidden"
    with pytest.raises(DomainError) as caught:
        await jobfairs.booth_leads(staff_a, booth_b.id)
    assert caught.value.code == "forbidden"
    assert await StageScan.count() == 0 and await Lead.count() == 0
    ok = await scan(staff_a, booth_a.id, code, "consulted", "good-00001")
    assert ok["result"] == "recorded"


async def test_full_phone_only_from_intent_and_only_with_consent(org: Org) -> None:
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    (agreed, _, code_1), (declined, _, code_2) = await tickets_for(fair["activity_id"], 2)
    await jobfairs.set_consent(agreed, fair["activity_id"], True)
    await jobfairs.set_consent(declined, fair["activity_id"], False)
    await scan(org.organiser_a, booth_id, code_1, "interview", "p-00000001")
    await scan(org.organiser_a, booth_id, code_2, "intent", "p-00000002")
    leads = {lead.name: lead for lead in await jobfairs.booth_leads(org.organiser_a, booth_id)}
    assert leads[agreed.name].phone is None  # consent, but only at interview
    assert leads[declined.name].phone is None  # intent, but no consent
    assert leads[declined.name].phone_masked == "137****0001"
    await scan(
        org.organiser_a, booth_id, code_1, "intent", "p-00000003", at=AT_FAIR + timedelta(minutes=1)
    )
    leads = {lead.name: lead for lead in await jobfairs.booth_leads(org.organiser_a, booth_id)}
    assert leads[agreed.name].phone == "13700000000"


async def test_checked_in_flag_agrees_with_the_door(org: Org) -> None:
    """The parity test of CHECKED_IN_SQL against the door's own roster."""
    fair = await fair_with_booths(org)
    people = await tickets_for(fair["activity_id"], 3)
    with clock.frozen_at(START - timedelta(minutes=5)):
        await checkin.check_in(org.organiser_a, fair["activity_id"], people[0][2])
        undone = await checkin.check_in(org.organiser_a, fair["activity_id"], people[1][2])
        await checkin.undo(org.organiser_a, undone.scan_id, "扫错了")
        roster = await checkin.roster(org.organiser_a, fair["activity_id"])
    door = {ticket.ticket_id for ticket in roster.tickets if ticket.admitted_at is not None}
    assert await jobfairs.checked_in_registrations(fair["activity_id"]) == door == {people[0][1]}
    flagged = await scan(
        org.organiser_a, fair["booths"][0].id, people[2][2], "consulted", "f-00000001"
    )
    assert flagged["result"] == "recorded" and flagged["checked_in"] is False


async def test_report_matches_a_hand_computed_fair(org: Org) -> None:
    fair = await fair_with_booths(org)
    booth_a, booth_b = fair["booths"]
    sorter_a, courier_a, sorter_b, courier_b = fair["postings"]
    people = await tickets_for(fair["activity_id"], 4)
    with clock.frozen_at(START - timedelta(minutes=5)):
        for _, _, code in people[:3]:
            await checkin.check_in(org.organiser_a, fair["activity_id"], code)
    w = [code for _, _, code in people]
    # Worker 0: intent at A (sorter), consulted at B. Worker 1: signed at A (sorter).
    # Worker 2: interview at B (courier) then declined. Worker 3 (never checked in):
    # consulted at B, general interest.
    await scan(org.organiser_a, booth_a.id, w[0], "intent", "r-00000001", posting_id=sorter_a.id)
    await scan(org.organiser_a, booth_b.id, w[0], "consulted", "r-00000002")
    await scan(org.organiser_a, booth_a.id, w[1], "signed", "r-00000003", posting_id=sorter_a.id)
    await scan(
        org.organiser_a, booth_b.id, w[2], "interview", "r-00000004", posting_id=courier_b.id
    )
    await scan(
        org.organiser_a,
        booth_b.id,
        w[2],
        "declined",
        "r-00000005",
        at=AT_FAIR + timedelta(minutes=5),
    )
    await scan(org.organiser_a, booth_b.id, w[3], "consulted", "r-00000006")
    await jobfairs.count_materials(org.organiser_a, booth_a.id, 40)
    await jobfairs.count_materials(org.organiser_a, booth_a.id, -5)
    report = await jobfairs.jobfair_report(org.organiser_a, fair["activity_id"])
    assert (report.confirmed, report.checked_in, report.visitors) == (4, 3, 4)
    assert report.intent_or_above == 2
    assert report.not_checked_in == 1
    o = report.overall
    assert (o.consulted, o.resume, o.interview, o.intent, o.signed, o.declined) == (
        5,
        3,
        3,
        2,
        1,
        1,
    )
    by_employer = {row.name: row for row in report.employers}
    assert (
        by_employer["企业0"].consulted,
        by_employer["企业0"].intent,
        by_employer["企业0"].signed,
    ) == (2, 2, 1)
    assert (
        by_employer["企业1"].consulted,
        by_employer["企业1"].interview,
        by_employer["企业1"].declined,
    ) == (3, 1, 1)
    by_posting = {row.id: row for row in report.postings}
    assert by_posting[sorter_a.id].intent == 2
    assert {p.id for p in report.unasked_postings} == {courier_a.id, sorter_b.id}
    assert [(m.number, m.materials) for m in report.materials] == [("A1", 35), ("A2", 0)]
    with pytest.raises(DomainError):
        await jobfairs.count_materials(org.organiser_a, booth_a.id, 0)
    sections = await jobfairs.report_sections(fair["activity_id"])
    assert sections[0].kind == "jobfair_overall"


async def test_worker_sees_visited_booths_and_contacts_from_intent(org: Org) -> None:
    fair = await fair_with_booths(org)
    booth_a, booth_b = fair["booths"]
    ((member, registration_id, code),) = await tickets_for(fair["activity_id"], 1)
    await scan(org.organiser_a, booth_a.id, code, "intent", "v-00000001")
    await scan(org.organiser_a, booth_b.id, code, "consulted", "v-00000002")
    visits = {v.booth_number: v for v in await jobfairs.my_visits(member, registration_id)}
    assert visits["A1"].contact_phone == "13900000000" and visits["A1"].contact_name == "人事0"
    assert visits["A2"].contact_phone is None
    with pytest.raises(DomainError):
        await jobfairs.my_visits(org.worker_a1, registration_id)


async def test_demo_fair_has_ten_booths_an_invited_employer_waiting_and_some_intent() -> None:
    from service import demo
    from service.orgs import services as orgs

    await demo.load_demo()
    organiser = await orgs.actor_for_member(
        await orgs.member_id_for_phone(demo.PEOPLE[1].phone) or 0
    )
    assert organiser is not None
    fair_id = (await StageScan.select(StageScan.activity_id).first().run())["activity_id"]
    employers = await jobfairs.list_employers(organiser, fair_id)
    assert len(employers) == 11
    invited = [employer for employer in employers if employer.via_invite]
    assert [(e.name, e.approved) for e in invited] == [("惠民电子装配厂", False)]
    assert len(await jobfairs.list_booths(organiser, fair_id)) == 10
    assert len(await jobfairs.list_postings(organiser, fair_id)) == 30
    report = await jobfairs.jobfair_report(organiser, fair_id)
    assert report.intent_or_above == 3 and report.overall.signed == 1


async def test_two_devices_scanning_one_worker_at_once_make_one_lead(org: Org) -> None:
    fair = await fair_with_booths(org)
    booth_id = fair["booths"][0].id
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    with clock.frozen_at(AT_FAIR):  # once, around the concurrent scans (see above)
        outcomes = await asyncio.gather(
            record(org.organiser_a, booth_id, code, "resume", "device-a-01"),
            record(org.organiser_a, booth_id, code, "interview", "device-b-01"),
            record(org.organiser_a, booth_id, code, "resume", "device-c-01"),
            return_exceptions=True,
        )
    # Online, a lower stage that loses the race is refused as backwards, never written.
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, DomainError) and outcome.code == "stage_backwards"
    answers = [o for o in outcomes if not isinstance(o, BaseException)]
    assert await Lead.count() == 1
    assert len({answer["lead_id"] for answer in answers}) == 1
    assert await StageScan.count() == len(answers)
    lead = await Lead.select().first().run()
    assert lead["stage"] == "interview"  # the furthest, whatever the order


async def test_booth_staff_edit_only_their_employers_postings_and_replays_stay_scoped(
    org: Org,
) -> None:
    fair = await fair_with_booths(org)
    booth_a, booth_b = fair["booths"]
    own, theirs = fair["postings"][0], fair["postings"][2]
    hr = await add_member("13600000002", "企业HR", "union-a", ["worker"])
    await jobfairs.assign_booth_staff(org.organiser_a, booth_a.id, "13600000002")
    change = {
        "employer_id": own.employer_id,
        "title": "夜班分拣员",
        "headcount": 8,
        "pay_min": 5500,
        "pay_max": 7000,
    }
    edited = await jobfairs.update_posting(hr, own.id, PostingIn(**change))
    assert edited.title == "夜班分拣员"
    with pytest.raises(DomainError) as caught:
        await jobfairs.update_posting(
            hr, theirs.id, PostingIn(**{**change, "employer_id": theirs.employer_id})
        )
    assert caught.value.code == "forbidden"
    with pytest.raises(DomainError) as caught:  # nor move their own to another employer
        await jobfairs.update_posting(
            hr, own.id, PostingIn(**{**change, "employer_id": theirs.employer_id})
        )
    assert caught.value.code == "forbidden"
    ((_, _, code),) = await tickets_for(fair["activity_id"], 1)
    await scan(org.organiser_a, booth_b.id, code, "consulted", "scoped-0001")
    with pytest.raises(DomainError) as caught:  # another booth's client id: no answer
        await scan(hr, booth_a.id, code, "consulted", "scoped-0001")
    assert caught.value.field == "client_id"
    with pytest.raises(DomainError) as caught:
        await scan(hr, booth_b.id, code, "consulted", "scoped-0001")
    assert caught.value.code == "forbidden"


async def test_a_fair_without_employers_adds_no_report_section(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    assert await jobfairs.report_sections(activity_id) == []
