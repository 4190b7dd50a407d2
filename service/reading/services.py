"""Reading rooms: their hours (the rule itself is in hours.py), the holiday table, the
"open now" list, the check that a session fits its room, study plans, notes and demand.

Plain async functions, no HTTP. Rooms are public to every signed-in member; organisers
edit the rooms of their subtree; the holiday table is the admin's.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.db import lock_key, write_transaction
from service.errors import DomainError, Forbidden, NotFound
from service.orgs import services as orgs
from service.orgs.schemas import Actor
from service.reading import hours
from service.reading.schemas import (
    OPEN_FILTERS,
    PARTS_OF_DAY,
    AffectedSession,
    DayHours,
    DemandOut,
    ExceptionIn,
    ExceptionOut,
    ExceptionsOut,
    HolidayImportOut,
    HolidayOut,
    IntervalIn,
    IntervalOut,
    JoinOut,
    JoinResult,
    MonthRow,
    NoteOut,
    PlanIn,
    PlanOut,
    PlanReport,
    PlanSessionOut,
    PlanSessionRow,
    Registrant,
    RoomDetailOut,
    RoomIn,
    RoomMonthHours,
    RoomOut,
    RoomReport,
    SeasonIn,
    SeasonOut,
    WeekIn,
)
from service.reading.tables import (
    Demand,
    Holiday,
    PlanSession,
    ReadingChange,
    ReadingNote,
    ReadingRoom,
    RoomException,
    RoomExceptionInterval,
    RoomHours,
    RoomSeason,
    SessionDetails,
    StudyPlan,
)
from service.settings import get_settings
from service.text import plain_text

NAME_MAX = 100
MAX_SEATS = 10_000
HOURS_AHEAD = 14  # days shown on a room's page
MAX_EXCEPTION_DAYS = 366
MAX_SEASON_DAYS = 366
MAX_HOLIDAY_ROWS = 400
NOTE_MAX = 1000
MAX_ID = 2**31 - 1  # ids are 32-bit serials: a larger number names nothing
# Sessions are checked against hours between these years (the date arithmetic of the
# hours rule stays far from date.min and date.max).
YEARS = (2000, 2100)
PLAN_MAX_SESSIONS = 30
# "Open this evening": open at some time between these local minutes today.
EVENING = (18 * 60, 22 * 60)
# Parts of the day a worker may mark, as local minute ranges (for the grid beside hours).
PART_MINUTES: dict[str, tuple[int, int]] = {
    "morning": (6 * 60, 11 * 60),
    "midday": (11 * 60, 14 * 60),
    "evening": (17 * 60, 21 * 60),
    "night": (21 * 60, 24 * 60),
}


def _zone() -> Any:
    return get_settings().zone


def _today() -> date:
    return clock.now().astimezone(_zone()).date()


async def _changed() -> None:
    """Marks the rooms' hours as changed (inside the caller's write transaction): every
    process rebuilds its "open now" intervals on its next list."""
    token = secrets.token_hex(16)
    updated = (
        await ReadingChange.update({ReadingChange.token: token})
        .where(ReadingChange.id == 1)
        .returning(ReadingChange.id)
    )
    if not updated:
        await ReadingChange.insert(ReadingChange(id=1, token=token))


def _hours_lock(room_id: int) -> str:
    return f"reading-room-hours:{room_id}"


# The holiday table applies to every room: its import and every session check lock this.
HOLIDAYS_LOCK = "reading-holidays"


async def _lock_hours(room_id: int) -> None:
    """Inside a write transaction, before reading or writing a room's hours: a session's
    check (inside the core's write transaction) and a change of the hours take turns, so
    no change slips between the check and the session's write (PostgreSQL; SQLite's
    writes are serialised already)."""
    await lock_key(_hours_lock(room_id))


async def _change_token() -> str:
    rows = await ReadingChange.select(ReadingChange.token).where(ReadingChange.id == 1)
    return str(rows[0]["token"]) if rows else ""


def _may_edit(actor: Actor, node_path: str) -> bool:
    return actor.has("organiser", "admin") and actor.reaches(node_path)


def _interval_out(interval: hours.Interval) -> IntervalOut:
    return IntervalOut(
        opens=hours.format_minute(interval[0]), closes=hours.format_minute(interval[1])
    )


def _checked_days(
    days: Sequence[Sequence[IntervalIn]], *, field: str
) -> list[list[hours.Interval]]:
    if len(days) != hours.WEEKDAYS:
        raise DomainError(
            "validation_error", "Give the hours of all seven days, Monday first.", field=field
        )
    return [
        hours.checked([(i.opens, i.closes) for i in day], field=f"{field}.{weekday}")
        for weekday, day in enumerate(days)
    ]


# --- schedules: the rows hours.py needs, for one room or many -----------------------------


async def schedules(
    room_ids: Sequence[int] | None, first: date, last: date
) -> dict[int, hours.Schedule]:
    """Each room's schedule for the dates first..last (exceptions and holidays outside them
    are not read). Four reads whatever the number of rooms."""
    hours_query = RoomHours.select(
        RoomHours.room, RoomHours.season, RoomHours.weekday, RoomHours.opens, RoomHours.closes
    )
    season_query = RoomSeason.select(
        RoomSeason.id, RoomSeason.room, RoomSeason.starts_on, RoomSeason.ends_on
    ).where((RoomSeason.starts_on <= last) & (RoomSeason.ends_on >= first))
    exception_query = RoomException.select(
        RoomException.id, RoomException.room, RoomException.day
    ).where((RoomException.day >= first) & (RoomException.day <= last))
    if room_ids is not None:
        ids = list(room_ids) or [0]
        hours_query = hours_query.where(RoomHours.room.is_in(ids))
        season_query = season_query.where(RoomSeason.room.is_in(ids))
        exception_query = exception_query.where(RoomException.room.is_in(ids))
    hour_rows = await hours_query
    season_rows = await season_query
    exception_rows = await exception_query
    interval_rows = (
        await RoomExceptionInterval.select(
            RoomExceptionInterval.exception,
            RoomExceptionInterval.opens,
            RoomExceptionInterval.closes,
        ).where(RoomExceptionInterval.exception.is_in([row["id"] for row in exception_rows]))
        if exception_rows
        else []
    )
    holiday_map = await _holidays(first, last)

    weeks: dict[tuple[int, int | None], dict[int, list[hours.Interval]]] = {}
    for row in hour_rows:
        week = weeks.setdefault((row["room"], row["season"]), {})
        week.setdefault(row["weekday"], []).append((row["opens"], row["closes"]))
    seasons: dict[int, list[hours.Season]] = {}
    for row in season_rows:
        seasons.setdefault(row["room"], []).append(
            hours.Season(
                starts_on=_as_date(row["starts_on"]),
                ends_on=_as_date(row["ends_on"]),
                week=weeks.get((row["room"], row["id"]), {}),
            )
        )
    special: dict[int, list[hours.Interval]] = {}
    for row in interval_rows:
        special.setdefault(row["exception"], []).append((row["opens"], row["closes"]))
    exceptions: dict[int, dict[date, list[hours.Interval]]] = {}
    for row in exception_rows:
        exceptions.setdefault(row["room"], {})[_as_date(row["day"])] = special.get(row["id"], [])

    if room_ids is None:
        room_ids = [row["id"] for row in await ReadingRoom.select(ReadingRoom.id)]
    return {
        room_id: hours.Schedule(
            week=weeks.get((room_id, None), {}),
            seasons=seasons.get(room_id, []),
            exceptions=exceptions.get(room_id, {}),
            holidays=holiday_map,
        )
        for room_id in room_ids
    }


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


async def _holidays(first: date, last: date) -> dict[date, hours.Holiday]:
    rows = await Holiday.select().where((Holiday.day >= first) & (Holiday.day <= last))
    return {
        _as_date(row["day"]): hours.Holiday(
            day=_as_date(row["day"]),
            workday=bool(row["workday"]),
            follows_weekday=row["follows_weekday"],
        )
        for row in rows
    }


# --- rooms --------------------------------------------------------------------------------


def _clean_room(data: RoomIn) -> dict[str, Any]:
    name = plain_text(data.name, field="name", limit=NAME_MAX)
    if not name:
        raise DomainError("validation_error", "Give the room a name.", field="name")
    if not 1 <= data.seats <= MAX_SEATS:
        raise DomainError(
            "validation_error",
            "The number of seats must be between 1 and %(limit)s.",
            field="seats",
            limit=MAX_SEATS,
        )
    for column, value in (("computers", data.computers), ("books", data.books)):
        if not 0 <= value <= 10_000_000:
            raise DomainError("validation_error", "Enter a number of 0 or more.", field=column)
    return {
        "name": name,
        "address": plain_text(data.address, field="address", limit=300),
        "seats": data.seats,
        "computers": data.computers,
        "network": bool(data.network),
        "books": data.books,
    }


async def _room_row(room_id: int) -> dict[str, Any]:
    rows = await ReadingRoom.select(
        ReadingRoom.all_columns(),
        ReadingRoom.node.code.as_alias("node_code"),
        ReadingRoom.node.name.as_alias("node_name"),
        ReadingRoom.node.path.as_alias("node_path"),
    ).where(ReadingRoom.id == room_id)
    if not rows:
        raise NotFound("There is no such reading room.")
    return rows[0]


async def _editable_room(actor: Actor, room_id: int) -> dict[str, Any]:
    row = await _room_row(room_id)
    if not _may_edit(actor, row["node_path"]):
        raise Forbidden("Only the room's organisers can change it.")
    return row


async def create_room(actor: Actor, data: RoomIn) -> RoomDetailOut:
    if not actor.has("organiser", "admin"):
        raise Forbidden()
    values = _clean_room(data)
    node = await orgs.node_by_code(data.node) if data.node else None
    if node is not None and not actor.reaches(node.path):
        raise Forbidden("You can only add rooms to your own organisations.")
    node_id = node.id if node else actor.node_id
    if node_id is None:
        node_id = (await orgs.root_node()).id
    async with write_transaction():
        inserted = await ReadingRoom.insert(ReadingRoom(**values, node=node_id)).returning(
            ReadingRoom.id
        )
        await _changed()
    return await room_detail(actor, inserted[0]["id"])


async def update_room(actor: Actor, room_id: int, data: RoomIn) -> RoomDetailOut:
    await _editable_room(actor, room_id)
    values = _clean_room(data)
    async with write_transaction():
        await _lock_hours(room_id)
        await ReadingRoom.update(values).where(ReadingRoom.id == room_id)
        await _changed()
    return await room_detail(actor, room_id)


async def set_week(actor: Actor, room_id: int, data: WeekIn) -> RoomDetailOut:
    await _editable_room(actor, room_id)
    week = _checked_days(data.days, field="days")
    async with write_transaction():
        await _lock_hours(room_id)
        await RoomHours.delete().where((RoomHours.room == room_id) & RoomHours.season.is_null())
        await _insert_week(room_id, None, week)
        await _changed()
    return await room_detail(actor, room_id)


async def _insert_week(
    room_id: int, season_id: int | None, week: list[list[hours.Interval]]
) -> None:
    rows = [
        RoomHours(room=room_id, season=season_id, weekday=weekday, opens=opens, closes=closes)
        for weekday, intervals in enumerate(week)
        for opens, closes in intervals
    ]
    if rows:
        await RoomHours.insert(*rows)


def _checked_season(data: SeasonIn) -> tuple[list[list[hours.Interval]], str]:
    """A season's week and name, or the first thing wrong with it (adding and editing)."""
    if data.ends_on < data.starts_on:
        raise DomainError(
            "validation_error", "The season must end on or after its first day.", field="ends_on"
        )
    if (data.ends_on - data.starts_on).days >= MAX_SEASON_DAYS:
        raise DomainError("validation_error", "A season lasts at most a year.", field="ends_on")
    week = _checked_days(data.days, field="days")
    return week, plain_text(data.name, field="name", limit=60)


