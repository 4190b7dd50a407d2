"""The reading room's API contract: rooms and hours, sessions' details, plans, notes,
demand, reports."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

OPEN_FILTERS: tuple[str, ...] = ("now", "evening", "weekend")
PARTS_OF_DAY: tuple[str, ...] = ("morning", "midday", "evening", "night")
# English msgids; translated where shown.
PART_LABELS: dict[str, str] = {
    "morning": "Morning",
    "midday": "Midday",
    "evening": "Evening",
    "night": "Night",
}
# Short names for the weekly grid's narrow first column (a 360 px phone).
WEEKDAY_SHORT_LABELS: dict[int, str] = {
    0: "Mon",
    1: "Tue",
    2: "Wed",
    3: "Thu",
    4: "Fri",
    5: "Sat",
    6: "Sun",
}
# Monday 0, as date.weekday() counts.
WEEKDAY_LABELS: dict[int, str] = {
    0: "Monday",
    1: "Tuesday",
    2: "Wednesday",
    3: "Thursday",
    4: "Friday",
    5: "Saturday",
    6: "Sunday",
}


class IntervalIn(msgspec.Struct):
    opens: str  # "08:00"
    closes: str  # "11:00"; "24:00" is midnight at the end of the day


class IntervalOut(msgspec.Struct):
    opens: str
    closes: str


class DayHours(msgspec.Struct):
    date: date
    intervals: list[IntervalOut]


class RoomIn(msgspec.Struct):
    name: str
    seats: int
    address: str = ""
    node: str | None = None  # node code; default: the organiser's own node
    computers: int = 0
    network: bool = False
    books: int = 0


class WeekIn(msgspec.Struct):
    """Seven days, Monday first; an empty day is closed."""

    days: list[list[IntervalIn]]


class SeasonIn(msgspec.Struct):
    starts_on: date
    ends_on: date
    days: list[list[IntervalIn]]
    name: str = ""


class SeasonOut(msgspec.Struct):
    id: int
    name: str
    starts_on: date
    ends_on: date
    days: list[list[IntervalOut]]


class ExceptionIn(msgspec.Struct):
    """Closed from `starts_on` to `ends_on` (inclusive), or open only at `intervals`."""

    starts_on: date
    ends_on: date | None = None
    intervals: list[IntervalIn] = msgspec.field(default_factory=list)
    note: str = ""


class ExceptionOut(msgspec.Struct):
    id: int
    date: date
    closed: bool
    intervals: list[IntervalOut]
    note: str


class Registrant(msgspec.Struct):
    """Someone registered for a session, as its organisers see them: the phone masked."""

    name: str
    phone_masked: str
    status: str  # confirmed | waitlisted


class AffectedSession(msgspec.Struct):
    """A session an exception now leaves outside the room's hours, with the people the
    organiser's move or cancellation will tell."""

    activity_id: int
    title: str
    starts_at: datetime
    registrants: int  # confirmed
    people: list[Registrant] = []


class ExceptionsOut(msgspec.Struct):
    exceptions: list[ExceptionOut]
    affected_sessions: list[AffectedSession]


class RoomOut(msgspec.Struct):
    id: int
    name: str
    node_code: str
    node_name: str
    address: str
    seats: int
    computers: int
    network: bool
    books: int
    open_now: bool
    next_change_at: datetime | None


class RoomDetailOut(msgspec.Struct):
    room: RoomOut
    week: list[list[IntervalOut]]
    seasons: list[SeasonOut]
    exceptions: list[ExceptionOut]
    hours: list[DayHours]  # the next 14 local dates, today first
    may_edit: bool = False


class HolidayOut(msgspec.Struct):
    date: date
    name: str
    workday: bool
    follows_weekday: int


class HolidayImportIn(msgspec.Struct):
    """CSV text: date,kind,name[,follows_weekday]; kind is holiday or workday."""

    csv: str


class HolidayImportOut(msgspec.Struct):
    imported: int
    years: list[int]


class BookIn(msgspec.Struct):
    title: str
    author: str = ""
    isbn: str = ""
    note: str = ""


class PlanIn(msgspec.Struct):
    name: str
    activity_ids: list[int]
    description: str = ""
    owner: str | None = None


class PlanSessionOut(msgspec.Struct):
    activity_id: int
    position: int
    title: str
    starts_at: datetime
    ends_at: datetime
    status: str
    room_name: str
    my_status: str | None  # confirmed | waitlisted | cancelled | None
    attended: bool


class PlanOut(msgspec.Struct):
    id: int
    name: str
    description: str
    owner_code: str
    sessions: list[PlanSessionOut]
    joined: int
    attended: int


class JoinResult(msgspec.Struct):
    activity_id: int
    title: str
    outcome: str  # confirmed | waitlisted | refused
    code: str | None = None  # the refusal's stable code
    message: str | None = None
    waitlist_position: int | None = None


class JoinOut(msgspec.Struct):
    plan_id: int
    results: list[JoinResult]
    joined: int
    refused: int


class NoteIn(msgspec.Struct):
    body: str
    page: str = ""


class NoteOut(msgspec.Struct):
    id: int
    activity_id: int
    author: str
    body: str
    page: str
    status: str
    created_at: datetime


class NoteDecisionIn(msgspec.Struct):
    approve: bool


class DemandIn(msgspec.Struct):
    """The times a worker could come: "weekday:part" such as "1:evening" (Monday 0)."""

    slots: list[str]


class DemandOut(msgspec.Struct):
    """Counts of workers per weekday (rows, Monday first) and part of day (columns)."""

    parts: list[str]
    grid: list[list[int]]
    mine: list[str]
    workers: int


class MonthRow(msgspec.Struct):
    month: str  # "2026-03"
    hours_open: float
    sessions: int
    seats_offered: int
    attendance: int


class RoomReport(msgspec.Struct):
    room_id: int
    year: int
    months: list[MonthRow]
    unique_readers: int
    repeat_readers: int
    notes: int
    demand: DemandOut


class PlanSessionRow(msgspec.Struct):
    """One session of a plan in its report."""

    activity_id: int
    position: int
    title: str
    starts_at: datetime
    status: str
    room_name: str
    seats_offered: int
    joined: int  # confirmed or waitlisted
    attended: int  # checked in
    notes: int  # notes posted (approved or waiting)


class RoomMonthHours(msgspec.Struct):
    """The hours one room of a plan was open in one month (the room report's figure)."""

    room_id: int
    room_name: str
    month: str  # "2026-03"
    hours_open: float


class PlanReport(msgspec.Struct):
    """A study plan's report: its sessions, and the readers across the series."""

    plan_id: int
    name: str
    sessions: list[PlanSessionRow]
    members_joined: int  # registered for at least one session of the plan
    unique_readers: int  # came to at least one session
    repeat_readers: int  # came to 2+ sessions of the plan
    completed_series: int  # came to every session of the plan
    notes: int
    # Each room the plan's sessions use, for every month from the first session's to the
    # last one's (whole months, so a figure equals the room report's for that month).
    hours_open: list[RoomMonthHours]
    # When the plan's members (joined or came) could come, in the plan's rooms: each
    # member counted once per weekday and part of the day.
    demand: DemandOut
