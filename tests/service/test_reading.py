"""Reading rooms: the opening-hours rule (hours.py) and the services around it — rooms,
seasons, exceptions, the holiday table, sessions that must fit their room, study plans,
notes and demand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.activities.tables import Activity
from service.checkin import services as checkin
from service.errors import DomainError
from service.orgs import services as orgs
from service.reading import hours
from service.reading import services as reading
from service.reading.schemas import (
    ExceptionIn,
    IntervalIn,
    PlanIn,
    RoomIn,
    SeasonIn,
    WeekIn,
)
from service.reading.tables import Holiday, ReadingNote, RoomHours, RoomSeason
from tests.conftest import Org, add_member

ZONE = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 09:00 in Shanghai.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZONE)
SEED_WEEK = {
    1: [(480, 660), (840, 1080)],
    3: [(480, 660), (840, 1080)],
    5: [(480, 660), (840, 1080)],
}


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=ZONE)


# --- the pure rule ---------------------------------------------------------------------------


def test_the_seed_week_opens_tuesday_thursday_and_saturday_mornings_and_afternoons() -> None:
    schedule = hours.Schedule(week=SEED_WEEK)
    tuesday = date(2026, 3, 3)
    assert hours.day_intervals(schedule, tuesday) == [(480, 660), (840, 1080)]
    assert hours.day_intervals(schedule, date(2026, 3, 2)) == []
    assert hours.is_open(schedule, local(tuesday, 8), ZONE)
    assert not hours.is_open(schedule, local(tuesday, 11), ZONE)  # closes at 11:00 sharp
    assert not hours.is_open(schedule, local(tuesday, 7, 59), ZONE)
    assert hours.next_change(schedule, local(tuesday, 12), ZONE) == local(tuesday, 14)
    assert hours.next_change(schedule, local(tuesday, 15), ZONE) == local(tuesday, 18)


def test_exception_beats_holiday_beats_season_beats_week() -> None:
    day = date(2026, 10, 1)  # a Thursday
    season = hours.Season(date(2026, 7, 1), date(2026, 10, 31), {3: [(540, 1200)]})
    holiday = hours.Holiday(day, workday=False)
    schedule = hours.Schedule(week=SEED_WEEK, seasons=[season], holidays={day: holiday})
    assert hours.day_intervals(schedule, day) == []  # the holiday closes the room
    assert hours.day_intervals(schedule, day + timedelta(days=7)) == [(540, 1200)]  # season
    assert hours.day_intervals(schedule, date(2026, 11, 5)) == SEED_WEEK[3]  # season over
    overridden = hours.Schedule(
        week=SEED_WEEK, seasons=[season], holidays={day: holiday}, exceptions={day: [(600, 720)]}
    )
    assert hours.day_intervals(overridden, day) == [(600, 720)]  # the room's own word wins


def test_a_make_up_working_day_opens_with_the_hours_of_the_weekday_it_stands_for() -> None:
    sunday = date(2026, 9, 27)
    schedule = hours.Schedule(
        week=SEED_WEEK, holidays={sunday: hours.Holiday(sunday, workday=True, follows_weekday=3)}
    )
    assert hours.day_intervals(schedule, sunday) == SEED_WEEK[3]
    assert hours.day_intervals(schedule, sunday + timedelta(days=7)) == []


def test_a_session_may_touch_the_bounds_but_not_cross_a_break_or_midnight() -> None:
    schedule = hours.Schedule(week=SEED_WEEK)
    tuesday = date(2026, 3, 3)
    assert hours.covers(schedule, local(tuesday, 8), local(tuesday, 11), ZONE)
    assert hours.covers(schedule, local(tuesday, 14), local(tuesday, 18), ZONE)
    assert not hours.covers(schedule, local(tuesday, 10), local(tuesday, 15), ZONE)
    assert not hours.covers(schedule, local(tuesday, 17), local(tuesday, 18, 1), ZONE)
    late = hours.Schedule(week={0: [(1200, 1440)], 1: [(0, 120)]})
    monday = date(2026, 3, 2)
    # 20:00-24:00 then 00:00-02:00: open without a break across the local midnight.
    assert hours.covers(late, local(monday, 22), local(monday, 22) + timedelta(hours=3), ZONE)
    assert hours.is_open(late, local(monday, 23, 59), ZONE)
    assert hours.next_change(late, local(monday, 21), ZONE) == local(tuesday, 2)


def test_the_local_day_boundary_is_the_zone_s_not_utc() -> None:
    schedule = hours.Schedule(week={1: [(0, 60)]})  # Tuesday 00:00-01:00 local
    utc_monday_evening = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)  # Tuesday 00:30 local
    assert hours.is_open(schedule, utc_monday_evening, ZONE)
    assert not hours.is_open(schedule, utc_monday_evening, ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("11:00", "08:00")], "before"),
        ([("08:00", "08:00")], "close after"),
        ([("08:00", "11:00"), ("10:00", "12:00")], "overlap"),
        ([("8", "11:00")], "HH:MM"),
        ([("08:00", "24:01")], "HH:MM"),
        ([("22:00", "02:00")], "past midnight"),
    ],
)
def test_bad_intervals_are_refused_with_a_clear_message(
    pairs: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(DomainError) as caught:
        hours.checked(pairs, field="days.1")
    assert message in caught.value.message
    assert caught.value.field == "days.1"


def test_touching_intervals_are_fine_and_a_day_may_end_at_24() -> None:
    assert hours.checked([("14:00", "24:00"), ("08:00", "14:00")], field="x") == [
        (480, 840),
        (840, 1440),
    ]


# --- rooms and their hours ---------------------------------------------------------------------


def seed_week() -> WeekIn:
    day = [IntervalIn("08:00", "11:00"), IntervalIn("14:00", "18:00")]
    return WeekIn(days=[[], day, [], day, [], day, []])


async def seed_room(org: Org, seats: int = 20, name: str = "甲镇职工书屋") -> int:
    with clock.frozen_at(NOW):
        room = await reading.create_room(
            org.organiser_a, RoomIn(name=name, seats=seats, address="人民路 3 号")
        )
        await reading.set_week(org.organiser_a, room.room.id, seed_week())
    return room.room.id


async def test_a_room_page_shows_open_or_closed_and_fourteen_days(org: Org) -> None:
    room_id = await seed_room(org)
    tuesday_morning = local(date(2026, 3, 3), 9)
    with clock.frozen_at(tuesday_morning):
        detail = await reading.room_detail(org.worker_a1, room_id)
    assert detail.room.open_now is True
    assert detail.room.next_change_at == local(date(2026, 3, 3), 11)
    assert len(detail.hours) == 14
    assert detail.hours[0].date == date(2026, 3, 3)
    assert [(i.opens, i.closes) for i in detail.hours[0].intervals] == [
        ("08:00", "11:00"),
        ("14:00", "18:00"),
    ]
    assert detail.hours[1].intervals == []
    assert detail.may_edit is False


async def test_only_the_room_s_organisers_change_it(org: Org) -> None:
    room_id = await seed_room(org)
    for actor in (org.organiser_b, org.worker_a1, org.staff_a):
        with pytest.raises(DomainError) as caught:
            await reading.set_week(actor, room_id, WeekIn(days=[[]] * 7))
        assert caught.value.code == "forbidden"
    assert await RoomHours.count() == 6


async def test_a_bad_week_writes_nothing(org: Org) -> None:
    room_id = await seed_room(org)
    bad = seed_week()
    bad.days[4] = [IntervalIn("09:00", "12:00"), IntervalIn("11:00", "13:00")]
    with pytest.raises(DomainError) as caught:
        await reading.set_week(org.organiser_a, room_id, bad)
    assert caught.value.field == "days.4"
    with pytest.raises(DomainError):
        await reading.set_week(org.organiser_a, room_id, WeekIn(days=[[]] * 6))
    assert await RoomHours.count() == 6  # the old week stands


async def test_overlapping_seasons_are_refused(org: Org) -> None:
    room_id = await seed_room(org)
    summer = [[IntervalIn("09:00", "21:00")]] * 7
    with clock.frozen_at(NOW):
        await reading.add_season(
            org.organiser_a,
            room_id,
            SeasonIn(starts_on=date(2026, 7, 1), ends_on=date(2026, 8, 31), days=summer),
        )
        with pytest.raises(DomainError) as caught:
            await reading.add_season(
                org.organiser_a,
                room_id,
                SeasonIn(starts_on=date(2026, 8, 31), ends_on=date(2026, 9, 30), days=summer),
            )
    assert "overlaps" in caught.value.message
    assert await RoomSeason.count() == 1
    # The season change: 30 June is the regular week, 1 July the summer week.
    with clock.frozen_at(local(date(2026, 6, 30), 20)):
        detail = await reading.room_detail(org.worker_a1, room_id)
    assert detail.room.open_now is False
    assert [(i.opens, i.closes) for i in detail.hours[0].intervals] == [  # Tuesday: seed week
        ("08:00", "11:00"),
        ("14:00", "18:00"),
    ]
    assert [(i.opens, i.closes) for i in detail.hours[1].intervals] == [("09:00", "21:00")]


async def test_exceptions_in_the_past_are_refused(org: Org) -> None:
    room_id = await seed_room(org)
    with clock.frozen_at(NOW), pytest.raises(DomainError) as caught:
        await reading.add_exception(
            org.organiser_a, room_id, ExceptionIn(starts_on=date(2026, 3, 1))
        )
    assert caught.value.field == "starts_on"


async def test_open_filters_now_evening_weekend(org: Org) -> None:
    seed = await seed_room(org, name="甲 书屋 seed")
    with clock.frozen_at(NOW):
        evening = await reading.create_room(org.organiser_a, RoomIn(name="乙 夜读", seats=10))
        await reading.set_week(
            org.organiser_a,
            evening.room.id,
            WeekIn(days=[[IntervalIn("19:00", "22:00")]] * 5 + [[], []]),
        )
        await reading.create_room(org.organiser_a, RoomIn(name="丙 未定", seats=5))
    tuesday_morning = local(date(2026, 3, 3), 9)
    with clock.frozen_at(tuesday_morning):
        now = [room.id for room in await reading.list_rooms(org.worker_a1, "now")]
        tonight = [room.id for room in await reading.list_rooms(org.worker_a1, "evening")]
        weekend = [room.id for room in await reading.list_rooms(org.worker_a1, "weekend")]
        everything = await reading.list_rooms(org.worker_a1)
    assert now == [seed]
    assert tonight == [evening.room.id]
    assert weekend == [seed]
    assert len(everything) == 3
    with pytest.raises(DomainError):
        await reading.list_rooms(org.worker_a1, "midnight")


# --- the holiday table --------------------------------------------------------------------------

HOLIDAYS = (
    "date,kind,name,follows_weekday\n"
    "2026-10-01,holiday,国庆节\n"
    "2026-10-03,holiday,国庆节\n"
    "2026-09-27,workday,国庆调休,3\n"
)


async def test_the_holiday_table_closes_every_room_and_a_make_up_day_opens_it(org: Org) -> None:
    room_id = await seed_room(org)
    result = await reading.import_holidays(org.admin, HOLIDAYS)
    assert (result.imported, result.years) == (3, [2026])
    with clock.frozen_at(local(date(2026, 9, 26), 9)):
        detail = await reading.room_detail(org.worker_a1, room_id)
    by_day = {d.date: [(i.opens, i.closes) for i in d.intervals] for d in detail.hours}
    assert by_day[date(2026, 9, 27)] == [("08:00", "11:00"), ("14:00", "18:00")]  # 调休 Sunday
    assert by_day[date(2026, 10, 1)] == []  # Thursday, but a holiday
    assert by_day[date(2026, 10, 3)] == []  # Saturday, but a holiday
    # A room's own exception overrides the holiday table on that date.
    with clock.frozen_at(local(date(2026, 9, 26), 9)):
        await reading.add_exception(
            org.organiser_a,
            room_id,
            ExceptionIn(starts_on=date(2026, 10, 1), intervals=[IntervalIn("09:00", "12:00")]),
        )
        detail = await reading.room_detail(org.worker_a1, room_id)
    by_day = {d.date: [(i.opens, i.closes) for i in d.intervals] for d in detail.hours}
    assert by_day[date(2026, 10, 1)] == [("09:00", "12:00")]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("2026-10-01,holiday,国庆节\n2026-13-01,holiday,x\n", 2),
        ("date,kind,name\n2026-10-01,holiday,a\n2026-10-02,party,b\n", 3),
        ("2026-10-01,holiday,a\n2026-10-01,workday,b\n", 2),
        ("2026-10-01,workday,a,9\n", 1),
    ],
)
async def test_a_bad_holiday_row_is_reported_by_line_and_nothing_is_imported(
    org: Org, text: str, line: int
) -> None:
    await reading.import_holidays(org.admin, "2026-05-01,holiday,劳动节\n")
    with pytest.raises(DomainError) as caught:
        await reading.import_holidays(org.admin, text)
    assert caught.value.params["line"] == line
    assert [h.date for h in await reading.list_holidays()] == [date(2026, 5, 1)]


async def test_only_an_admin_keeps_the_holiday_table(org: Org) -> None:
    with pytest.raises(DomainError) as caught:
        await reading.import_holidays(org.organiser_a, HOLIDAYS)
    assert caught.value.code == "forbidden"
    assert await Holiday.count() == 0


# --- sessions in a room ---------------------------------------------------------------------


def session(room_id: int, start: datetime, end: datetime, **overrides: Any) -> ActivityIn:
    values: dict[str, Any] = {
        "kind": "reading_session",
        "title": "《平凡的世界》分享会",
        "starts_at": start,
        "ends_at": end,
        "capacity": 15,
        "details": {
            "room_id": room_id,
            "facilitator": "李老师",
            "books": [{"title": "平凡的世界", "author": "路遥", "isbn": "978-7-5302-1581-5"}],
        },
    }
    values.update(overrides)
    return ActivityIn(**values)


async def test_a_session_inside_the_hours_is_created_with_its_books(org: Org) -> None:
    room_id = await seed_room(org)
    tuesday = date(2026, 3, 3)
    with clock.frozen_at(NOW):
        created = await activities.create_activity(
            org.organiser_a, session(room_id, local(tuesday, 8), local(tuesday, 11))
        )
    assert created.details is not None
    assert created.details["room_name"] == "甲镇职工书屋"
    assert created.details["books"] == [
        {"title": "平凡的世界", "author": "路遥", "isbn": "9787530215815", "note": ""}
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [((10, 0), (14, 30)), ((7, 30), (9, 0)), ((17, 0), (18, 30)), ((11, 0), (14, 0))],
)
async def test_a_session_outside_the_hours_is_refused_with_the_allowed_intervals(
    org: Org, start: tuple[int, int], end: tuple[int, int]
) -> None:
    room_id = await seed_room(org)
    tuesday = date(2026, 3, 3)
    with clock.frozen_at(NOW), pytest.raises(DomainError) as caught:
        await activities.create_activity(
            org.organiser_a,
            session(room_id, local(tuesday, *start), local(tuesday, *end)),
        )
    assert caught.value.code == "outside_opening_hours"
    assert caught.value.extra["allowed"] == [
        {"opens": "08:00", "closes": "11:00"},
        {"opens": "14:00", "closes": "18:00"},
    ]
    assert await Activity.count() == 0


async def test_a_session_above_the_room_s_seats_is_refused(org: Org) -> None:
    room_id = await seed_room(org, seats=10)
    tuesday = date(2026, 3, 3)
    with clock.frozen_at(NOW), pytest.raises(DomainError) as caught:
        await activities.create_activity(
            org.organiser_a, session(room_id, local(tuesday, 8), local(tuesday, 10), capacity=11)
        )
    assert (caught.value.code, caught.value.field) == ("above_room_seats", "capacity")


async def test_raising_a_session_s_places_above_the_room_s_seats_is_refused(org: Org) -> None:
    room_id = await seed_room(org, seats=10)
    tuesday = date(2026, 3, 3)
    with clock.frozen_at(NOW):
        created = await activities.create_activity(
            org.organiser_a, session(room_id, local(tuesday, 8), local(tuesday, 10), capacity=8)
        )
        with pytest.raises(DomainError) as caught:
            await activities.set_capacity(org.organiser_a, created.id, 11)
        assert (caught.value.code, caught.value.field) == ("above_room_seats", "capacity")
        assert (await activities.get_activity(org.organiser_a, created.id)).capacity == 8
        # Up to the seats is fine (the control: the same call does write).
        raised = await activities.set_capacity(org.organiser_a, created.id, 10)
    assert raised.capacity == 10


async def test_moving_a_session_is_checked_with_its_stored_room_and_a_closure_lists_it(
    org: Org,
) -> None:
    room_id = await seed_room(org)
    tuesday = date(2026, 3, 3)
    with clock.frozen_at(NOW):
        created = await activities.create_activity(
            org.organiser_a, session(room_id, local(tuesday, 14), local(tuesday, 16))
        )
        await activities.publish(org.organiser_a, created.id)
        with pytest.raises(DomainError) as caught:
            await activities.update_activity(
                org.organiser_a,
                created.id,
                session(room_id, local(tuesday, 18), local(tuesday, 19), details=None),
            )
        assert caught.value.code == "outside_opening_hours"
        # A closure over the session: the organiser is shown it, to move or cancel.
        result = await reading.add_exception(
            org.organiser_a, room_id, ExceptionIn(starts_on=tuesday, note="消防检查")
        )
        assert [s.activity_id for s in result.affected_sessions] == [created.id]
        assert result.exceptions[0].closed is True
        # Duplicating it copies the room, and checks the copy against the closure.
        with pytest.raises(DomainError) as caught:
            await activities.duplicate(org.organiser_a, created.id)
        assert caught.value.code == "outside_opening_hours"


@pytest.mark.parametrize(
    "details",
    [
        {"room_id": 99999},
        {"room_id": "abc"},
        {"room_id": 1, "books": [{"title": ""}]},
        {"room_id": 1, "books": [{"title": "x", "isbn": "12345"}]},
        {"room_id": 1, "books": [{"title": "x"}] * 31},
        {"room_id": 1, "colour": "red"},
    ],
)
async def test_bad_session_details_are_refused(org: Org, details: dict[str, Any]) -> None:
    room_id = await seed_room(org)
    details = {**details, "room_id": room_id} if details.get("room_id") == 1 else details
    tuesday = date(2026, 3, 3)
    with clock.frozen_at(NOW), pytest.raises(DomainError) as caught:
        await activities.create_activity(
            org.organiser_a,
            session(room_id, local(tuesday, 8), local(tuesday, 9), details=details),
        )
    assert str(caught.value.field).startswith("details")
    assert await Activity.count() == 0


# --- study plans, notes, demand -------------------------------------------------------------


async def plan_of_four(org: Org, room_id: int, capacity: int = 15) -> tuple[int, list[int]]:
    ids = []
    with clock.frozen_at(NOW):
        for week in range(4):
            tuesday = date(2026, 3, 3) + timedelta(days=7 * week)
            created = await activities.create_activity(
                org.organiser_a,
                session(
                    room_id,
                    local(tuesday, 14),
                    local(tuesday, 16),
                    title=f"书香三八 第{week + 1}讲",
                    capacity=capacity if week != 2 else 1,
                ),
            )
            await activities.publish(org.organiser_a, created.id)
            ids.append(created.id)
        plan = await reading.create_plan(
            org.organiser_a, PlanIn(name="书香三八", activity_ids=list(reversed(ids)))
        )
    return plan.id, ids


async def test_joining_a_plan_registers_each_session_and_reports_partial_success(
    org: Org,
) -> None:
    room_id = await seed_room(org)
    plan_id, ids = await plan_of_four(org, room_id)
    other = await add_member("13700000009", "职工九", "ent-a1", ["worker"])
    with clock.frozen_at(NOW):
        await activities.register(other, ids[2])  # takes the only place of session 3
        await activities.cancel(org.organiser_a, ids[3], "讲师有事")
        joined = await reading.join_plan(org.worker_a1, plan_id)
        again = await reading.join_plan(org.worker_a1, plan_id)
        plan = await reading.get_plan(org.worker_a1, plan_id)
    assert [r.activity_id for r in joined.results] == ids  # in the series' order
    assert [r.outcome for r in joined.results] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "refused",
    ]
    assert joined.results[3].code == "activity_cancelled"
    assert (joined.joined, joined.refused) == (3, 1)
    assert [r.outcome for r in again.results][:3] == ["confirmed", "confirmed", "waitlisted"]
    assert plan.joined == 3
    assert plan.attended == 0


async def test_only_members_who_came_post_notes_and_organisers_approve_them(org: Org) -> None:
    room_id = await seed_room(org)
    _, ids = await plan_of_four(org, room_id)
    with clock.frozen_at(NOW):
        registration, _ = await activities.register(org.worker_a1, ids[0])
    with pytest.raises(DomainError) as caught:
        await reading.post_note(org.worker_a1, ids[0], "读后感")
    assert (caught.value.code, caught.value.status_code) == ("not_attended", 403)
    assert await ReadingNote.count() == 0

    with clock.frozen_at(local(date(2026, 3, 3), 14, 5)):
        await checkin.admit_registration(org.organiser_a, ids[0], registration.id)
    with pytest.raises(DomainError) as caught:
        await reading.post_note(org.worker_a1, ids[0], "x" * 1001)
    assert caught.value.field == "body"
    note = await reading.post_note(
        org.worker_a1, ids[0], "<script>alert(1)</script> 孙少平的坚持", page="第三章"
    )
    assert note.status == "pending"
    other = await add_member("13700000008", "职工八", "ent-a1", ["worker"])
    assert await reading.notes(other, ids[0]) == []  # not shown before approval
    with pytest.raises(DomainError):
        await reading.decide_note(org.organiser_b, note.id, True)
    await reading.decide_note(org.organiser_a, note.id, True)
    shown = await reading.notes(other, ids[0])
    assert [n.body for n in shown] == ["<script>alert(1)</script> 孙少平的坚持"]  # kept as text


async def test_demand_grid_counts_workers_for_the_organiser_only(org: Org) -> None:
    room_id = await seed_room(org)
    mine = await reading.set_demand(org.worker_a1, room_id, ["0:evening", "5:morning"])
    assert mine.mine == ["0:evening", "5:morning"]
    assert mine.workers == 0  # a worker sees their own marks, not the counts
    await reading.set_demand(org.worker_a1, room_id, ["0:evening"])  # replaces
    for bad in (["7:evening"], ["0:teatime"], ["x"]):
        with pytest.raises(DomainError):
            await reading.set_demand(org.worker_a1, room_id, bad)
    grid = await reading.demand(org.organiser_a, room_id)
    assert grid.workers == 1
    assert grid.grid[0] == [0, 0, 1, 0]
    assert sum(map(sum, grid.grid)) == 1


async def test_the_open_now_list_follows_every_change_of_hours(org: Org) -> None:
    """The list keeps each room's worked-out intervals between changes: a new week, an
    exception, a holiday import and a new room each show at once."""
    room_id = await seed_room(org)
    tuesday_morning = local(date(2026, 3, 3), 9)
    with clock.frozen_at(tuesday_morning):
        assert [r.id for r in await reading.list_rooms(org.worker_a1, "now")] == [room_id]
        await reading.add_exception(
            org.organiser_a, room_id, ExceptionIn(starts_on=date(2026, 3, 3))
        )
        assert await reading.list_rooms(org.worker_a1, "now") == []
        await reading.delete_exception(
            org.organiser_a,
            room_id,
            (await reading.room_detail(org.admin, room_id)).exceptions[0].id,
        )
        assert len(await reading.list_rooms(org.worker_a1, "now")) == 1
        await reading.import_holidays(org.admin, "2026-03-03,holiday,演示假日\n")
        assert await reading.list_rooms(org.worker_a1, "now") == []
        await reading.set_week(org.organiser_a, room_id, WeekIn(days=[[]] * 7))
        await reading.create_room(org.organiser_a, RoomIn(name="新书屋", seats=5))
        listed = await reading.list_rooms(org.worker_a1)
    assert len(listed) == 2
    assert not any(r.open_now for r in listed)


def test_the_nearest_rooms_come_first() -> None:
    from service.orgs.schemas import Actor

    actor = Actor(member_id=1, node_id=9, node_path="/1/4/9/", roles=frozenset({"worker"}))
    paths = ["/2/", "/1/", "/1/4/12/", "/1/4/9/", "/1/40/"]
    ordered = sorted(paths, key=lambda path: -orgs.tree_nearness(actor, path))
    assert ordered == ["/1/4/9/", "/1/4/12/", "/1/", "/1/40/", "/2/"]
