"""The reading room's reports: a session's own part of the activity report, its part of
the summary, and the report per study plan (readers across the series)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.errors import DomainError
from service.i18n import language
from service.orgs.schemas import Actor
from service.reading import reports as reading_reports
from service.reading import services as reading
from service.reading.schemas import ExceptionIn, IntervalIn, PlanIn, WeekIn
from service.reports import services as reports
from tests.conftest import Org, add_member
from tests.service.test_reading import NOW, local, plan_of_four, seed_room, session

MARCH_3 = date(2026, 3, 3)


async def came(organiser: Actor, worker: Actor, activity_id: int, week: int) -> None:
    """The worker registers and is admitted at the door of the plan's session `week`."""
    with clock.frozen_at(NOW):
        registration, _ = await activities.register(worker, activity_id)
    with clock.frozen_at(local(MARCH_3 + timedelta(days=7 * week), 14, 5)):
        await checkin.admit_registration(organiser, activity_id, registration.id)


async def test_the_plan_report_counts_readers_across_the_series(org: Org) -> None:
    room_id = await seed_room(org)
    plan_id, ids = await plan_of_four(org, room_id)  # session 3 has one place
    steady = await add_member("13700000021", "职工甲", "ent-a1", ["worker"])
    with clock.frozen_at(NOW):
        await activities.cancel(org.organiser_a, ids[3], "讲师有事")
    for week in range(3):
        await came(org.organiser_a, steady, ids[week], week)
    await came(org.organiser_a, org.worker_a1, ids[0], 0)
    await came(org.organiser_a, org.worker_a1, ids[1], 1)
    once = await add_member("13700000022", "职工乙", "ent-a1", ["worker"])
    with clock.frozen_at(NOW):
        await activities.register(once, ids[1])  # joined, never came
    await reading.post_note(steady, ids[0], "读后感")

    report = await reading.plan_report(org.organiser_a, plan_id)

    assert [s.activity_id for s in report.sessions] == ids
    assert [s.joined for s in report.sessions] == [2, 3, 1, 0]
    assert [s.attended for s in report.sessions] == [2, 2, 1, 0]
    assert [s.seats_offered for s in report.sessions] == [15, 15, 1, 0]  # the 4th cancelled
    assert [s.notes for s in report.sessions] == [1, 0, 0, 0]
    assert report.members_joined == 3
    assert report.unique_readers == 2
    assert report.repeat_readers == 2
    # The whole series: every session held (the cancelled one asks nothing of anyone).
    assert report.completed_series == 1
    assert report.notes == 1


async def two_rooms_plan(org: Org) -> tuple[int, int, int, list[int]]:
    """A plan over two months and two rooms: room A (Tue/Thu/Sat 08-11 and 14-18, 7 h a
    day, closed on Tuesday 7 April), room B (Mondays 19-21), and a third room whose only
    session (in May) is cancelled. Returns (plan, room A, room B, [A's, B's, C's session])."""
    room_a = await seed_room(org)
    room_b = await seed_room(org, name="乙镇职工书屋")
    room_c = await seed_room(org, name="丙镇职工书屋")
    evenings = [[IntervalIn("19:00", "21:00")], [], [], [], [], [], []]
    with clock.frozen_at(NOW):
        await reading.set_week(org.organiser_a, room_b, WeekIn(days=evenings))
        await reading.add_exception(
            org.organiser_a, room_a, ExceptionIn(starts_on=date(2026, 4, 7), note="盘点")
        )
        ids = []
        for room_id, day, start, end in (
            (room_a, date(2026, 3, 10), 14, 16),
            (room_b, date(2026, 4, 6), 19, 21),
            (room_c, date(2026, 5, 5), 14, 16),
        ):
            created = await activities.create_activity(
                org.organiser_a, session(room_id, local(day, start), local(day, end))
            )
            await activities.publish(org.organiser_a, created.id)
            ids.append(created.id)
        await activities.cancel(org.organiser_a, ids[2], "场地维修")
        plan = await reading.create_plan(org.organiser_a, PlanIn(name="春季读书", activity_ids=ids))
    return plan.id, room_a, room_b, ids