async def _refuse_overlap(room_id: int, data: SeasonIn, season_id: int | None = None) -> None:
    """Seasons of a room never overlap (an edited season may keep its own dates). Called
    with the room's hours locked."""
    where = (
        (RoomSeason.room == room_id)
        & (RoomSeason.starts_on <= data.ends_on)
        & (RoomSeason.ends_on >= data.starts_on)
    )
    if season_id is not None:
        where = where & (RoomSeason.id != season_id)
    if await RoomSeason.count().where(where):
        raise DomainError(
            "validation_error",
            "This season overlaps another season of the room.",
            field="starts_on",
        )


async def add_season(actor: Actor, room_id: int, data: SeasonIn) -> RoomDetailOut:
    await _editable_room(actor, room_id)
    week, name = _checked_season(data)
    async with write_transaction():
        await _lock_hours(room_id)
        await _refuse_overlap(room_id, data)
        inserted = await RoomSeason.insert(
            RoomSeason(room=room_id, name=name, starts_on=data.starts_on, ends_on=data.ends_on)
        ).returning(RoomSeason.id)
        await _insert_week(room_id, inserted[0]["id"], week)
        await _changed()
    return await room_detail(actor, room_id)


async def update_season(
    actor: Actor, room_id: int, season_id: int, data: SeasonIn
) -> RoomDetailOut:
    """A season's name, dates and week replaced, checked as a new one is."""
    await _editable_room(actor, room_id)
    week, name = _checked_season(data)
    if season_id > MAX_ID:
        raise NotFound("This room has no such season.")
    async with write_transaction():
        await _lock_hours(room_id)
        found = await RoomSeason.count().where(
            (RoomSeason.id == season_id) & (RoomSeason.room == room_id)
        )
        if not found:
            raise NotFound("This room has no such season.")
        await _refuse_overlap(room_id, data, season_id)
        await RoomSeason.update(
            {
                RoomSeason.name: name,
                RoomSeason.starts_on: data.starts_on,
                RoomSeason.ends_on: data.ends_on,
            }
        ).where(RoomSeason.id == season_id)
        await RoomHours.delete().where(RoomHours.season == season_id)
        await _insert_week(room_id, season_id, week)
        await _changed()
    return await room_detail(actor, room_id)


async def delete_season(actor: Actor, room_id: int, season_id: int) -> RoomDetailOut:
    await _editable_room(actor, room_id)
    async with write_transaction():
        await _lock_hours(room_id)
        await RoomSeason.delete().where((RoomSeason.id == season_id) & (RoomSeason.room == room_id))
        await _changed()
    return await room_detail(actor, room_id)


