"""Reading-room pages: the list ("open now"), a room's page with its next 14 days and the
demand grid, the organiser's room editor, the holiday table, study plans and notes."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.errors import DomainError
from service.http import form_error, page, parse_local, require_actor
from service.reading import hours
from service.reading import services as reading
from service.reading.schemas import (
    OPEN_FILTERS,
    PART_LABELS,
    PARTS_OF_DAY,
    WEEKDAY_LABELS,
    WEEKDAY_SHORT_LABELS,
    ExceptionIn,
    IntervalIn,
    PlanIn,
    RoomIn,
    SeasonIn,
    WeekIn,
)

AnyRequest = Request[Any, Any, Any]
SESSION_FIELDS = (
    "title",
    "starts_at",
    "ends_at",
    "capacity",
    "description",
    "facilitator",
    "books",
)
LABELS = {
    "weekday_labels": WEEKDAY_LABELS,
    "weekday_short": WEEKDAY_SHORT_LABELS,
    "part_labels": PART_LABELS,
    "parts": PARTS_OF_DAY,
}


def _week_from_form(form: Any, prefix: str) -> list[list[IntervalIn]]:
    """Seven text lines such as "08:00-11:00, 14:00-18:00" (Monday first) as intervals."""
    days = []
    for weekday in range(hours.WEEKDAYS):
        line = str(form.get(f"{prefix}{weekday}", ""))[:200]
        parsed = hours.parse_day_line(line, field=f"days.{weekday}")
        days.append([IntervalIn(hours.format_minute(o), hours.format_minute(c)) for o, c in parsed])
    return days


def _int(raw: Any, field: str) -> int:
    try:
        return int(str(raw or "0").strip() or "0")
    except ValueError:
        raise DomainError("validation_error", "Enter a whole number.", field=field) from None


def _date(raw: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise DomainError(
            "validation_error", "Enter a date such as 2026-05-01.", field=field
        ) from None


def _room_in(form: Any) -> RoomIn:
    return RoomIn(
        name=str(form.get("name", "")),
        seats=_int(form.get("seats"), "seats"),
        address=str(form.get("address", "")),
        node=str(form.get("node", "")) or None,
        computers=_int(form.get("computers"), "computers"),
        network=form.get("network") == "on",
        books=_int(form.get("books"), "books"),
    )


def _season_in(form: Any) -> SeasonIn:
    """The season form (adding or editing): name, dates, and a line a weekday."""
    return SeasonIn(
        name=str(form.get("season_name", "")),
        starts_on=_date(form.get("season_starts_on"), "starts_on"),
        ends_on=_date(form.get("season_ends_on"), "ends_on"),
        days=_week_from_form(form, "season_day"),
    )


def _exception_in(form: Any) -> ExceptionIn:
    """The closed-day form (adding or editing): dates, special hours (empty: closed), note."""
    first = _date(form.get("starts_on"), "starts_on")
    last_raw = str(form.get("ends_on", "")).strip()
    parsed = hours.parse_day_line(str(form.get("intervals", ""))[:200], field="intervals")
    return ExceptionIn(
        starts_on=first,
        ends_on=_date(last_raw, "ends_on") if last_raw else None,
        intervals=[IntervalIn(hours.format_minute(o), hours.format_minute(c)) for o, c in parsed],
        note=str(form.get("note", "")),
    )


def _day_line(intervals: Any) -> str:
    """Intervals as the line a form field shows: "08:00-11:00, 14:00-18:00"."""
    return ", ".join(f"{i.opens}-{i.closes}" for i in intervals)


class ReadingPages(Controller):
    include_in_schema = False

    # --- workers: find a room ---------------------------------------------------------------

    @get("/reading-rooms")
    async def rooms(self, request: AnyRequest, open: FromQuery[str | None] = None) -> Template:
        actor = require_actor(request)
        chosen = open if open in OPEN_FILTERS else None
        return page(
            request,
            "reading/rooms.html",
            rooms=await reading.list_rooms(actor, chosen),
            chosen=chosen,
            filters=OPEN_FILTERS,
            partials={"room-list": "room_list"},
        )

    async def _room(
        self, request: AnyRequest, room_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        detail = await reading.room_detail(actor, room_id)
        demand = await reading.demand(actor, room_id)
        return page(
            request,
            "reading/room.html",
            status_code=status_code,
            detail=detail,
            demand=demand,
            open_parts=await reading.open_parts_this_week(room_id),
            **LABELS,
            **context,
        )

    @get("/reading-rooms/{room_id:int}")
    async def room(self, request: AnyRequest, room_id: FromPath[int]) -> Template:
        return await self._room(request, room_id, saved=request.query_params.get("saved"))

    @post("/reading-rooms/{room_id:int}/demand")
    async def set_demand(self, request: AnyRequest, room_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await reading.set_demand(require_actor(request), room_id, form.getall("slot", []))
        except DomainError as error:
            return await self._room(request, room_id, 400, **form_error(error))
        return Redirect(f"/reading-rooms/{room_id}?saved=demand#demand")

    # --- organisers: rooms and their hours --------------------------------------------------

    @get("/organise/reading-rooms/new")
    async def new_room(self, request: AnyRequest) -> Template:
        require_actor(request)
        return page(request, "reading/room_form.html", values={}, detail=None)

    @post("/organise/reading-rooms")
    async def create_room(self, request: AnyRequest) -> Template | Redirect:
        form = await request.form()
        try:
            detail = await reading.create_room(require_actor(request), _room_in(form))
        except DomainError as error:
            return page(
                request,
                "reading/room_form.html",
                status_code=400,
                values=dict(form),
                detail=None,
                **form_error(error),
            )
        return Redirect(f"/organise/reading-rooms/{detail.room.id}")

    async def _editor(
        self, request: AnyRequest, room_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        detail = await reading.room_detail(actor, room_id)
        if not detail.may_edit:
            raise DomainError("forbidden", "Only the room's organisers can change it.")
        week_lines = [_day_line(day) for day in detail.week]
        return page(
            request,
            "reading/room_edit.html",
            status_code=status_code,
            detail=detail,
            week_lines=week_lines,
            values=context.pop("values", {}),
            day_line=_day_line,
            editing=context.pop("editing", None),
            demand=await reading.demand(actor, room_id),
            affected=context.pop("affected", None)
            or await reading.coming_sessions_outside_hours(actor, room_id),
            **LABELS,
            **context,
        )

    @get("/organise/reading-rooms/{room_id:int}")
    async def edit_room(self, request: AnyRequest, room_id: FromPath[int]) -> Template:
        return await self._editor(request, room_id)

    @post("/organise/reading-rooms/{room_id:int}/edit")
    async def save_room(self, request: AnyRequest, room_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await reading.update_room(require_actor(request), room_id, _room_in(form))
        except DomainError as error:
            return await self._editor(request, room_id, 400, **form_error(error))
        return Redirect(f"/organise/reading-rooms/{room_id}?saved=room")

    @post("/organise/reading-rooms/{room_id:int}/hours")
    async def save_week(self, request: AnyRequest, room_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            week = WeekIn(days=_week_from_form(form, "day"))
            await reading.set_week(require_actor(request), room_id, week)
        except DomainError as error:
            return await self._editor(request, room_id, 400, values=dict(form), **form_error(error))
        return Redirect(f"/organise/reading-rooms/{room_id}?saved=hours")

    @post("/organise/reading-rooms/{room_id:int}/seasons")
    async def add_season(self, request: AnyRequest, room_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await reading.add_season(require_actor(request), room_id, _season_in(form))
        except DomainError as error:
            return await self._editor(request, room_id, 400, values=dict(form), **form_error(error))
        return Redirect(f"/organise/reading-rooms/{room_id}?saved=season")

    @post("/organise/reading-rooms/{room_id:int}/seasons/{season_id:int}/edit")
    async def edit_season(
        self, request: AnyRequest, room_id: FromPath[int], season_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        try:
            await reading.update_season(
                require_actor(request), room_id, season_id, _season_in(form)
            )
        except DomainError as error:
            return await self._editor(
                request,
                room_id,
                400,
                values=dict(form),
                editing=f"season-{season_id}",
                **form_error(error),
            )
        return Redirect(f"/organise/reading-rooms/{room_id}?saved=season")

    @post("/organise/reading-rooms/{room_id:int}/seasons/{season_id:int}/delete")
    async def delete_season(
        self, request: AnyRequest, room_id: FromPath[int], season_id: FromPath[int]
    ) -> Redirect:
        await reading.delete_season(require_actor(request), room_id, season_id)
        return Redirect(f"/organise/reading-rooms/{room_id}")

    @post("/organise/reading-rooms/{room_id:int}/exceptions")
    async def add_exception(self, request: AnyRequest, room_id: FromPath[int]) -> Template:
        form = await request.form()
        try:
            result = await reading.add_exception(
                require_actor(request), room_id, _exception_in(form)
            )
        except DomainError as error:
            return await self._editor(request, room_id, 400, values=dict(form), **form_error(error))
        # The sessions the exception now leaves outside the hours, to move or cancel.
        return await self._editor(
            request, room_id, affected=result.affected_sessions, saved="exception"
        )

    @post("/organise/reading-rooms/{room_id:int}/exceptions/{exception_id:int}/edit")
    async def edit_exception(
        self, request: AnyRequest, room_id: FromPath[int], exception_id: FromPath[int]
    ) -> Template:
        form = await request.form()
        try:
            result = await reading.update_exception(
                require_actor(request), room_id, exception_id, _exception_in(form)
            )
        except DomainError as error:
            return await self._editor(
                request,
                room_id,
                400,
                values=dict(form),
                editing=f"exception-{exception_id}",
                **form_error(error),
            )
        return await self._editor(
            request, room_id, affected=result.affected_sessions, saved="exception"
        )

    @post("/organise/reading-rooms/{room_id:int}/exceptions/{exception_id:int}/delete")
    async def delete_exception(
        self, request: AnyRequest, room_id: FromPath[int], exception_id: FromPath[int]
    ) -> Redirect:
        await reading.delete_exception(require_actor(request), room_id, exception_id)
        return Redirect(f"/organise/reading-rooms/{room_id}")

    @get("/organise/reading-rooms/{room_id:int}/report")
    async def report(
        self, request: AnyRequest, room_id: FromPath[int], year: FromQuery[int | None] = None
    ) -> Template:
        actor = require_actor(request)
        chosen = year or clock.now().year
        return page(
            request,
            "reading/report.html",
            report=await reading.room_report(actor, room_id, chosen),
            detail=await reading.room_detail(actor, room_id),
            plans=await reading.plans_in_room(actor, room_id),
            **LABELS,
        )

    @get("/organise/study-plans/{plan_id:int}/report")
    async def plan_report(self, request: AnyRequest, plan_id: FromPath[int]) -> Template:
        actor = require_actor(request)
        return page(
            request,
            "reading/plan_report.html",
            report=await reading.plan_report(actor, plan_id),
            **LABELS,
        )

    # --- a new session in a room -------------------------------------------------------------

    async def _session_form(
        self, request: AnyRequest, room_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        detail = await reading.room_detail(actor, room_id)
        if not detail.may_edit:
            raise DomainError("forbidden", "Only the room's organisers can change it.")
        return page(
            request,
            "reading/session_form.html",
            status_code=status_code,
            detail=detail,
            values=context.pop("values", {}),
            **LABELS,
            **context,
        )

    @get("/organise/reading-rooms/{room_id:int}/sessions/new")
    async def new_session(self, request: AnyRequest, room_id: FromPath[int]) -> Template:
        return await self._session_form(request, room_id)

    @post("/organise/reading-rooms/{room_id:int}/sessions")
    async def create_session(
        self, request: AnyRequest, room_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        values = {key: str(form.get(key, ""))[:5000] for key in SESSION_FIELDS}
        try:
            created = await activities.create_activity(
                require_actor(request),
                ActivityIn(
                    kind="reading_session",
                    title=values["title"],
                    starts_at=parse_local(values["starts_at"], "starts_at"),
                    ends_at=parse_local(values["ends_at"], "ends_at"),
                    capacity=_int(values["capacity"], "capacity"),
                    description=values["description"],
                    details={
                        "room_id": room_id,
                        "facilitator": values["facilitator"],
                        "books": values["books"],
                    },
                ),
            )
        except DomainError as error:
            return await self._session_form(
                request, room_id, 400, values=values, **form_error(error)
            )
        return Redirect(f"/organise/activities/{created.id}")

    # --- the holiday table --------------------------------------------------------------------

    async def _holidays(
        self, request: AnyRequest, status_code: int = 200, **context: Any
    ) -> Template:
        require_actor(request)
        return page(
            request,
            "reading/holidays.html",
            status_code=status_code,
            holidays=await reading.list_holidays(),
            **LABELS,
            **context,
        )

    @get("/admin/reading-holidays")
    async def holidays(self, request: AnyRequest) -> Template:
        return await self._holidays(request)

    @post("/admin/reading-holidays")
    async def import_holidays(self, request: AnyRequest) -> Template:
        form = await request.form()
        upload = form.get("file")
        text = str(form.get("csv", ""))
        if upload is not None and hasattr(upload, "read"):
            raw = await upload.read(64 * 1024 + 1)
            if raw:
                text = raw[: 64 * 1024].decode("utf-8", errors="replace")
        try:
            result = await reading.import_holidays(require_actor(request), text[: 64 * 1024])
        except DomainError as error:
            return await self._holidays(request, 400, csv=text[:20_000], **form_error(error))
        return await self._holidays(request, imported=result)

    # --- study plans --------------------------------------------------------------------------

    @get("/study-plans")
    async def plans(self, request: AnyRequest) -> Template:
        return page(
            request, "reading/plans.html", plans=await reading.list_plans(require_actor(request))
        )

    @get("/study-plans/{plan_id:int}")
    async def plan(self, request: AnyRequest, plan_id: FromPath[int]) -> Template:
        return page(
            request,
            "reading/plan.html",
            plan=await reading.get_plan(require_actor(request), plan_id),
            joined=None,
        )

    @post("/study-plans/{plan_id:int}/join")
    async def join(self, request: AnyRequest, plan_id: FromPath[int]) -> Template:
        actor = require_actor(request)
        try:
            joined = await reading.join_plan(actor, plan_id)
        except DomainError as error:
            return page(
                request,
                "reading/plan.html",
                status_code=error.status_code,
                plan=await reading.get_plan(actor, plan_id),
                joined=None,
                **form_error(error),
            )
        return page(
            request,
            "reading/plan.html",
            plan=await reading.get_plan(actor, plan_id),
            joined=joined,
        )

    @get("/organise/study-plans/new")
    async def new_plan(self, request: AnyRequest) -> Template:
        actor = require_actor(request)
        return page(request, "reading/plan_form.html", sessions=await self._sessions(actor))

    async def _sessions(self, actor: Any) -> list[Any]:
        if not actor.has("organiser", "admin"):
            raise DomainError("forbidden", "You do not have access to this.")
        return await activities.list_activities(actor, kind="reading_session")

    @post("/organise/study-plans")
    async def create_plan(self, request: AnyRequest) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        try:
            ids = [_int(raw, "activity_ids") for raw in form.getall("activity_id", [])[:100]]
            plan = await reading.create_plan(
                actor,
                PlanIn(
                    name=str(form.get("name", "")),
                    description=str(form.get("description", "")),
                    activity_ids=ids,
                ),
            )
        except DomainError as error:
            return page(
                request,
                "reading/plan_form.html",
                status_code=400,
                sessions=await self._sessions(actor),
                values=dict(form),
                **form_error(error),
            )
        return Redirect(f"/study-plans/{plan.id}")

    # --- reading notes ------------------------------------------------------------------------

    async def _notes(
        self, request: AnyRequest, activity_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        return page(
            request,
            "reading/notes.html",
            status_code=status_code,
            activity=await activities.get_activity(actor, activity_id),
            notes=await reading.notes(actor, activity_id),
            may_decide=await reading.may_decide_notes(actor, activity_id),
            **context,
        )

    @get("/reading-sessions/{activity_id:int}/notes")
    async def notes(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        return await self._notes(request, activity_id, posted=request.query_params.get("posted"))

    @post("/reading-sessions/{activity_id:int}/notes")
    async def post_note(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        body, where = str(form.get("body", "")), str(form.get("page", ""))
        try:
            await reading.post_note(require_actor(request), activity_id, body, where)
        except DomainError as error:
            return await self._notes(
                request,
                activity_id,
                error.status_code,
                values={"body": body[:2000], "page": where[:100]},
                **form_error(error),
            )
        return Redirect(f"/reading-sessions/{activity_id}/notes?posted=1")

    @post("/reading-notes/{note_id:int}/{decision:str}")
    async def decide(
        self, request: AnyRequest, note_id: FromPath[int], decision: FromPath[str]
    ) -> Redirect:
        if decision not in {"approve", "reject"}:
            raise DomainError("not_found", "Not found.")
        note = await reading.decide_note(require_actor(request), note_id, decision == "approve")
        return Redirect(f"/reading-sessions/{note.activity_id}/notes")


ROUTES = [ReadingPages]