async def test_the_plan_report_has_its_rooms_hours_by_month_and_its_members_demand(
    org: Org,
) -> None:
    plan_id, room_a, room_b, ids = await two_rooms_plan(org)
    room_c = (await reading.session_rooms([ids[2]]))[ids[2]]["room"]
    with clock.frozen_at(NOW):
        await activities.register(org.worker_a1, ids[0])  # joined, did not come
        came_to_b = await add_member("13700000031", "职工丁", "ent-a1", ["worker"])
        registration, _ = await activities.register(came_to_b, ids[1])
    with clock.frozen_at(local(date(2026, 4, 6), 19, 5)):
        await checkin.admit_registration(org.organiser_a, ids[1], registration.id)
    outsider = await add_member("13700000032", "职工戊", "ent-a1", ["worker"])
    await reading.set_demand(org.worker_a1, room_a, ["1:evening", "5:morning"])
    await reading.set_demand(org.worker_a1, room_b, ["1:evening", "0:night"])  # once
    await reading.set_demand(org.worker_a1, room_c, ["3:midday"])  # not a room of the plan
    await reading.set_demand(came_to_b, room_b, ["0:night"])
    await reading.set_demand(outsider, room_a, ["1:evening"])  # not a member of the plan

    with clock.frozen_at(NOW):
        report = await reading.plan_report(org.organiser_a, plan_id)
        room_report = await reading.room_report(org.organiser_a, room_a, 2026)

    # By hand: March has 5 Tuesdays, 4 Thursdays, 4 Saturdays (13 x 7 h = 91 h); April
    # 4 + 5 + 4 = 13 days less the closed Tuesday (12 x 7 h = 84 h). Mondays 19-21: five
    # in March (10 h), four in April (8 h). May is the cancelled session's: not shown.
    assert [(h.room_id, h.month, h.hours_open) for h in report.hours_open] == [
        (room_a, "2026-03", 91.0),
        (room_a, "2026-04", 84.0),
        (room_b, "2026-03", 10.0),
        (room_b, "2026-04", 8.0),
    ]
    assert [h.room_name for h in report.hours_open] == ["甲镇职工书屋"] * 2 + ["乙镇职工书屋"] * 2
    # The same figure as the room's own report for those months.
    assert [m.hours_open for m in room_report.months[2:4]] == [91.0, 84.0]
    # Monday night: both members; Tuesday evening: worker_a1 once though marked for two
    # rooms; Saturday morning: worker_a1. The outsider's and room C's marks are not here.
    expected = [[0, 0, 0, 0] for _ in range(7)]
    expected[0][3] = 2
    expected[1][2] = 1
    expected[5][0] = 1
    assert report.demand.grid == expected
    assert report.demand.workers == 2
    assert report.demand.mine == []


async def test_a_plan_without_rooms_reports_no_hours_and_an_empty_grid(org: Org) -> None:
    room_id = await seed_room(org)
    plan_id, ids = await plan_of_four(org, room_id)
    with clock.frozen_at(NOW):
        for activity_id in ids:
            await activities.cancel(org.organiser_a, activity_id, "取消")
    report = await reading.plan_report(org.organiser_a, plan_id)
    assert report.hours_open == []
    assert report.demand.workers == 0
    assert sum(map(sum, report.demand.grid)) == 0


@pytest.mark.parametrize("who", ["worker_a1", "organiser_b"])
async def test_only_the_plan_s_organisers_see_its_report(org: Org, who: str) -> None:
    room_id = await seed_room(org)
    plan_id, _ = await plan_of_four(org, room_id)
    with pytest.raises(DomainError) as caught:
        await reading.plan_report(getattr(org, who), plan_id)
    assert caught.value.status_code == 403


async def test_a_session_s_report_shows_books_notes_and_its_repeat_readers(org: Org) -> None:
    room_id = await seed_room(org)
    _, ids = await plan_of_four(org, room_id)
    await came(org.organiser_a, org.worker_a1, ids[0], 0)
    await came(org.organiser_a, org.worker_a1, ids[1], 1)
    newcomer = await add_member("13700000023", "职工丙", "ent-a1", ["worker"])
    await came(org.organiser_a, newcomer, ids[1], 1)
    note = await reading.post_note(newcomer, ids[1], "第一次来")
    await reading.decide_note(org.organiser_a, note.id, True)
    await reading.post_note(org.worker_a1, ids[1], "又来了")

    with language("en"):
        report = await reports.activity_report(org.organiser_a, ids[1])
    sections = {section.title: section.rows for section in report.sections}
    assert sections["Book list"][1][:3] == ["平凡的世界", "路遥", "9787530215815"]
    assert sections["Reading notes"] == [
        ["Notes posted", "2"],
        ["Approved", "1"],
        ["Waiting for approval", "1"],
    ]
    assert sections["Readers"] == [
        ["Came to this session", "2"],
        ["Repeat readers (came to another session in this room)", "1"],
        ["First time in this room", "1"],
    ]
    with language("zh-CN"):
        chinese = await reports.activity_report(org.organiser_a, ids[1])
    assert "Readers" not in {section.title for section in chinese.sections}


async def test_the_summary_has_a_row_per_room_of_the_organiser_s_sessions(org: Org) -> None:
    room_id = await seed_room(org)
    _, ids = await plan_of_four(org, room_id)
    await came(org.organiser_a, org.worker_a1, ids[0], 0)
    await came(org.organiser_a, org.worker_a1, ids[1], 1)
    start = local(date(2026, 3, 1), 0)
    end = local(date(2026, 4, 1), 0)
    with language("en"):
        mine = await reading_reports.summary_sections(org.organiser_a, start, end)
        others = await reading_reports.summary_sections(org.organiser_b, start, end)
    assert mine[0].rows[0][0] == "Room"
    # Four sessions held, 15 + 15 + 1 + 15 seats, two visits by one repeat reader.
    assert mine[0].rows[1] == ["甲镇职工书屋", "4", "46", "2", "1", "1", "0"]
    assert others == []