def _checked_exception(data: ExceptionIn) -> tuple[date, date, list[hours.Interval], str]:
    """An exception's first and last day, special hours and note, or the first thing wrong
    with them (adding and editing)."""
    first = data.starts_on
    last = data.ends_on or data.starts_on
    if first < _today():
        raise DomainError(
            "validation_error", "An exception cannot start in the past.", field="starts_on"
        )
    if last < first:
        raise DomainError(
            "validation_error", "The last day must be on or after the first.", field="ends_on"
        )
    if (last - first).days >= MAX_EXCEPTION_DAYS:
        raise DomainError("validation_error", "An exception lasts at most a year.", field="ends_on")
    intervals = hours.checked([(i.opens, i.closes) for i in data.intervals], field="intervals")
    return first, last, intervals, plain_text(data.note, field="note", limit=200)


async def _write_exception_days(
    room_id: int,
    first: date,
    last: date,
    intervals: list[hours.Interval],
    note: str,
    *,
    kept_id: int | None = None,
) -> None:
    """One exception a day from first to last, replacing those already on these days.
    An edited exception (`kept_id`) keeps its id and becomes the first day. Called with
    the room's hours locked."""
    on_these_days = (
        (RoomException.room == room_id) & (RoomException.day >= first) & (RoomException.day <= last)
    )
    day = first
    if kept_id is not None:
        await RoomException.delete().where(on_these_days & (RoomException.id != kept_id))
        await RoomException.update({RoomException.day: first, RoomException.note: note}).where(
            RoomException.id == kept_id
        )
        await RoomExceptionInterval.delete().where(RoomExceptionInterval.exception == kept_id)
        if intervals:
            await RoomExceptionInterval.insert(
                *[RoomExceptionInterval(exception=kept_id, opens=o, closes=c) for o, c in intervals]
            )
        day += timedelta(days=1)
    else:
        await RoomException.delete().where(on_these_days)
    while day <= last:
        inserted = await RoomException.insert(
            RoomException(room=room_id, day=day, note=note)
        ).returning(RoomException.id)
        if intervals:
            await RoomExceptionInterval.insert(
                *[
                    RoomExceptionInterval(exception=inserted[0]["id"], opens=o, closes=c)
                    for o, c in intervals
                ]
            )
        day += timedelta(days=1)


async def add_exception(actor: Actor, room_id: int, data: ExceptionIn) -> ExceptionsOut:
    """Closed (no intervals) or special hours on each date of a range. A date that already
    has an exception gets the new one instead. Returns the room's exceptions and the
    sessions they now leave outside its hours, for the organiser to move or cancel."""
    await _editable_room(actor, room_id)
    first, last, intervals, note = _checked_exception(data)
    async with write_transaction():
        await _lock_hours(room_id)
        await _write_exception_days(room_id, first, last, intervals, note)
        await _changed()
    return ExceptionsOut(
        exceptions=await _exceptions(room_id),
        affected_sessions=await sessions_outside_hours(room_id, first, last, actor=actor),
    )


async def update_exception(
    actor: Actor, room_id: int, exception_id: int, data: ExceptionIn
) -> ExceptionsOut:
    """One day's exception replaced by what `data` says (its day may move, or grow into a
    range; it keeps its id as the first day), checked as a new one is. A day already past
    stays as it was. Returns, as adding does, the sessions now outside the hours, over the
    old day and the new ones."""
    await _editable_room(actor, room_id)
    first, last, intervals, note = _checked_exception(data)
    if exception_id > MAX_ID:
        raise NotFound("This room has no such closed day or special hours.")
    async with write_transaction():
        await _lock_hours(room_id)
        found = await RoomException.select(RoomException.day).where(
            (RoomException.id == exception_id) & (RoomException.room == room_id)
        )
        if not found:
            raise NotFound("This room has no such closed day or special hours.")
        old_day = _as_date(found[0]["day"])
        if old_day < _today():
            raise DomainError(
                "validation_error", "A day already past cannot be changed.", field="starts_on"
            )
        await _write_exception_days(room_id, first, last, intervals, note, kept_id=exception_id)
        await _changed()
    return ExceptionsOut(
        exceptions=await _exceptions(room_id),
        affected_sessions=await sessions_outside_hours(
            room_id, min(first, old_day), max(last, old_day), actor=actor
        ),
    )


async def delete_exception(actor: Actor, room_id: int, exception_id: int) -> RoomDetailOut:
    await _editable_room(actor, room_id)
    async with write_transaction():
        await _lock_hours(room_id)
        await RoomException.delete().where(
            (RoomException.id == exception_id) & (RoomException.room == room_id)
        )
        await _changed()
    return await room_detail(actor, room_id)


async def _exceptions(room_id: int) -> list[ExceptionOut]:
    rows = (
        await RoomException.select()
        .where((RoomException.room == room_id) & (RoomException.day >= _today()))
        .order_by(RoomException.day)
        .limit(400)
    )
    special: dict[int, list[hours.Interval]] = {}
    if rows:
        for row in await RoomExceptionInterval.select().where(
            RoomExceptionInterval.exception.is_in([row["id"] for row in rows])
        ):
            special.setdefault(row["exception"], []).append((row["opens"], row["closes"]))
    return [
        ExceptionOut(
            id=row["id"],
            date=_as_date(row["day"]),
            closed=not special.get(row["id"]),
            intervals=[_interval_out(i) for i in sorted(special.get(row["id"], []))],
            note=row["note"],
        )
        for row in rows
    ]


def _room_out(row: dict[str, Any], schedule: hours.Schedule, now: datetime) -> RoomOut:
    zone = _zone()
    # An instant, in UTC like every other time the API answers.
    change = hours.next_change(schedule, now, zone, HOURS_AHEAD)
    return RoomOut(
        id=row["id"],
        name=row["name"],
        node_code=row["node_code"],
        node_name=row["node_name"],
        address=row["address"],
        seats=row["seats"],
        computers=row["computers"],
        network=bool(row["network"]),
        books=row["books"],
        open_now=hours.is_open(schedule, now, zone),
        next_change_at=change.astimezone(UTC) if change else None,
    )


async def room_detail(actor: Actor, room_id: int) -> RoomDetailOut:
    row = await _room_row(room_id)
    now = clock.now()
    today = _today()
    last = today + timedelta(days=HOURS_AHEAD)
    schedule = (await schedules([room_id], today - timedelta(days=1), last + timedelta(days=1)))[
        room_id
    ]
    week_rows = await RoomHours.select().where(RoomHours.room == room_id)
    season_rows = (
        await RoomSeason.select()
        .where((RoomSeason.room == room_id) & (RoomSeason.ends_on >= today))
        .order_by(RoomSeason.starts_on)
    )
    by_season: dict[int | None, list[list[hours.Interval]]] = {}
    for hour in week_rows:
        days = by_season.setdefault(hour["season"], [[] for _ in range(hours.WEEKDAYS)])
        days[hour["weekday"]].append((hour["opens"], hour["closes"]))

    def week_out(season_id: int | None) -> list[list[IntervalOut]]:
        days = by_season.get(season_id, [[] for _ in range(hours.WEEKDAYS)])
        return [[_interval_out(i) for i in sorted(day)] for day in days]

    return RoomDetailOut(
        room=_room_out(row, schedule, now),
        week=week_out(None),
        seasons=[
            SeasonOut(
                id=season["id"],
                name=season["name"],
                starts_on=_as_date(season["starts_on"]),
                ends_on=_as_date(season["ends_on"]),
                days=week_out(season["id"]),
            )
            for season in season_rows
        ],
        exceptions=await _exceptions(room_id),
        hours=[
            DayHours(date=day, intervals=[_interval_out(i) for i in intervals])
            for day, intervals in hours.days(
                schedule, today, today + timedelta(days=HOURS_AHEAD - 1)
            )
        ],
        may_edit=_may_edit(actor, row["node_path"]),
    )


