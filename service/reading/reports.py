"""The reading room's reports as the report pages and files show them: the session's own
part of the activity report, its part of the summary, and the room and plan reports as
rows for CSV and XLSX (the same figures as their pages: both read the same service
result). No HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.activities import services as activities
from service.checkin import services as checkin
from service.i18n import gettext
from service.orgs.schemas import Actor
from service.reading import services as reading
from service.reading.schemas import (
    PART_LABELS,
    WEEKDAY_LABELS,
    DemandOut,
    PlanReport,
    RoomReport,
)
from service.reading.tables import SessionBook, SessionDetails
from service.reports.schemas import ReportSection

KIND = "reading_session"
HELD = {"published", "closed"}
Row = list[str | int | float | None]


# --- the session's part of the activity report ---------------------------------------------


async def session_sections(activity_id: int) -> list[ReportSection]:
    """Its book list, the notes posted, and its readers: who came, and of them who came
    to another session in the same room too (its repeat readers). A session held outside
    any room shows its books and notes only."""
    books = (
        await SessionBook.select()
        .where(SessionBook.activity == activity_id)
        .order_by(SessionBook.position)
    )
    sections = []
    if books:
        sections.append(
            ReportSection(
                kind=KIND,
                title=gettext("Book list"),
                rows=[
                    [gettext("Book title"), gettext("Author"), "ISBN", gettext("Note")],
                    *([b["title"], b["author"], b["isbn"], b["note"]] for b in books),
                ],
            )
        )
    room = (await reading.session_rooms([activity_id])).get(activity_id, {}).get("room")
    notes = (await reading._note_counts([activity_id])).get(activity_id, {})
    # A session held elsewhere (no room) has no room readers to count; its notes show
    # once there are some.
    if room is not None or notes:
        sections.append(
            ReportSection(
                kind=KIND,
                title=gettext("Reading notes"),
                rows=[
                    [gettext("Notes posted"), str(sum(notes.values()))],
                    [gettext("Approved"), str(notes.get("approved", 0))],
                    [gettext("Waiting for approval"), str(notes.get("pending", 0))],
                ],
            )
        )
    if room is None:
        return sections
    came = {member for _, member in await checkin.admitted_members([activity_id])}
    repeat = 0
    if came:
        others = [
            row["activity"]
            for row in await SessionDetails.select(SessionDetails.activity).where(
                (SessionDetails.room == room) & (SessionDetails.activity != activity_id)
            )
        ]
        elsewhere = {member for _, member in await checkin.admitted_members(others)}
        repeat = len(came & elsewhere)
    sections.append(
        ReportSection(
            kind=KIND,
            title=gettext("Readers"),
            rows=[
                [gettext("Came to this session"), str(len(came))],
                [gettext("Repeat readers (came to another session in this room)"), str(repeat)],
                [gettext("First time in this room"), str(len(came) - repeat)],
            ],
        )
    )
    return sections


# --- the reading part of the summary --------------------------------------------------------


async def summary_sections(actor: Actor, start: datetime, end: datetime) -> list[ReportSection]:
    """Per room, the sessions held in the summary's dates by the actor's organisations:
    sessions, seats offered, attendance, unique and repeat readers (2+ sessions), notes."""
    details = await SessionDetails.select(
        SessionDetails.activity, SessionDetails.room.name.as_alias("room_name")
    ).where(SessionDetails.room.is_not_null())
    room_of = {row["activity"]: row["room_name"] for row in details}
    held = [
        item
        for item in await activities.activities_by_id(list(room_of))
        if item.status in HELD and start <= item.starts_at < end and actor.reaches(item.owner_path)
    ]
    if not held:
        return []
    admitted = await checkin.admitted_members([item.id for item in held])
    notes = await reading._note_counts([item.id for item in held])
    by_room: dict[str, dict[str, Any]] = {}
    for item in held:
        room = by_room.setdefault(
            room_of[item.id], {"sessions": 0, "seats": 0, "ids": set(), "notes": 0}
        )
        room["sessions"] += 1
        room["seats"] += item.capacity or 0
        room["ids"].add(item.id)
        room["notes"] += sum(notes.get(item.id, {}).values())
    rows: list[list[str]] = [
        [
            gettext("Room"),
            gettext("Sessions"),
            gettext("Seats offered"),
            gettext("Attendance"),
            gettext("Unique readers"),
            gettext("Repeat readers (2+ sessions)"),
            gettext("Notes posted"),
        ]
    ]
    for name in sorted(by_room):
        room = by_room[name]
        visits: dict[int, int] = {}
        for activity_id, member in admitted:
            if activity_id in room["ids"]:
                visits[member] = visits.get(member, 0) + 1
        rows.append(
            [
                name,
                str(room["sessions"]),
                str(room["seats"]),
                str(sum(visits.values())),
                str(len(visits)),
                str(sum(1 for n in visits.values() if n >= 2)),
                str(room["notes"]),
            ]
        )
    return [ReportSection(kind=KIND, title=gettext("Reading rooms"), rows=rows)]


# --- the room and plan reports as rows ------------------------------------------------------


def room_report_rows(report: RoomReport, room_name: str) -> list[Row]:
    """The room report page's figures as blocks of rows (a header row first)."""
    from service.reports.exports import text_cell

    return [
        [gettext("Figure"), gettext("Value")],
        [gettext("Reading room"), text_cell(room_name)],
        [gettext("Year"), report.year],
        [gettext("Unique readers"), report.unique_readers],
        [gettext("Repeat readers (2+ sessions)"), report.repeat_readers],
        [gettext("Notes posted"), report.notes],
        [],
        [
            gettext("Month"),
            gettext("Hours open"),
            gettext("Sessions"),
            gettext("Seats offered"),
            gettext("Attendance"),
        ],
        *(
            [m.month, m.hours_open, m.sessions, m.seats_offered, m.attendance]
            for m in report.months
        ),
        [],
        *demand_rows(report.demand),
    ]


