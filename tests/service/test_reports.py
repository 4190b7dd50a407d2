"""Attendance reports through the services, on whichever engine this run uses.

One scenario is built through the real services (sign-ups, a waitlist, cancellations, scans
at two gates, walk-ins, an undone admission), and every figure is checked against numbers
worked out by hand below, never against the report's own SQL.

The scenario (times in UTC; Shanghai is UTC+8; the report is read at REPORT):

    fed 测试县总工会 ── union-a 甲镇总工会 ── ent-a1 甲一快递站
                    └─ union-b 乙行业工会

    member  name  node     group            (fixture: admin@fed, organiser_a@union-a,
    m0      张一  ent-a1   courier            organiser_b@union-b, staff_a@union-a,
    m1      张二  ent-a1   courier            worker_a1@ent-a1 courier)
    m2      张三  ent-a1   food_delivery
    m3      张四  ent-a1   food_delivery
    m4      李一  union-a  truck_driver
    m5      李二  union-a  courier
    m6      李三  union-a  sanitation
    m7      王一  union-b  courier
    m8      王二  union-b  food_delivery
    m9      王三  union-b  domestic
    m10     赵一  fed      other
    路人甲  (a walk-in whose phone was unknown: becomes a union-a member, group other)

    A7 job_fair        union-a  04-28 02:00-04:00  m2 checked in 02:10, m3 no-show; 春风行动
    A1 job_fair        union-a  05-20 01:00-04:00  capacity 6, gates 1号门/2号门, closed;
                                                   春风行动
    A4 reading_session union-b  05-25 12:00-14:00  m7 in 11:30, m0 in 12:05, m8 no-show
    A2 reading_session union-a  05-31 23:30 (06-01 07:30 local) held without any scan
    A5 job_fair        union-a  06-12, cancelled by the organiser (m0 had a place)
    A6 job_fair        union-a  06-15, a draft
    A3 job_fair        union-a  06-20 01:00-05:00  capacity 2, still running at REPORT
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.checkin.schemas import DoorSettingsIn
from service.errors import DomainError
from service.orgs import services as orgs
from service.orgs.schemas import Actor
from service.reports import services as reports
from service.reports.schemas import (
    ActivityReport,
    ArrivalBucket,
    GateCount,
    GroupCount,
    HistoryItem,
    KindCount,
    MemberHistory,
    MonthCount,
    NodeCount,
    NodeReach,
    SummaryReport,
)
from tests.conftest import Org, add_member
from tests.service.test_activities import draft

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETUP = datetime(2026, 4, 20, 2, 0, tzinfo=UTC)
REPORT = datetime(2026, 6, 20, 2, 0, tzinfo=UTC)  # A3 started at 01:00 and runs until 05:00
MAY_1 = datetime(2026, 5, 1, tzinfo=SHANGHAI)  # the summary range: May and June, local
JULY_1 = datetime(2026, 7, 1, tzinfo=SHANGHAI)
GATE_1, GATE_2 = "1号门", "2号门"
WALK_IN_PHONE = "13912345678"
CAMPAIGN = "春风行动"

MEMBERS = (
    ("张一", "ent-a1", "courier"),
    ("张二", "ent-a1", "courier"),
    ("张三", "ent-a1", "food_delivery"),
    ("张四", "ent-a1", "food_delivery"),
    ("李一", "union-a", "truck_driver"),
    ("李二", "union-a", "courier"),
    ("李三", "union-a", "sanitation"),
    ("王一", "union-b", "courier"),
    ("王二", "union-b", "food_delivery"),
    ("王三", "union-b", "domestic"),
    ("赵一", "fed", "other"),
)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Scenario:
    a1: int
    a2: int
    a3: int
    a4: int
    a5: int
    a6: int
    a7: int
    m: list[Actor]
    walk_in_id: int  # 路人甲


def phone_of(index: int) -> str:
    return f"1390000{index:04d}"


async def _activity(org: Org, by: str, *, publish: bool = True, **overrides: object) -> int:
    actor = getattr(org, by)
    created = await activities.create_activity(actor, draft(**overrides))
    if publish:
        await activities.publish(actor, created.id)
    return created.id


async def scenario(org: Org) -> Scenario:
    m = [
        await add_member(phone_of(i), name, node, ["worker"], group=group)
        for i, (name, node, group) in enumerate(MEMBERS)
    ]
    with clock.frozen_at(SETUP):
        a7 = await _activity(
            org,
            "organiser_a",
            title="四月招聘会",
            starts_at=utc(4, 28, 2),
            ends_at=utc(4, 28, 4),
            campaign=CAMPAIGN,
        )
        a1 = await _activity(
            org,
            "organiser_a",
            title="五月招聘会",
            capacity=6,
            starts_at=utc(5, 20, 1),
            ends_at=utc(5, 20, 4),
            eligible_nodes=["fed"],
            campaign=f"  {CAMPAIGN} ",  # kept without the spaces
        )
        a4 = await _activity(
            org,
            "organiser_b",
            kind="reading_session",
            title="乙工会读书课",
            capacity=5,
            starts_at=utc(5, 25, 12),
            ends_at=utc(5, 25, 14),
            eligible_nodes=["fed"],
        )
        a2 = await _activity(
            org,
            "organiser_a",
            kind="reading_session",
            title="晨读分享会",
            capacity=10,
            starts_at=utc(5, 31, 23, 30),
            ends_at=utc(6, 1, 1, 30),
        )
        a5 = await _activity(
            org,
            "organiser_a",
            kind="job_fair",
            title="送岗位",
            capacity=5,
            starts_at=utc(6, 12, 2),
            ends_at=utc(6, 12, 4),
        )
        a6 = await _activity(
            org,
            "organiser_a",
            publish=False,
            kind="job_fair",
            title="送岗位（草稿）",
            capacity=5,
            starts_at=utc(6, 15, 2),
            ends_at=utc(6, 15, 4),
        )
        a3 = await _activity(
            org,
            "organiser_a",
            title="六月招聘会",
            capacity=2,
            starts_at=utc(6, 20, 1),
            ends_at=utc(6, 20, 5),
        )

        async def sign_up(actor: Actor, activity_id: int) -> tuple[int, str | None, str]:
            registration, _ = await activities.register(actor, activity_id)
            return registration.id, registration.ticket_code, registration.status

        # A7: m2, m3 confirmed.
        a7_codes = {i: (await sign_up(m[i], a7))[1] for i in (2, 3)}
        # A1, capacity 6: m0-m5 confirmed, then m6, m7, m8 on the waitlist.
        a1_regs = {i: await sign_up(m[i], a1) for i in range(9)}
        assert [a1_regs[i][2] for i in range(9)] == ["confirmed"] * 6 + ["waitlisted"] * 3
        # m5 cancels: m6, first in the queue, takes the seat. m8 leaves the waitlist.
        await activities.cancel_registration(m[5], a1_regs[5][0])
        await activities.cancel_registration(m[8], a1_regs[8][0])
        # A4 (union-b): m7, m8, m0.
        a4_codes = {i: (await sign_up(m[i], a4))[1] for i in (7, 8, 0)}
        # A2: m0, m2, m4, m5; m5 cancels.
        a2_regs = {i: await sign_up(m[i], a2) for i in (0, 2, 4, 5)}
        await activities.cancel_registration(m[5], a2_regs[5][0])
        # A5: m0 has a place, then the organiser cancels the activity.
        await sign_up(m[0], a5)
        await activities.cancel(org.organiser_a, a5, "高温停工")
        # A3, capacity 2: m1 and worker_a1 confirmed, m3 waiting.
        a3_code = (await sign_up(m[1], a3))[1]
        await sign_up(org.worker_a1, a3)
        assert (await sign_up(m[3], a3))[2] == "waitlisted"
        await checkin.update_settings(
            org.organiser_a,
            a1,
            DoorSettingsIn(gates=[GATE_1, GATE_2], walk_ins_over_capacity=True),
        )

    async def scan(at: datetime, activity_id: int, code: str | None, gate: str = "") -> int:
        assert code
        with clock.frozen_at(at):
            verdict = await checkin.check_in(org.organiser_a, activity_id, code, gate=gate)
        assert verdict.result == "admitted", verdict
        assert verdict.scan_id is not None
        return verdict.scan_id

    await scan(utc(4, 28, 2, 10), a7, a7_codes[2])

    code = {i: a1_regs[i][1] for i in range(5)}
    await scan(utc(5, 20, 0, 40), a1, code[0], GATE_1)
    await scan(utc(5, 20, 0, 50), a1, code[1], GATE_2)
    await scan(utc(5, 20, 0, 55), a1, code[2], GATE_1)
    with clock.frozen_at(utc(5, 20, 1, 0)):  # m0 again at the other gate: not a second one
        again = await checkin.check_in(org.organiser_a, a1, code[0] or "", gate=GATE_2)
    assert again.result == "already_checked_in"
    mistaken = await scan(utc(5, 20, 1, 5), a1, code[4], GATE_1)
    with clock.frozen_at(utc(5, 20, 1, 10)):
        await checkin.undo(org.organiser_a, mistaken, "扫错了人")
    await scan(utc(5, 20, 1, 20), a1, code[3], GATE_2)
    with clock.frozen_at(utc(5, 20, 1, 25)):
        walked = await checkin.walk_in(org.organiser_a, a1, phone_of(9), gate=GATE_2)
    assert walked.result == "admitted" and walked.walk_in
    with clock.frozen_at(utc(5, 20, 1, 35)):
        stranger = await checkin.walk_in(org.organiser_a, a1, WALK_IN_PHONE, "路人甲", gate=GATE_2)
    assert stranger.result == "admitted" and stranger.walk_in
    with clock.frozen_at(utc(5, 21, 2)):
        await activities.close(org.organiser_a, a1)

    for at, index in ((utc(5, 25, 11, 30), 7), (utc(5, 25, 12, 5), 0)):
        with clock.frozen_at(at):
            verdict = await checkin.check_in(org.organiser_b, a4, a4_codes[index] or "")
        assert verdict.result == "admitted"

    await scan(utc(6, 20, 0, 58), a3, a3_code)

    walk_in_id = await orgs.member_id_for_phone(WALK_IN_PHONE)
    assert walk_in_id is not None
    return Scenario(a1=a1, a2=a2, a3=a3, a4=a4, a5=a5, a6=a6, a7=a7, m=m, walk_in_id=walk_in_id)


# Nodes as the report names them.
FED = ("fed", "测试县总工会", 0)
UNION_A = ("union-a", "甲镇总工会", 1)
UNION_B = ("union-b", "乙行业工会", 1)
ENT_A1 = ("ent-a1", "甲一快递站", 2)


def node(which: tuple[str, str, int], confirmed: int, checked_in: int) -> NodeCount:
    code, name, depth = which
    return NodeCount(code=code, name=name, depth=depth, confirmed=confirmed, checked_in=checked_in)


def reach(which: tuple[str, str, int], members: int, reached: int, share: float) -> NodeReach:
    return NodeReach(code=which[0], name=which[1], members=members, reached=reached, share=share)


# --- one activity ---------------------------------------------------------------------


async def test_activity_report_of_an_ended_scanned_activity(org: Org) -> None:
    s = await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.activity_report(org.organiser_a, s.a1)
    assert report == ActivityReport(
        activity_id=s.a1,
        title="五月招聘会",
        kind="job_fair",
        status="closed",
        starts_at=utc(5, 20, 1),
        ends_at=utc(5, 20, 4),
        # 9 sign-ups (m0-m8) + 2 walk-in rows (m9, 路人甲) = 11
        registered=11,
        # m0 m1 m2 m3 m4 + m6 (promoted when m5 cancelled) + m9 + 路人甲 = 8
        confirmed=8,
        waitlisted=1,  # m7
        cancelled=2,  # m5 (had a seat), m8 (left the waitlist)
        # m0 m1 m2 m3 m9 路人甲 = 6 (m4's admission was undone; m0's second scan is a duplicate)
        checked_in=6,
        walk_ins=2,  # m9, 路人甲
        no_shows=2,  # 8 - 6: m4, m6
        no_show_rate=0.25,  # 2 / 8
        provisional=False,
        attendance_unknown=False,
        # 1号门: m0 00:40, m2 00:55 = 2 (m4 01:05 undone); 2号门: m1, m3, m9, 路人甲 = 4
        by_gate=[GateCount(GATE_1, 2), GateCount(GATE_2, 4)],
        arrivals=[
            ArrivalBucket(utc(5, 20, 0, 30), 1),  # m0 00:40
            ArrivalBucket(utc(5, 20, 0, 45), 2),  # m1 00:50, m2 00:55
            ArrivalBucket(utc(5, 20, 1, 0), 0),  # m0's duplicate, m4 undone: a gap, filled
            ArrivalBucket(utc(5, 20, 1, 15), 2),  # m3 01:20, m9 01:25
            ArrivalBucket(utc(5, 20, 1, 30), 1),  # 路人甲 01:35
        ],
        # ent-a1: m0 m1 m2 m3 all in = 4/4; union-a itself: m4, m6, 路人甲 (1 in)
        # → union-a 7/5; union-b: m9 1/1; fed 8/6
        by_node=[
            node(FED, 8, 6),
            node(UNION_A, 7, 5),
            node(ENT_A1, 4, 4),
            node(UNION_B, 1, 1),
        ],
        # courier m0 m1; food m2 m3; truck m4 (out); domestic m9; sanitation m6 (out); 路人甲 other
        by_group=[
            GroupCount("courier", 2, 2),
            GroupCount("food_delivery", 2, 2),
            GroupCount("truck_driver", 1, 0),
            GroupCount("domestic", 1, 1),
            GroupCount("sanitation", 1, 0),
            GroupCount("other", 1, 1),
        ],
        sections=[],
    )


async def test_an_activity_held_without_scanning_is_unknown_not_zero(org: Org) -> None:
    s = await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.activity_report(org.organiser_a, s.a2)
    assert report == ActivityReport(
        activity_id=s.a2,
        title="晨读分享会",
        kind="reading_session",
        status="published",
        starts_at=utc(5, 31, 23, 30),
        ends_at=utc(6, 1, 1, 30),
        registered=4,  # m0 m2 m4 m5
        confirmed=3,  # m0 m2 m4
        waitlisted=0,
        cancelled=1,  # m5
        checked_in=0,
        walk_ins=0,
        no_shows=0,  # not 3: nobody scanned, so nobody is known to have stayed away
        no_show_rate=None,
        provisional=False,
        attendance_unknown=True,
        by_gate=[],
        arrivals=[],
        # m0 m2 in ent-a1, m4 in union-a
        by_node=[node(FED, 3, 0), node(UNION_A, 3, 0), node(ENT_A1, 2, 0)],
        by_group=[
            GroupCount("courier", 1, 0),
            GroupCount("food_delivery", 1, 0),
            GroupCount("truck_driver", 1, 0),
        ],
        sections=[],
    )


async def test_a_running_activity_is_provisional(org: Org) -> None:
    s = await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.activity_report(org.organiser_a, s.a3)
    assert report == ActivityReport(
        activity_id=s.a3,
        title="六月招聘会",
        kind="job_fair",
        status="published",
        starts_at=utc(6, 20, 1),
        ends_at=utc(6, 20, 5),
        registered=3,  # m1, worker_a1, m3
        confirmed=2,  # m1, worker_a1
        waitlisted=1,  # m3
        cancelled=0,
        checked_in=1,  # m1 at 00:58
        walk_ins=0,
        no_shows=1,  # worker_a1 has not come yet
        no_show_rate=0.5,  # 1 / 2, provisional
        provisional=True,
        attendance_unknown=False,
        by_gate=[GateCount("", 1)],  # no gates set: the single unnamed entrance
        arrivals=[ArrivalBucket(utc(6, 20, 0, 45), 1)],
        by_node=[node(FED, 2, 1), node(UNION_A, 2, 1), node(ENT_A1, 2, 1)],
        by_group=[GroupCount("courier", 2, 1)],
        sections=[],
    )
    # Before anyone was scanned and before the start: nothing unknown, nothing to chart.
    with clock.frozen_at(utc(6, 19, 0)):
        early = await reports.activity_report(org.organiser_a, s.a3)
    assert (early.checked_in, early.no_shows, early.no_show_rate) == (1, 1, 0.5)
    assert early.provisional and not early.attendance_unknown


async def test_another_unions_activity_with_members_from_elsewhere(org: Org) -> None:
    s = await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.activity_report(org.organiser_b, s.a4)
        as_admin = await reports.activity_report(org.admin, s.a4)
    assert report == as_admin
    assert report == ActivityReport(
        activity_id=s.a4,
        title="乙工会读书课",
        kind="reading_session",
        status="published",
        starts_at=utc(5, 25, 12),
        ends_at=utc(5, 25, 14),
        registered=3,  # m7 m8 m0
        confirmed=3,
        waitlisted=0,
        cancelled=0,
        checked_in=2,  # m7 11:30, m0 12:05
        walk_ins=0,
        no_shows=1,  # m8
        no_show_rate=0.3333,  # 1 / 3, rounded to 4 places
        provisional=False,
        attendance_unknown=False,
        by_gate=[GateCount("", 2)],
        arrivals=[
            ArrivalBucket(utc(5, 25, 11, 30), 1),
            ArrivalBucket(utc(5, 25, 11, 45), 0),
            ArrivalBucket(utc(5, 25, 12, 0), 1),
        ],
        # m0 (ent-a1, in), m7 (union-b, in), m8 (union-b, out)
        by_node=[
            node(FED, 3, 2),
            node(UNION_A, 1, 1),
            node(ENT_A1, 1, 1),
            node(UNION_B, 2, 1),
        ],
        by_group=[GroupCount("courier", 2, 2), GroupCount("food_delivery", 1, 0)],
        sections=[],
    )


async def test_activity_report_scope(org: Org) -> None:
    s = await scenario(org)
    with clock.frozen_at(REPORT):
        for actor, activity_id, code in (
            (org.organiser_b, s.a1, "not_found"),  # union-a's, outside union-b
            (org.organiser_a, s.a4, "not_found"),  # union-b's
            (org.worker_a1, s.a1, "forbidden"),
            (org.staff_a, s.a1, "forbidden"),
        ):
            with pytest.raises(DomainError) as refused:
                await reports.activity_report(actor, activity_id)
            assert refused.value.code == code, (actor.name, activity_id)
        with pytest.raises(DomainError) as missing:
            await reports.activity_report(org.admin, s.a1 + 1000)
        assert missing.value.code == "not_found"
        # The admin and the organiser of the owning node see the same report.
        assert await reports.activity_report(org.admin, s.a1) == await reports.activity_report(
            org.organiser_a, s.a1
        )


async def test_an_empty_activity_report(org: Org) -> None:
    s = await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.activity_report(org.organiser_a, s.a6)  # the draft
    assert report.status == "draft"
    assert (report.registered, report.confirmed, report.checked_in, report.no_shows) == (0,) * 4
    assert report.no_show_rate is None
    assert not report.provisional and not report.attendance_unknown  # ended, nobody confirmed
    assert (report.by_gate, report.arrivals, report.by_node, report.by_group) == ([],) * 4


# --- across activities ----------------------------------------------------------------

# Members of each subtree (fixture + scenario):
#   union-a itself: organiser_a, staff_a, m4, m5, m6, 路人甲 = 6
#   ent-a1:         worker_a1, m0, m1, m2, m3              = 5   → union-a subtree 11
#   union-b:        organiser_b, m7, m8, m9                = 4
#   fed itself:     admin, m10                             = 2   → everything 17
# Standing admissions within May-June: A1 m0 m1 m2 m3 m9 路人甲; A3 m1; A4 m7 m0.
# (A7 in April, m2 in, is outside the range.)


async def test_summary_of_a_union(org: Org) -> None:
    s = await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.summary(org.organiser_a, date_from=MAY_1, date_to=JULY_1)
        named = await reports.summary(
            org.organiser_a, node_code="union-a", date_from=MAY_1, date_to=JULY_1
        )
    assert named == report
    assert s.a1  # the scenario is what the figures below describe
    assert report == SummaryReport(
        node_code="union-a",
        node_name="甲镇总工会",
        date_from=MAY_1,
        date_to=JULY_1,
        kind=None,
        group=None,
        # A1, A2, A3 (A5 cancelled, A6 a draft, A7 in April, A4 is union-b's)
        activities_held=3,
        by_kind=[
            KindCount("job_fair", held=2, confirmed=8 + 2, checked_in=6 + 1),  # A1 + A3
            KindCount("reading_session", held=1, confirmed=3, checked_in=0),  # A2
        ],
        confirmed=13,  # 8 + 3 + 2
        checked_in=7,  # 6 + 0 + 1
        no_shows=2,  # A1 only: A2 unscanned, A3 still running
        no_show_rate=0.25,  # 2 / 8
        attendance_unknown=1,  # A2
        members_in_scope=11,
        members_reached=5,  # m0 m1 m2 m3 路人甲 (m9 came but belongs to union-b)
        reach_share=0.4545,  # 5 / 11
        repeat_attendees=1,  # m1 (A1, A3); m2's second attendance (A7) is out of range
        by_month=[
            MonthCount(
                "2026-05", activities=1, confirmed=8, checked_in=6, no_shows=2, no_show_rate=0.25
            ),
            # A2 starts 05-31 23:30 UTC = 06-01 07:30 local; A3 running: no figures yet
            MonthCount(
                "2026-06", activities=2, confirmed=0, checked_in=0, no_shows=0, no_show_rate=None
            ),
        ],
        top_nodes=[reach(ENT_A1, 5, 4, 0.8)],  # m0..m3 of worker_a1, m0..m3
        bottom_nodes=[],  # one child: nothing to rank at the bottom
    )


async def test_summary_of_the_federation(org: Org) -> None:
    await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.summary(org.admin, date_from=MAY_1, date_to=JULY_1)
    assert report == SummaryReport(
        node_code="fed",
        node_name="测试县总工会",
        date_from=MAY_1,
        date_to=JULY_1,
        kind=None,
        group=None,
        activities_held=4,  # A1, A2, A3, A4
        by_kind=[
            KindCount("job_fair", held=2, confirmed=10, checked_in=7),
            KindCount("reading_session", held=2, confirmed=3 + 3, checked_in=0 + 2),  # A2 + A4
        ],
        confirmed=16,  # 8 + 3 + 2 + 3
        checked_in=9,  # 6 + 0 + 1 + 2
        no_shows=3,  # A1 2 + A4 1
        no_show_rate=0.2727,  # 3 / (8 + 3)
        attendance_unknown=1,
        members_in_scope=17,
        members_reached=7,  # m0 m1 m2 m3 m7 m9 路人甲
        reach_share=0.4118,  # 7 / 17
        repeat_attendees=2,  # m0 (A1, A4), m1 (A1, A3)
        by_month=[
            MonthCount(
                "2026-05", activities=2, confirmed=11, checked_in=8, no_shows=3, no_show_rate=0.2727
            ),
            MonthCount(
                "2026-06", activities=2, confirmed=0, checked_in=0, no_shows=0, no_show_rate=None
            ),
        ],
        # union-b: m7 m9 of 4 = 0.5; union-a: 5 of 11 = 0.4545
        top_nodes=[reach(UNION_B, 4, 2, 0.5), reach(UNION_A, 11, 5, 0.4545)],
        bottom_nodes=[],
    )


async def test_summary_by_kind(org: Org) -> None:
    await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.summary(org.admin, date_from=MAY_1, date_to=JULY_1, kind="job_fair")
    assert report == SummaryReport(
        node_code="fed",
        node_name="测试县总工会",
        date_from=MAY_1,
        date_to=JULY_1,
        kind="job_fair",
        group=None,
        activities_held=2,  # A1, A3
        by_kind=[KindCount("job_fair", held=2, confirmed=10, checked_in=7)],
        confirmed=10,
        checked_in=7,
        no_shows=2,  # A1
        no_show_rate=0.25,
        attendance_unknown=0,  # A2 is a reading session
        members_in_scope=17,
        members_reached=6,  # m0 m1 m2 m3 m9 路人甲
        reach_share=0.3529,  # 6 / 17
        repeat_attendees=1,  # m1
        by_month=[
            MonthCount(
                "2026-05", activities=1, confirmed=8, checked_in=6, no_shows=2, no_show_rate=0.25
            ),
            MonthCount(
                "2026-06", activities=1, confirmed=0, checked_in=0, no_shows=0, no_show_rate=None
            ),
        ],
        # union-a: 5 of 11; union-b: m9 of 4 = 0.25
        top_nodes=[reach(UNION_A, 11, 5, 0.4545), reach(UNION_B, 4, 1, 0.25)],
        bottom_nodes=[],
    )


async def test_summary_of_a_campaign(org: Org) -> None:
    await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.summary(
            org.admin, date_from=MAY_1, date_to=JULY_1, campaign=f" {CAMPAIGN}"
        )
    # Of the campaign's A7 and A1, only A1 started in the range.
    assert report == SummaryReport(
        node_code="fed",
        node_name="测试县总工会",
        date_from=MAY_1,
        date_to=JULY_1,
        kind=None,
        group=None,
        campaign=CAMPAIGN,
        activities_held=1,
        # confirmed: m0-m4, m6 (in m5's place), the walk-ins m9 and 路人甲; checked in:
        # m0 m1 m2 m3 m9 路人甲 (m4's admission was undone)
        by_kind=[KindCount("job_fair", held=1, confirmed=8, checked_in=6)],
        confirmed=8,
        checked_in=6,
        no_shows=2,  # m4, m6
        no_show_rate=0.25,
        attendance_unknown=0,
        members_in_scope=17,
        members_reached=6,
        reach_share=0.3529,  # 6 / 17
        repeat_attendees=0,  # one activity: nobody came twice
        by_month=[
            MonthCount(
                "2026-05", activities=1, confirmed=8, checked_in=6, no_shows=2, no_show_rate=0.25
            ),
        ],
        top_nodes=[reach(UNION_A, 11, 5, 0.4545), reach(UNION_B, 4, 1, 0.25)],
        bottom_nodes=[],
    )
    assert await activities.campaigns(org.organiser_a) == [CAMPAIGN]
    assert await activities.campaigns(org.organiser_b) == []  # union-b's own and fed's


async def test_summary_by_worker_group(org: Org) -> None:
    await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.summary(org.admin, date_from=MAY_1, date_to=JULY_1, group="courier")
        truckers = await reports.summary(
            org.admin, date_from=MAY_1, date_to=JULY_1, group="truck_driver"
        )
    # Couriers: worker_a1, m0, m1 (ent-a1), m5 (union-a), m7 (union-b) = 5.
    # Confirmed couriers: A1 m0 m1 (both in); A2 m0 (unscanned); A3 m1 (in), worker_a1;
    # A4 m7 m0 (both in).
    assert report == SummaryReport(
        node_code="fed",
        node_name="测试县总工会",
        date_from=MAY_1,
        date_to=JULY_1,
        kind=None,
        group="courier",
        activities_held=4,  # the activities are not filtered, their people are
        by_kind=[
            KindCount("job_fair", held=2, confirmed=2 + 2, checked_in=2 + 1),
            KindCount("reading_session", held=2, confirmed=1 + 2, checked_in=0 + 2),  # A2 + A4
        ],
        confirmed=7,
        checked_in=5,
        no_shows=0,  # A1 2 - 2, A4 2 - 2
        no_show_rate=0.0,  # 0 / 4
        attendance_unknown=1,  # A2: a courier was confirmed, nobody scanned
        members_in_scope=5,
        members_reached=3,  # m0 m1 m7
        reach_share=0.6,
        repeat_attendees=2,  # m0, m1
        by_month=[
            MonthCount(
                "2026-05", activities=2, confirmed=4, checked_in=4, no_shows=0, no_show_rate=0.0
            ),
            MonthCount(
                "2026-06", activities=2, confirmed=0, checked_in=0, no_shows=0, no_show_rate=None
            ),
        ],
        # union-b: m7 of 1; union-a: m0 m1 of worker_a1 m0 m1 m5
        top_nodes=[reach(UNION_B, 1, 1, 1.0), reach(UNION_A, 4, 2, 0.5)],
        bottom_nodes=[],
    )
    # One truck driver (m4, union-a), whose admission was undone; union-b has none and
    # is left out of the ranking.
    assert (truckers.members_in_scope, truckers.members_reached) == (1, 0)
    assert truckers.reach_share == 0.0
    assert (truckers.confirmed, truckers.checked_in, truckers.no_shows) == (2, 0, 1)  # A1, A2
    assert truckers.no_show_rate == 1.0  # A1: 1 / 1 (A2 unscanned)
    assert truckers.top_nodes == [reach(UNION_A, 1, 0, 0.0)]


async def test_summary_of_a_subtree_without_activities(org: Org) -> None:
    await scenario(org)
    with clock.frozen_at(REPORT):
        report = await reports.summary(
            org.organiser_a, node_code="ent-a1", date_from=MAY_1, date_to=JULY_1
        )
    assert report == SummaryReport(
        node_code="ent-a1",
        node_name="甲一快递站",
        date_from=MAY_1,
        date_to=JULY_1,
        kind=None,
        group=None,
        activities_held=0,  # ent-a1 owns none
        by_kind=[],
        confirmed=0,
        checked_in=0,
        no_shows=0,
        no_show_rate=None,
        attendance_unknown=0,
        members_in_scope=5,
        members_reached=0,  # m0..m3 came, but to union-a's activities
        reach_share=0.0,
        repeat_attendees=0,
        by_month=[],
        top_nodes=[],  # no children
        bottom_nodes=[],
    )


async def test_summary_range_edges(org: Org) -> None:
    await scenario(org)
    day = timedelta(days=1)
    with clock.frozen_at(REPORT):

        async def held(start: datetime, end: datetime) -> int:
            return (await reports.summary(org.admin, date_from=start, date_to=end)).activities_held

        # A1 starts at 05-20 01:00 UTC: the start is inclusive, the end exclusive.
        assert await held(utc(5, 20, 1), utc(5, 20, 1, 1)) == 1
        assert await held(utc(5, 19, 0), utc(5, 20, 1)) == 0
        # A2 starts 05-31 23:30 UTC: in June by local days, in May by UTC days.
        june = datetime(2026, 6, 1, tzinfo=SHANGHAI)
        assert await held(june, june + 30 * day) == 2  # A2, A3
        assert await held(utc(6, 1, 0), utc(7, 1, 0)) == 1  # A3
        # The default range is the last 90 days and the next 30: A7 in April counts, and m2
        # repeats.
        default = await reports.summary(org.organiser_a)
    assert default.date_to == REPORT + 30 * day
    assert default.date_from == REPORT - 90 * day
    assert default.activities_held == 4  # A7, A1, A2, A3
    assert default.repeat_attendees == 2  # m1 (A1, A3), m2 (A7, A1)
    assert default.no_shows == 3  # A7: m3; A1: m4, m6
    assert default.no_show_rate == 0.3  # 3 / (2 + 8)
    assert [month.month for month in default.by_month] == ["2026-04", "2026-05", "2026-06"]


async def test_summary_scope(org: Org) -> None:
    await scenario(org)
    with clock.frozen_at(REPORT):
        for actor, node_code in (
            (org.organiser_a, "union-b"),  # a sibling
            (org.organiser_a, "fed"),  # the parent
            (org.organiser_b, "ent-a1"),
        ):
            with pytest.raises(DomainError) as refused:
                await reports.summary(actor, node_code=node_code)
            assert refused.value.code == "forbidden", (actor.name, node_code)
        for actor in (org.worker_a1, org.staff_a):
            with pytest.raises(DomainError) as refused:
                await reports.summary(actor)
            assert refused.value.code == "forbidden"
        # organiser_b's own summary: union-b's A4 only.
        own = await reports.summary(org.organiser_b, date_from=MAY_1, date_to=JULY_1)
    assert (own.node_code, own.activities_held, own.members_in_scope) == ("union-b", 1, 4)
    # A4: m0 came from ent-a1, outside union-b: only m7 of union-b's 4 members was reached.
    assert (own.confirmed, own.checked_in, own.members_reached) == (3, 2, 1)
    assert own.reach_share == 0.25


@pytest.mark.parametrize(
    ("arguments", "code", "field"),
    [
        ({"date_from": JULY_1, "date_to": MAY_1}, "validation_error", "to"),
        ({"date_from": MAY_1, "date_to": MAY_1}, "validation_error", "to"),
        (
            {"date_from": datetime(2021, 1, 1, tzinfo=UTC), "date_to": utc(6, 1, 0)},
            "validation_error",
            "from",
        ),
        ({"date_from": datetime(2026, 5, 1), "date_to": JULY_1}, "validation_error", "from"),
        ({"node_code": "nowhere"}, "unknown_node", "node"),
        ({"node_code": "../../x"}, "unknown_node", "node"),
        ({"kind": "party"}, "validation_error", "kind"),
        ({"group": "astronaut"}, "validation_error", "group"),
        ({"campaign": "春" * 61}, "validation_error", "campaign"),
        ({"campaign": "春风\x00行动"}, "validation_error", "campaign"),
    ],
)
async def test_summary_bad_input(
    org: Org, arguments: dict[str, object], code: str, field: str
) -> None:
    with clock.frozen_at(REPORT), pytest.raises(DomainError) as refused:
        await reports.summary(org.admin, **arguments)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.field) == (code, field)


async def test_a_range_of_exactly_five_years_is_allowed(org: Org) -> None:
    with clock.frozen_at(REPORT):
        report = await reports.summary(
            org.admin, date_from=datetime(2021, 6, 20, tzinfo=UTC), date_to=REPORT
        )
    assert report.activities_held == 0


# --- one member -----------------------------------------------------------------------


def item(
    activity_id: int,
    title: str,
    kind: str,
    starts: datetime,
    ends: datetime,
    status: str = "confirmed",
    checked_in_at: datetime | None = None,
    activity_status: str = "published",
    attendance_known: bool = True,
) -> HistoryItem:
    return HistoryItem(
        activity_status=activity_status,
        attendance_known=attendance_known,
        activity_id=activity_id,
        title=title,
        kind=kind,
        starts_at=starts,
        ends_at=ends,
        status=status,
        checked_in_at=checked_in_at,
    )


async def test_member_history(org: Org) -> None:
    s = await scenario(org)
    m0 = s.m[0]
    assert m0.member_id is not None
    with clock.frozen_at(REPORT):
        by_organiser = await reports.member_history(org.organiser_a, m0.member_id)
        own = await reports.member_history(m0)
        own_by_id = await reports.member_history(m0, m0.member_id)
    assert own == own_by_id == by_organiser
    assert own == MemberHistory(
        member_id=m0.member_id,
        name="张一",
        phone_masked="139****0000",
        items=[  # newest first
            item(
                s.a5,
                "送岗位",
                "job_fair",
                utc(6, 12, 2),
                utc(6, 12, 4),
                activity_status="cancelled",
                attendance_known=False,
            ),
            item(
                s.a2,
                "晨读分享会",
                "reading_session",
                utc(5, 31, 23, 30),
                utc(6, 1, 1, 30),
                attendance_known=False,
            ),
            item(
                s.a4,
                "乙工会读书课",
                "reading_session",
                utc(5, 25, 12),
                utc(5, 25, 14),
                checked_in_at=utc(5, 25, 12, 5),
            ),
            item(
                s.a1,
                "五月招聘会",
                "job_fair",
                utc(5, 20, 1),
                utc(5, 20, 4),
                checked_in_at=utc(5, 20, 0, 40),
                activity_status="closed",
            ),
        ],
        # A1 and A4 count. A5 was cancelled by the organiser and A2 was held without
        # scanning: neither says whether m0 came.
        attended=2,
        confirmed_ended=2,
        attendance_rate=1.0,
    )


async def test_member_history_rates(org: Org) -> None:
    s = await scenario(org)
    ids = [actor.member_id for actor in s.m]
    with clock.frozen_at(REPORT):
        m1 = await reports.member_history(org.organiser_a, ids[1])
        m2 = await reports.member_history(org.organiser_a, ids[2])
        m4 = await reports.member_history(org.organiser_a, ids[4])
        m5 = await reports.member_history(org.organiser_a, ids[5])
        m9 = await reports.member_history(org.organiser_b, ids[9])
        worker = await reports.member_history(org.worker_a1)
    # m1: A3 (running, already in) and A1 (in): only A1 has ended → 1 / 1
    assert m1.items == [
        item(
            s.a3,
            "六月招聘会",
            "job_fair",
            utc(6, 20, 1),
            utc(6, 20, 5),
            checked_in_at=utc(6, 20, 0, 58),
        ),
        item(
            s.a1,
            "五月招聘会",
            "job_fair",
            utc(5, 20, 1),
            utc(5, 20, 4),
            checked_in_at=utc(5, 20, 0, 50),
            activity_status="closed",
        ),
    ]
    assert (m1.attended, m1.confirmed_ended, m1.attendance_rate) == (1, 1, 1.0)
    # m2: A2 (unscanned), A1 (in), A7 (in) → 2 / 2
    assert [i.activity_id for i in m2.items] == [s.a2, s.a1, s.a7]
    assert (m2.attended, m2.confirmed_ended, m2.attendance_rate) == (2, 2, 1.0)
    # m4: A2 (unscanned), A1 (admitted, then undone) → 0 / 1
    assert [(i.activity_id, i.checked_in_at) for i in m4.items] == [(s.a2, None), (s.a1, None)]
    assert (m4.attended, m4.confirmed_ended, m4.attendance_rate) == (0, 1, 0.0)
    # m5 cancelled both: listed, not counted
    assert [(i.activity_id, i.status) for i in m5.items] == [
        (s.a2, "cancelled"),
        (s.a1, "cancelled"),
    ]
    assert (m5.attended, m5.confirmed_ended, m5.attendance_rate) == (0, 0, None)
    # m9 walked in at A1 (union-a's), seen by union-b's organiser
    assert m9.items == [
        item(
            s.a1,
            "五月招聘会",
            "job_fair",
            utc(5, 20, 1),
            utc(5, 20, 4),
            checked_in_at=utc(5, 20, 1, 25),
            activity_status="closed",
        ),
    ]
    assert (m9.attended, m9.confirmed_ended, m9.attendance_rate) == (1, 1, 1.0)
    assert (m9.name, m9.phone_masked) == ("王三", "139****0009")
    # worker_a1: A3, not in yet and not ended
    assert worker.phone_masked == "138****0005"
    assert [(i.activity_id, i.checked_in_at) for i in worker.items] == [(s.a3, None)]
    assert (worker.attended, worker.confirmed_ended, worker.attendance_rate) == (0, 0, None)


async def test_member_history_scope(org: Org) -> None:
    s = await scenario(org)
    m0, m9 = s.m[0].member_id, s.m[9].member_id
    assert m0 is not None and m9 is not None
    with clock.frozen_at(REPORT):
        for actor, member_id, code in (
            (org.organiser_b, m0, "not_found"),  # ent-a1 is not under union-b
            (org.organiser_a, m9, "not_found"),  # union-b
            (org.organiser_a, m0 + 1000, "not_found"),  # no such member: looks the same
            (org.worker_a1, m0, "forbidden"),  # a worker sees only their own
            (org.staff_a, m0, "forbidden"),
        ):
            with pytest.raises(DomainError) as refused:
                await reports.member_history(actor, member_id)
            assert refused.value.code == code, (actor.name, member_id)
        # Everyone's own history works, an organiser's included.
        for actor in (org.worker_a1, org.staff_a, org.organiser_b, s.m[10]):
            assert (await reports.member_history(actor)).member_id == actor.member_id
        admin_view = await reports.member_history(org.admin, m9)
    assert admin_view.items[0].activity_id == s.a1