def matches(schedule: hours.Schedule, open_filter: str | None, now: datetime, today: date) -> bool:
    """Whether a room passes the list's filter: open now, open this evening (at some
    time between 18:00 and 22:00 today), open at the weekend (the coming Saturday or
    Sunday, today included)."""
    zone = _zone()
    if open_filter is None:
        return True
    if open_filter == "now":
        return hours.is_open(schedule, now, zone)
    if open_filter == "evening":
        return hours.open_between(schedule, today, *EVENING)
    saturday = today + timedelta(days=(5 - today.weekday()) % 7)
    weekend = [saturday, saturday + timedelta(days=1)] if today.weekday() != 6 else [today]
    return any(hours.open_between(schedule, day, 0, hours.MINUTES_PER_DAY) for day in weekend)


@dataclass
class _OpenNowCache:
    """What the list works out once per change of any room's hours (or of the local date):
    the rooms' rows, schedules, and open intervals from yesterday to HOURS_AHEAD days on.
    Each request then only asks hours.open_at / hours.change_after of them (B10)."""

    key: tuple[str, date] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    schedules: dict[int, hours.Schedule] = field(default_factory=dict)
    timelines: dict[int, hours.Timeline] = field(default_factory=dict)


_open_now = _OpenNowCache()


async def _list_state(today: date) -> _OpenNowCache:
    global _open_now
    key = (await _change_token(), today)
    if _open_now.key == key:
        return _open_now
    zone = _zone()
    rows = await ReadingRoom.select(
        ReadingRoom.all_columns(),
        ReadingRoom.node.code.as_alias("node_code"),
        ReadingRoom.node.name.as_alias("node_name"),
        ReadingRoom.node.path.as_alias("node_path"),
    ).order_by(ReadingRoom.name)
    first, last = today - timedelta(days=1), today + timedelta(days=HOURS_AHEAD + 1)
    found = await schedules(None, first, last)
    window = (hours.at(first, 0, zone), hours.at(last, hours.MINUTES_PER_DAY, zone))
    _open_now = _OpenNowCache(
        key=key,
        rows=rows,
        schedules=found,
        timelines={
            room_id: hours.timeline(hours.open_intervals(schedule, *window, zone))
            for room_id, schedule in found.items()
        },
    )
    return _open_now


async def list_rooms(actor: Actor, open_filter: str | None = None) -> list[RoomOut]:
    """Every room, the worker's own part of the tree first, then by name; filtered."""
    if open_filter is not None and open_filter not in OPEN_FILTERS:
        raise DomainError("validation_error", "Choose now, evening or weekend.", field="open")
    now = clock.now()
    today = now.astimezone(_zone()).date()
    state = await _list_state(today)
    moment = now.timestamp()
    horizon = (now + timedelta(days=HOURS_AHEAD)).timestamp()
    listed = []
    for row in sorted(state.rows, key=lambda row: -orgs.tree_nearness(actor, row["node_path"])):
        found = state.timelines[row["id"]]
        if open_filter == "now":
            if not hours.open_at(found, moment):
                continue
        elif not matches(state.schedules[row["id"]], open_filter, now, today):
            continue
        change = hours.change_after(found, moment, horizon)
        listed.append(
            RoomOut(
                id=row["id"],
                name=row["name"],
                node_code=row["node_code"],
                node_name=row["node_name"],
                address=row["address"],
                seats=row["seats"],
                computers=row["computers"],
                network=bool(row["network"]),
                books=row["books"],
                open_now=hours.open_at(found, moment),
                next_change_at=None if change is None else datetime.fromtimestamp(change, UTC),
            )
        )
    return listed


# --- the holiday table --------------------------------------------------------------------


def parse_holidays(text: str) -> list[hours.Holiday | tuple[hours.Holiday, str]]:
    """CSV rows `date,kind,name[,follows_weekday]` (a header line is allowed); kind is
    holiday or workday (调休). A bad row raises with its line number."""
    parsed: list[Any] = []
    seen: set[date] = set()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for line_no, row in enumerate(reader, start=1):
        cells = [cell.strip() for cell in row]
        if not cells or not any(cells):
            continue
        if line_no == 1 and cells[0].lower() in {"date", "日期"}:
            continue
        if len(parsed) >= MAX_HOLIDAY_ROWS:
            raise DomainError(
                "validation_error",
                "A holiday file holds at most %(limit)s rows.",
                field="csv",
                limit=MAX_HOLIDAY_ROWS,
            )
        try:
            day = date.fromisoformat(cells[0])
            kind = cells[1].lower() if len(cells) > 1 else ""
            if kind not in {"holiday", "workday", "假日", "调休"}:
                raise ValueError
            name = plain_text(cells[2] if len(cells) > 2 else "", field="csv", limit=60)
            follows = int(cells[3]) if len(cells) > 3 and cells[3] else 0
            if not 0 <= follows < hours.WEEKDAYS or len(cells) > 4:
                raise ValueError
        except (ValueError, DomainError):
            raise DomainError(
                "validation_error",
                "Line %(line)s is not right: write date,holiday or workday,name "
                "(such as 2026-10-01,holiday,国庆节). Nothing was imported.",
                field="csv",
                line=line_no,
            ) from None
        if day in seen:
            raise DomainError(
                "validation_error",
                "Line %(line)s repeats a date. Nothing was imported.",
                field="csv",
                line=line_no,
            )
        seen.add(day)
        parsed.append((hours.Holiday(day, kind in {"workday", "调休"}, follows), name))
    if not parsed:
        raise DomainError("validation_error", "The file has no holidays.", field="csv")
    return parsed


async def import_holidays(actor: Actor, text: str) -> HolidayImportOut:
    """Replaces the table's rows for every year the file covers, all or nothing."""
    if not actor.has("admin"):
        raise Forbidden("Only an admin keeps the holiday table.")
    parsed = parse_holidays(text)
    years = sorted({holiday.day.year for holiday, _ in parsed})
    async with write_transaction():
        await lock_key(HOLIDAYS_LOCK)
        for year in years:
            await Holiday.delete().where(
                (Holiday.day >= date(year, 1, 1)) & (Holiday.day <= date(year, 12, 31))
            )
        await Holiday.insert(
            *[
                Holiday(
                    day=holiday.day,
                    name=name,
                    workday=holiday.workday,
                    follows_weekday=holiday.follows_weekday,
                )
                for holiday, name in parsed
            ]
        )
        await _changed()
    return HolidayImportOut(imported=len(parsed), years=years)


async def list_holidays(year: int | None = None) -> list[HolidayOut]:
    query = Holiday.select().order_by(Holiday.day)
    if year is not None:
        if not 2000 <= year <= 2100:
            raise DomainError("validation_error", "Choose a year.", field="year")
        query = query.where((Holiday.day >= date(year, 1, 1)) & (Holiday.day <= date(year, 12, 31)))
    return [
        HolidayOut(
            date=_as_date(row["day"]),
            name=row["name"],
            workday=bool(row["workday"]),
            follows_weekday=row["follows_weekday"],
        )
        for row in await query
    ]