def demand_rows(demand: DemandOut) -> list[Row]:
    """The demand grid as a block: parts of the day across, weekdays down (both reports)."""
    return [
        [gettext("When workers could come"), *(gettext(PART_LABELS[p]) for p in demand.parts)],
        *(
            [gettext(WEEKDAY_LABELS[weekday]), *counts]
            for weekday, counts in enumerate(demand.grid)
        ),
    ]


def plan_report_rows(report: PlanReport) -> list[Row]:
    """The plan report page's figures as blocks of rows (a header row first)."""
    from service.reports.exports import local_cell, text_cell

    return [
        [gettext("Figure"), gettext("Value")],
        [gettext("Study plan"), text_cell(report.name)],
        [gettext("Members who joined"), report.members_joined],
        [gettext("Unique readers"), report.unique_readers],
        [gettext("Repeat readers (2+ sessions)"), report.repeat_readers],
        [gettext("Completed the whole series"), report.completed_series],
        [gettext("Notes posted"), report.notes],
        [],
        [
            "#",
            gettext("Session"),
            gettext("Starts at"),
            gettext("Reading room"),
            gettext("Seats offered"),
            gettext("Joined"),
            gettext("Attendance"),
            gettext("Notes posted"),
        ],
        *(
            [
                s.position,
                text_cell(s.title),
                local_cell(s.starts_at),
                text_cell(s.room_name),
                s.seats_offered,
                s.joined,
                s.attended,
                s.notes,
            ]
            for s in report.sessions
        ),
        [],
        [gettext("Month"), gettext("Reading room"), gettext("Hours open")],
        *([h.month, text_cell(h.room_name), h.hours_open] for h in report.hours_open),
        [],
        *demand_rows(report.demand),
    ]


async def room_report_export(actor: Actor, room_id: int, year: int, fmt: str) -> Any:
    from service.reports import exports

    report = await reading.room_report(actor, room_id, year)
    detail = await reading.room_detail(actor, room_id)
    rows = room_report_rows(report, detail.room.name)
    return await exports.rows_export(actor, fmt, f"reading-room-{room_id}-{year}-report", rows)


async def plan_report_export(actor: Actor, plan_id: int, fmt: str) -> Any:
    from service.reports import exports

    rows = plan_report_rows(await reading.plan_report(actor, plan_id))
    return await exports.rows_export(actor, fmt, f"study-plan-{plan_id}-report", rows)