# --- sessions held in a room --------------------------------------------------------------


async def session_rooms(activity_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not activity_ids:
        return {}
    rows = await SessionDetails.select(
        SessionDetails.activity,
        SessionDetails.room,
        SessionDetails.facilitator,
        SessionDetails.room.name.as_alias("room_name"),
    ).where(SessionDetails.activity.is_in(list(activity_ids)))
    return {row["activity"]: row for row in rows}


async def check_session(
    values: Mapping[str, Any], details: Mapping[str, Any] | None, stored_id: int | None
) -> None:
    """The kind's pre-write check: a session lies inside one open interval of its room
    (bounds may touch) and takes no more places than the room has seats."""
    room_id = details.get("room_id") if details else None
    if room_id is None and stored_id is not None:
        room_id = (await session_rooms([stored_id])).get(stored_id, {}).get("room")
    if room_id is None:
        return  # held elsewhere: no opening hours to fit
    # The core calls this inside its write transaction: lock the room's hours (and the
    # holiday table, always in this order) before reading them.
    await lock_key(HOLIDAYS_LOCK)
    await _lock_hours(int(room_id))
    try:
        room = await _room_row(int(room_id))
    except NotFound:
        raise DomainError(
            "validation_error", "Choose the reading room.", field="details.room_id"
        ) from None
    await check_fits(room, values["starts_at"], values["ends_at"], values.get("capacity"))


async def check_fits(
    room: Mapping[str, Any], starts_at: datetime, ends_at: datetime, capacity: int | None
) -> None:
    zone = _zone()
    if not (YEARS[0] <= starts_at.year and ends_at.year <= YEARS[1]):
        raise DomainError(
            "outside_opening_hours",
            "The room is not open for the whole session. On %(day)s it is open: %(allowed)s.",
            field="starts_at",
            day=starts_at.date().isoformat(),
            allowed="—",
            extra={"allowed": []},
        )
    if capacity is not None and capacity > room["seats"]:
        raise DomainError(
            "above_room_seats",
            "The room has %(seats)s seats: offer at most that many places.",
            field="capacity",
            seats=room["seats"],
        )
    first = starts_at.astimezone(zone).date() - timedelta(days=1)
    last = ends_at.astimezone(zone).date() + timedelta(days=1)
    schedule = (await schedules([room["id"]], first, last))[room["id"]]
    if hours.covers(schedule, starts_at, ends_at, zone):
        return
    local_day = starts_at.astimezone(zone).date()
    allowed = hours.day_intervals(schedule, local_day)
    raise DomainError(
        "outside_opening_hours",
        "The room is not open for the whole session. On %(day)s it is open: %(allowed)s.",
        field="starts_at",
        day=local_day.isoformat(),
        allowed=hours.day_line(allowed) or "—",
        extra={"allowed": [{"opens": o, "closes": c} for o, c in _pairs(allowed)]},
    )


def _pairs(intervals: Iterable[hours.Interval]) -> list[tuple[str, str]]:
    return [(hours.format_minute(o), hours.format_minute(c)) for o, c in intervals]


async def coming_sessions_outside_hours(actor: Actor, room_id: int) -> list[AffectedSession]:
    """For the room's editor, whatever page the organiser came from: every session of the
    coming year that its hours (exceptions, seasons, holidays) no longer hold."""
    await _editable_room(actor, room_id)
    today = _today()
    return await sessions_outside_hours(
        room_id, today, today + timedelta(days=MAX_EXCEPTION_DAYS), actor=actor
    )


async def _people(actor: Actor, activity_id: int) -> list[Registrant]:
    """Who a move or a cancellation of the session tells (those of the actor's scope)."""
    try:
        roster = await activities.roster(actor, activity_id)
    except NotFound:
        return []
    return [
        Registrant(name=entry.name, phone_masked=entry.phone_masked, status=entry.status)
        for entry in roster
        if entry.status in {"confirmed", "waitlisted"}
    ]


async def sessions_outside_hours(
    room_id: int, first: date, last: date, *, actor: Actor | None = None
) -> list[AffectedSession]:
    """The room's coming sessions, between two local dates, that no longer fit its hours
    (with their registrants when an organiser asks)."""
    zone = _zone()
    ids = [
        row["activity"]
        for row in await SessionDetails.select(SessionDetails.activity).where(
            SessionDetails.room == room_id
        )
    ]
    found = await activities.activities_by_id(ids)
    schedule = (await schedules([room_id], first - timedelta(days=1), last + timedelta(days=1)))[
        room_id
    ]
    affected = []
    for item in found:
        local_day = item.starts_at.astimezone(zone).date()
        if item.status in {"cancelled", "closed"} or not first <= local_day <= last:
            continue
        if not hours.covers(schedule, item.starts_at, item.ends_at, zone):
            affected.append(
                AffectedSession(
                    activity_id=item.id,
                    title=item.title,
                    starts_at=item.starts_at,
                    registrants=item.confirmed,
                    people=await _people(actor, item.id) if actor is not None else [],
                )
            )
    return sorted(affected, key=lambda a: a.starts_at)


# --- the kind's details: room, facilitator, book list --------------------------------------

BOOKS_MAX = 30


def _isbn(raw: str, *, field: str) -> str:
    digits = raw.replace("-", "").replace(" ", "").upper()
    if not digits:
        return ""
    valid = (len(digits) == 13 and digits.isdigit()) or (
        len(digits) == 10 and digits[:9].isdigit() and (digits[9].isdigit() or digits[9] == "X")
    )
    if not valid:
        raise DomainError("validation_error", "An ISBN has 10 or 13 digits.", field=field)
    return digits


def _book(raw: Any, index: int) -> dict[str, str]:
    field = f"details.books.{index}"
    if isinstance(raw, str):
        # A form line: title | author | ISBN | note
        parts = [part.strip() for part in raw.split("|")]
        raw = dict(zip(("title", "author", "isbn", "note"), parts, strict=False))
        if len(parts) > 4:
            raise DomainError(
                "validation_error",
                "Write each book as title | author | ISBN | note.",
                field=field,
            )
    if not isinstance(raw, Mapping) or set(raw) - {"title", "author", "isbn", "note"}:
        raise DomainError(
            "validation_error", "Give each book a title, author, ISBN and note.", field=field
        )
    title = plain_text(str(raw.get("title") or ""), field=field, limit=200)
    if not title:
        raise DomainError("validation_error", "Give each book a title.", field=field)
    return {
        "title": title,
        "author": plain_text(str(raw.get("author") or ""), field=field, limit=100),
        "isbn": _isbn(str(raw.get("isbn") or ""), field=field),
        "note": plain_text(str(raw.get("note") or ""), field=field, limit=300),
    }


class SessionDetailsHooks:
    """The session's room, facilitator and books, kept in the room's own tables."""

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(raw) - {"room_id", "facilitator", "books"}
        if unknown:
            raise DomainError("validation_error", "Unknown field.", field="details")
        room = raw.get("room_id")
        room_id: int | None = None
        if room not in (None, ""):
            try:
                room_id = int(room)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise DomainError(
                    "validation_error", "Choose the reading room.", field="details.room_id"
                ) from None
            if not 1 <= room_id <= MAX_ID:
                raise DomainError(
                    "validation_error", "Choose the reading room.", field="details.room_id"
                )
        books_raw = raw.get("books") or []
        if isinstance(books_raw, str):
            books_raw = [line for line in books_raw.splitlines() if line.strip()]
        if not isinstance(books_raw, list) or len(books_raw) > BOOKS_MAX:
            raise DomainError(
                "validation_error",
                "List at most %(limit)s books.",
                field="details.books",
                limit=BOOKS_MAX,
            )
        return {
            "room_id": room_id,
            "facilitator": plain_text(
                str(raw.get("facilitator") or ""), field="details.facilitator", limit=60
            ),
            "books": [_book(book, index) for index, book in enumerate(books_raw)],
        }

    async def write(self, activity_id: int, values: Mapping[str, Any]) -> None:
        from service.reading.tables import SessionBook

        await SessionDetails.delete().where(SessionDetails.activity == activity_id)
        await SessionBook.delete().where(SessionBook.activity == activity_id)
        await SessionDetails.insert(
            SessionDetails(
                activity=activity_id, room=values["room_id"], facilitator=values["facilitator"]
            )
        )
        if values["books"]:
            await SessionBook.insert(
                *[
                    SessionBook(activity=activity_id, position=position, **book)
                    for position, book in enumerate(values["books"])
                ]
            )

    async def read(self, activity_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        from service.reading.tables import SessionBook

        found = await session_rooms(activity_ids)
        plans = {
            row["activity"]: row
            for row in await PlanSession.select(
                PlanSession.activity, PlanSession.plan, PlanSession.plan.name.as_alias("name")
            ).where(PlanSession.activity.is_in(list(found) or [0]))
        }
        books: dict[int, list[dict[str, str]]] = {}
        if found:
            for row in (
                await SessionBook.select()
                .where(SessionBook.activity.is_in(list(found)))
                .order_by(SessionBook.position)
            ):
                books.setdefault(row["activity"], []).append(
                    {key: row[key] for key in ("title", "author", "isbn", "note")}
                )
        return {
            activity_id: {
                "room_id": row["room"],
                "room_name": row["room_name"],
                "facilitator": row["facilitator"],
                "books": books.get(activity_id, []),
                "plan_id": plans[activity_id]["plan"] if activity_id in plans else None,
                "plan_name": plans[activity_id]["name"] if activity_id in plans else "",
            }
            for activity_id, row in found.items()
        }

    async def copy(self, source_id: int, target_id: int) -> None:
        found = (await self.read([source_id])).get(source_id)
        if found is not None:
            # A copy is a session of its own: it joins no plan.
            await self.write(
                target_id, {key: found[key] for key in ("room_id", "facilitator", "books")}
            )


# --- study plans --------------------------------------------------------------------------


async def create_plan(actor: Actor, data: PlanIn) -> PlanOut:
    if not actor.has("organiser", "admin"):
        raise Forbidden()
    name = plain_text(data.name, field="name", limit=NAME_MAX)
    if not name:
        raise DomainError("validation_error", "Give the plan a name.", field="name")
    ids = list(dict.fromkeys(data.activity_ids))
    if not ids or len(ids) > PLAN_MAX_SESSIONS or not all(1 <= i <= MAX_ID for i in ids):
        raise DomainError(
            "validation_error",
            "A plan holds 1 to %(limit)s sessions.",
            field="activity_ids",
            limit=PLAN_MAX_SESSIONS,
        )
    found = {item.id: item for item in await activities.activities_by_id(ids)}
    rooms_of = await session_rooms(ids)
    for activity_id in ids:
        item = found.get(activity_id)
        if item is None or activity_id not in rooms_of or not actor.reaches(item.owner_path):
            raise DomainError(
                "validation_error",
                "Choose reading-sharing sessions of your own organisations.",
                field="activity_ids",
            )
    node = await orgs.node_by_code(data.owner) if data.owner else None
    if node is not None and not actor.reaches(node.path):
        raise Forbidden()
    owner_id = node.id if node else actor.node_id or (await orgs.root_node()).id
    description = plain_text(data.description, field="description", limit=2000, multiline=True)
    async with write_transaction():
        taken = await PlanSession.count().where(PlanSession.activity.is_in(ids))
        if taken:
            raise DomainError(
                "validation_error",
                "A session belongs to one plan only.",
                field="activity_ids",
            )
        inserted = await StudyPlan.insert(
            StudyPlan(name=name, description=description, owner=owner_id)
        ).returning(StudyPlan.id)
        plan_id = inserted[0]["id"]
        # Ordered by the sessions' times: a series is read in the order it happens.
        ordered = sorted(ids, key=lambda i: found[i].starts_at)
        await PlanSession.insert(
            *[
                PlanSession(plan=plan_id, activity=activity_id, position=position)
                for position, activity_id in enumerate(ordered)
            ]
        )
    return await get_plan(actor, plan_id)


async def list_plans(actor: Actor) -> list[PlanOut]:
    rows = await StudyPlan.select(StudyPlan.id).order_by(StudyPlan.id, ascending=False).limit(50)
    return [await get_plan(actor, row["id"]) for row in rows]


async def get_plan(actor: Actor, plan_id: int) -> PlanOut:
    plans = await StudyPlan.select(
        StudyPlan.all_columns(), StudyPlan.owner.code.as_alias("owner_code")
    ).where(StudyPlan.id == plan_id)
    if not plans:
        raise NotFound("There is no such study plan.")
    plan = plans[0]
    links = (
        await PlanSession.select().where(PlanSession.plan == plan_id).order_by(PlanSession.position)
    )
    ids = [link["activity"] for link in links]
    found = {item.id: item for item in await activities.activities_by_id(ids)}
    rooms_of = await session_rooms(ids)
    attended = (
        {
            activity
            for activity, member in await checkin.admitted_members(ids)
            if member == actor.member_id
        }
        if actor.member_id is not None
        else set()
    )
    sessions = []
    for link in links:
        item = found.get(link["activity"])
        if item is None or item.status == "draft":
            continue
        mine = await activities.my_registration(actor, item.id) if actor.member_id else None
        sessions.append(
            PlanSessionOut(
                activity_id=item.id,
                position=link["position"],
                title=item.title,
                starts_at=item.starts_at,
                ends_at=item.ends_at,
                status=item.status,
                room_name=rooms_of.get(item.id, {}).get("room_name", ""),
                my_status=mine.status if mine else None,
                attended=item.id in attended,
            )
        )
    return PlanOut(
        id=plan["id"],
        name=plan["name"],
        description=plan["description"],
        owner_code=plan["owner_code"],
        sessions=sessions,
        joined=sum(1 for s in sessions if s.my_status in {"confirmed", "waitlisted"}),
        attended=sum(1 for s in sessions if s.attended),
    )


async def join_plan(actor: Actor, plan_id: int) -> JoinOut:
    """One registration per session, each under its own capacity and waitlist, through the
    activity core's sign-up; a session that refuses is reported and the others go on."""
    plan = await get_plan(actor, plan_id)
    if not plan.sessions:
        raise DomainError("not_open", "This plan has no sessions open for sign-up.")
    results = []
    for session in plan.sessions:
        try:
            registration, _ = await activities.register(actor, session.activity_id)
        except DomainError as refused:
            from service.i18n import translated

            results.append(
                JoinResult(
                    activity_id=session.activity_id,
                    title=session.title,
                    outcome="refused",
                    code=refused.code,
                    message=translated(actor.language, refused.message, **refused.params),
                )
            )
            continue
        results.append(
            JoinResult(
                activity_id=session.activity_id,
                title=session.title,
                outcome=registration.status,
                waitlist_position=registration.waitlist_position,
            )
        )
    refused = sum(1 for r in results if r.outcome == "refused")
    return JoinOut(plan_id=plan_id, results=results, joined=len(results) - refused, refused=refused)


# --- reading notes ------------------------------------------------------------------------


async def _reading_session(activity_id: int) -> Any:
    found = await activities.activities_by_id([activity_id])
    if not found or found[0].kind != "reading_session":
        raise NotFound("There is no such reading-sharing session.")
    return found[0]


async def post_note(actor: Actor, activity_id: int, body: str, page: str = "") -> NoteOut:
    """A member who was admitted at the session's door may post a note; an organiser
    approves it before anyone else sees it. Text is kept as typed and escaped wherever it
    is shown."""
    await _reading_session(activity_id)
    if actor.member_id is None or (activity_id, actor.member_id) not in set(
        await checkin.admitted_members([activity_id])
    ):
        raise DomainError("not_attended", "Only members who came to the session can post a note.")
    text = plain_text(body, field="body", multiline=True)
    if not text:
        raise DomainError("validation_error", "Write your note.", field="body")
    if len(text) > NOTE_MAX:
        raise DomainError(
            "validation_error",
            "Keep the note to %(limit)s characters or fewer.",
            field="body",
            limit=NOTE_MAX,
        )
    where = plain_text(page, field="page", limit=60)
    inserted = await ReadingNote.insert(
        ReadingNote(activity=activity_id, member=actor.member_id, body=text, page=where)
    ).returning(ReadingNote.id)
    return (await _notes(ReadingNote.id == inserted[0]["id"]))[0]


async def _notes(where: Any) -> list[NoteOut]:
    rows = (
        await ReadingNote.select(
            ReadingNote.all_columns(), ReadingNote.member.name.as_alias("author")
        )
        .where(where)
        .order_by(ReadingNote.created_at)
        .limit(500)
    )
    return [
        NoteOut(
            id=row["id"],
            activity_id=row["activity"],
            author=row["author"],
            body=row["body"],
            page=row["page"],
            status=row["status"],
            created_at=row["created_at"],
        )
        for row in rows
    ]


async def notes(actor: Actor, activity_id: int) -> list[NoteOut]:
    """Approved notes; an organiser of the session also sees those waiting, and a member
    their own."""
    item = await _reading_session(activity_id)
    where = ReadingNote.activity == activity_id
    if _may_edit(actor, item.owner_path):
        return await _notes(where & (ReadingNote.status != "rejected"))
    visible = ReadingNote.status == "approved"
    if actor.member_id is not None:
        visible = visible | (ReadingNote.member == actor.member_id)
    return await _notes(where & visible)


async def decide_note(actor: Actor, note_id: int, approve: bool) -> NoteOut:
    rows = await ReadingNote.select(ReadingNote.activity).where(ReadingNote.id == note_id)
    if not rows:
        raise NotFound("There is no such note.")
    item = await _reading_session(rows[0]["activity"])
    if not _may_edit(actor, item.owner_path):
        raise Forbidden()
    await ReadingNote.update(
        {
            ReadingNote.status: "approved" if approve else "rejected",
            ReadingNote.decided_at: clock.now(),
        }
    ).where(ReadingNote.id == note_id)
    return (await _notes(ReadingNote.id == note_id))[0]


# --- demand: when workers could come ------------------------------------------------------


def _slots(raw: Sequence[str]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for slot in raw[: hours.WEEKDAYS * len(PARTS_OF_DAY) + 1]:
        weekday, _, part = str(slot).partition(":")
        if not (weekday.isdigit() and int(weekday) < hours.WEEKDAYS and part in PARTS_OF_DAY):
            raise DomainError(
                "validation_error",
                "Choose days and parts of the day from the grid.",
                field="slots",
            )
        found.add((int(weekday), part))
    return found


async def set_demand(actor: Actor, room_id: int, slots: Sequence[str]) -> DemandOut:
    if actor.member_id is None:
        raise Forbidden()
    if len(slots) > hours.WEEKDAYS * len(PARTS_OF_DAY):
        raise DomainError(
            "validation_error", "Choose days and parts of the day from the grid.", field="slots"
        )
    await _room_row(room_id)
    chosen = _slots(slots)
    async with write_transaction():
        await Demand.delete().where((Demand.room == room_id) & (Demand.member == actor.member_id))
        if chosen:
            await Demand.insert(
                *[
                    Demand(room=room_id, member=actor.member_id, weekday=w, part=p)
                    for w, p in sorted(chosen)
                ]
            )
    return await demand(actor, room_id)


async def demand(actor: Actor, room_id: int) -> DemandOut:
    """The worker's own marks; the counts only for the room's organisers."""
    row = await _room_row(room_id)
    rows = await Demand.select(Demand.member, Demand.weekday, Demand.part).where(
        Demand.room == room_id
    )
    mine = sorted(f"{r['weekday']}:{r['part']}" for r in rows if r["member"] == actor.member_id)
    return demand_grid(rows if _may_edit(actor, row["node_path"]) else [], mine)


def demand_grid(rows: Iterable[Mapping[str, Any]], mine: list[str] | None = None) -> DemandOut:
    """The weekly demand grid from Demand rows (member, weekday, part): how many workers
    could come in each weekday's part of the day, a worker counted once per cell however
    many rooms they marked it for. The one count both the room and the plan reports show."""
    members: list[list[set[int]]] = [[set() for _ in PARTS_OF_DAY] for _ in range(hours.WEEKDAYS)]
    for r in rows:
        members[r["weekday"]][PARTS_OF_DAY.index(r["part"])].add(r["member"])
    return DemandOut(
        parts=list(PARTS_OF_DAY),
        grid=[[len(cell) for cell in day] for day in members],
        mine=mine or [],
        workers=len({member for day in members for cell in day for member in cell}),
    )


def open_parts(schedule: hours.Schedule, week_start: date) -> list[list[bool]]:
    """For the demand grid: whether the room is open at some time of each weekday's part
    of the day, in the week starting on `week_start` (a Monday)."""
    return [
        [
            hours.open_between(schedule, week_start + timedelta(days=w), *PART_MINUTES[part])
            for part in PARTS_OF_DAY
        ]
        for w in range(hours.WEEKDAYS)
    ]


async def open_parts_this_week(room_id: int) -> list[list[bool]]:
    today = _today()
    monday = today - timedelta(days=today.weekday())
    schedule = (await schedules([room_id], monday, monday + timedelta(days=6)))[room_id]
    return open_parts(schedule, monday)


# --- report per room ----------------------------------------------------------------------


def _months(first: date, last: date) -> list[tuple[date, date]]:
    """The whole months from first's to last's: (first day, last day) of each."""
    spans = []
    start = first.replace(day=1)
    while start <= last:
        following = (start + timedelta(days=31)).replace(day=1)
        spans.append((start, following - timedelta(days=1)))
        start = following
    return spans


async def hours_open_by_month(
    room_ids: Sequence[int], first: date, last: date
) -> dict[int, list[tuple[str, float]]]:
    """Each room's hours open in every whole month from first's month to last's, as
    ("2026-03", 91.0), exceptions and holidays applied: the one figure the room and the
    plan reports show. One schedule read for all the rooms."""
    spans = _months(first, last)
    if not room_ids or not spans:
        return {room_id: [] for room_id in room_ids}
    found = await schedules(list(room_ids), spans[0][0], spans[-1][1])
    return {
        room_id: [
            (
                f"{start.year}-{start.month:02d}",
                round(hours.open_minutes(found[room_id], start, end) / 60, 1),
            )
            for start, end in spans
        ]
        for room_id in room_ids
    }


async def room_report(actor: Actor, room_id: int, year: int) -> RoomReport:
    row = await _editable_room(actor, room_id)
    if not 2000 <= year <= 2100:
        raise DomainError("validation_error", "Choose a year.", field="year")
    first, last = date(year, 1, 1), date(year, 12, 31)
    ids = [
        r["activity"]
        for r in await SessionDetails.select(SessionDetails.activity).where(
            SessionDetails.room == room_id
        )
    ]
    zone = _zone()
    held = [
        item
        for item in await activities.activities_by_id(ids)
        if item.status in {"published", "closed"} and item.starts_at.astimezone(zone).year == year
    ]
    admitted = await checkin.admitted_members([item.id for item in held])
    month_of = {item.id: item.starts_at.astimezone(zone).month for item in held}
    open_hours = (await hours_open_by_month([room_id], first, last))[room_id]
    months = []
    for month in range(1, 13):
        in_month = [item for item in held if month_of[item.id] == month]
        months.append(
            MonthRow(
                month=f"{year}-{month:02d}",
                hours_open=open_hours[month - 1][1],
                sessions=len(in_month),
                seats_offered=sum(item.capacity or 0 for item in in_month),
                attendance=sum(1 for a, _ in admitted if month_of.get(a) == month),
            )
        )
    visits: dict[int, int] = {}
    for _, member in admitted:
        visits[member] = visits.get(member, 0) + 1
    note_count = (
        await ReadingNote.count().where(ReadingNote.activity.is_in([i.id for i in held]))
        if held
        else 0
    )
    return RoomReport(
        room_id=row["id"],
        year=year,
        months=months,
        unique_readers=len(visits),
        repeat_readers=sum(1 for n in visits.values() if n >= 2),
        notes=note_count,
        demand=await demand(actor, room_id),
    )


async def may_decide_notes(actor: Actor, activity_id: int) -> bool:
    item = await _reading_session(activity_id)
    return _may_edit(actor, item.owner_path)


# --- report per plan ----------------------------------------------------------------------


async def _note_counts(activity_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Notes per session and status (pending, approved, rejected)."""
    counts: dict[int, dict[str, int]] = {}
    if activity_ids:
        for row in await ReadingNote.select(ReadingNote.activity, ReadingNote.status).where(
            ReadingNote.activity.is_in(list(activity_ids))
        ):
            by_status = counts.setdefault(row["activity"], {})
            by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    return counts


async def plan_report(actor: Actor, plan_id: int) -> PlanReport:
    """A plan's sessions (places, joined, came, notes) and its readers across the series:
    who came at all, to 2+ sessions, and to every session. Notes posted counts every note
    written, as the room report does. For the organisers of the plan's organisation."""
    plans = await StudyPlan.select(
        StudyPlan.id, StudyPlan.name, StudyPlan.owner.path.as_alias("owner_path")
    ).where(StudyPlan.id == plan_id)
    if not plans:
        raise NotFound("There is no such study plan.")
    if not _may_edit(actor, plans[0]["owner_path"]):
        raise Forbidden("Only the plan's organisers see its report.")
    links = (
        await PlanSession.select().where(PlanSession.plan == plan_id).order_by(PlanSession.position)
    )
    found = {
        item.id: item
        for item in await activities.activities_by_id([link["activity"] for link in links])
    }
    series = [found[link["activity"]] for link in links if link["activity"] in found]
    series = [item for item in series if item.status != "draft"]
    ids = [item.id for item in series]
    rooms_of = await session_rooms(ids)
    notes_of = await _note_counts(ids)
    came: dict[int, set[int]] = {}
    for activity_id, member in await checkin.admitted_members(ids):
        came.setdefault(member, set()).add(activity_id)
    joined_members: set[int] = set()
    rows = []
    for position, item in enumerate(series, start=1):
        people = await _people_ids(actor, item.id)
        joined_members |= people
        rows.append(
            PlanSessionRow(
                activity_id=item.id,
                position=position,
                title=item.title,
                starts_at=item.starts_at,
                status=item.status,
                room_name=rooms_of.get(item.id, {}).get("room_name", ""),
                seats_offered=0 if item.status == "cancelled" else item.capacity or 0,
                joined=len(people),
                attended=sum(1 for sessions in came.values() if item.id in sessions),
                notes=sum(notes_of.get(item.id, {}).values()),
            )
        )
    held = {item.id for item in series if item.status != "cancelled"}
    # The rooms the held sessions use, in the order the series first reaches them.
    room_names: dict[int, str] = {}
    for item in series:
        room = rooms_of.get(item.id, {})
        if item.id in held and room.get("room") is not None:
            room_names.setdefault(room["room"], room["room_name"])
    days = [item.starts_at.astimezone(_zone()).date() for item in series if item.id in held]
    open_hours = (
        await hours_open_by_month(list(room_names), min(days), max(days)) if room_names else {}
    )
    members = joined_members | set(came)
    demand_rows = (
        await Demand.select(Demand.member, Demand.weekday, Demand.part).where(
            Demand.room.is_in(list(room_names)) & Demand.member.is_in(list(members))
        )
        if room_names and members
        else []
    )
    return PlanReport(
        plan_id=plan_id,
        name=plans[0]["name"],
        sessions=rows,
        members_joined=len(joined_members),
        unique_readers=len(came),
        repeat_readers=sum(1 for sessions in came.values() if len(sessions) >= 2),
        completed_series=sum(1 for sessions in came.values() if held and held <= sessions),
        notes=sum(row.notes for row in rows),
        hours_open=[
            RoomMonthHours(room_id=room_id, room_name=name, month=month, hours_open=figure)
            for room_id, name in room_names.items()
            for month, figure in open_hours[room_id]
        ],
        demand=demand_grid(demand_rows),
    )


async def _people_ids(actor: Actor, activity_id: int) -> set[int]:
    """Members holding a place or waiting for one (those of the actor's scope)."""
    try:
        roster = await activities.roster(actor, activity_id)
    except NotFound:
        return set()
    return {entry.member_id for entry in roster if entry.status in {"confirmed", "waitlisted"}}


async def plans_in_room(actor: Actor, room_id: int) -> list[tuple[int, str]]:
    """The plans holding sessions in this room: (id, name), for its report page."""
    await _editable_room(actor, room_id)
    ids = [
        row["activity"]
        for row in await SessionDetails.select(SessionDetails.activity).where(
            SessionDetails.room == room_id
        )
    ]
    if not ids:
        return []
    rows = await PlanSession.select(PlanSession.plan, PlanSession.plan.name.as_alias("name")).where(
        PlanSession.activity.is_in(ids)
    )
    return sorted({(row["plan"], row["name"]) for row in rows})
