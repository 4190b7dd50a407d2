"""JSON API for reading rooms, their hours and the holiday table, study plans, reading
notes and demand (the rules are in services.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from service import clock
from service.http import require_actor, send
from service.reading import reports as reading_reports
from service.reading import services as reading
from service.reading.schemas import (
    DemandIn,
    DemandOut,
    ExceptionIn,
    ExceptionsOut,
    HolidayImportIn,
    HolidayImportOut,
    HolidayOut,
    JoinOut,
    NoteDecisionIn,
    NoteIn,
    NoteOut,
    PlanIn,
    PlanOut,
    PlanReport,
    RoomDetailOut,
    RoomIn,
    RoomOut,
    RoomReport,
    SeasonIn,
    WeekIn,
)

# The one way a file goes out (streamed CSV, or an XLSX removed once sent).

AnyRequest = Request[Any, Any, Any]


class ReadingApi(Controller):
    path = "/api/v1"
    tags = ["reading"]  # noqa: RUF012

    @get("/reading-rooms")
    async def list_rooms(
        self, request: AnyRequest, open: FromQuery[str | None] = None
    ) -> list[RoomOut]:
        """Rooms, the worker's part of the tree first; `open` = now | evening | weekend."""
        return await reading.list_rooms(require_actor(request), open or None)

    @post("/reading-rooms")
    async def create_room(self, request: AnyRequest, data: JSONBody[RoomIn]) -> RoomDetailOut:
        return await reading.create_room(require_actor(request), data)

    @get("/reading-rooms/{room_id:int}")
    async def get_room(self, request: AnyRequest, room_id: FromPath[int]) -> RoomDetailOut:
        """A room with its week, seasons, exceptions and `hours`: the next 14 local dates."""
        return await reading.room_detail(require_actor(request), room_id)

    @put("/reading-rooms/{room_id:int}")
    async def update_room(
        self, request: AnyRequest, room_id: FromPath[int], data: JSONBody[RoomIn]
    ) -> RoomDetailOut:
        return await reading.update_room(require_actor(request), room_id, data)

    @put("/reading-rooms/{room_id:int}/hours")
    async def set_week(
        self, request: AnyRequest, room_id: FromPath[int], data: JSONBody[WeekIn]
    ) -> RoomDetailOut:
        """The regular week: seven lists of intervals, Monday first."""
        return await reading.set_week(require_actor(request), room_id, data)

    @post("/reading-rooms/{room_id:int}/seasons")
    async def add_season(
        self, request: AnyRequest, room_id: FromPath[int], data: JSONBody[SeasonIn]
    ) -> RoomDetailOut:
        return await reading.add_season(require_actor(request), room_id, data)

    @put("/reading-rooms/{room_id:int}/seasons/{season_id:int}")
    async def update_season(
        self,
        request: AnyRequest,
        room_id: FromPath[int],
        season_id: FromPath[int],
        data: JSONBody[SeasonIn],
    ) -> RoomDetailOut:
        """The season's name, dates and week replaced; checked as a new season is (400 when
        it overlaps another season of the room)."""
        return await reading.update_season(require_actor(request), room_id, season_id, data)

    @delete("/reading-rooms/{room_id:int}/seasons/{season_id:int}", status_code=200)
    async def delete_season(
        self, request: AnyRequest, room_id: FromPath[int], season_id: FromPath[int]
    ) -> RoomDetailOut:
        return await reading.delete_season(require_actor(request), room_id, season_id)

    @post("/reading-rooms/{room_id:int}/exceptions")
    async def add_exception(
        self, request: AnyRequest, room_id: FromPath[int], data: JSONBody[ExceptionIn]
    ) -> ExceptionsOut:
        """Closed (no intervals) or special hours over a range of dates; answers the
        sessions the exception leaves outside the hours."""
        return await reading.add_exception(require_actor(request), room_id, data)

    @put("/reading-rooms/{room_id:int}/exceptions/{exception_id:int}")
    async def update_exception(
        self,
        request: AnyRequest,
        room_id: FromPath[int],
        exception_id: FromPath[int],
        data: JSONBody[ExceptionIn],
    ) -> ExceptionsOut:
        """One day's exception replaced (its day may move or become a range); checked as a
        new one is, and answers the sessions it leaves outside the hours."""
        return await reading.update_exception(require_actor(request), room_id, exception_id, data)

    @delete("/reading-rooms/{room_id:int}/exceptions/{exception_id:int}", status_code=200)
    async def delete_exception(
        self, request: AnyRequest, room_id: FromPath[int], exception_id: FromPath[int]
    ) -> RoomDetailOut:
        return await reading.delete_exception(require_actor(request), room_id, exception_id)

    @get("/reading-rooms/{room_id:int}/demand")
    async def demand(self, request: AnyRequest, room_id: FromPath[int]) -> DemandOut:
        return await reading.demand(require_actor(request), room_id)

    @put("/reading-rooms/{room_id:int}/demand")
    async def set_demand(
        self, request: AnyRequest, room_id: FromPath[int], data: JSONBody[DemandIn]
    ) -> DemandOut:
        return await reading.set_demand(require_actor(request), room_id, data.slots)

    @get("/reading-rooms/{room_id:int}/report")
    async def report(
        self, request: AnyRequest, room_id: FromPath[int], year: FromQuery[int | None] = None
    ) -> RoomReport:
        chosen = year or clock.now().year
        return await reading.room_report(require_actor(request), room_id, chosen)

    @get("/reading-rooms/{room_id:int}/report.csv")
    async def report_csv(
        self, request: AnyRequest, room_id: FromPath[int], year: FromQuery[int | None] = None
    ) -> Response[Any]:
        """The room report as CSV (UTF-8 with a BOM): the page's figures."""
        return await self._room_file(request, room_id, year, "csv")

    @get("/reading-rooms/{room_id:int}/report.xlsx")
    async def report_xlsx(
        self, request: AnyRequest, room_id: FromPath[int], year: FromQuery[int | None] = None
    ) -> Response[Any]:
        """The room report as XLSX: the page's figures."""
        return await self._room_file(request, room_id, year, "xlsx")

    async def _room_file(
        self, request: AnyRequest, room_id: int, year: int | None, fmt: str
    ) -> Response[Any]:
        chosen = year or clock.now().year
        return send(
            await reading_reports.room_report_export(require_actor(request), room_id, chosen, fmt)
        )

    @get("/study-plans/{plan_id:int}/report")
    async def plan_report(self, request: AnyRequest, plan_id: FromPath[int]) -> PlanReport:
        """The plan's sessions (places, joined, came, notes) and its readers across the
        series, for the plan's organisers."""
        return await reading.plan_report(require_actor(request), plan_id)

    @get("/study-plans/{plan_id:int}/report.csv")
    async def plan_report_csv(self, request: AnyRequest, plan_id: FromPath[int]) -> Response[Any]:
        return send(
            await reading_reports.plan_report_export(require_actor(request), plan_id, "csv")
        )

    @get("/study-plans/{plan_id:int}/report.xlsx")
    async def plan_report_xlsx(self, request: AnyRequest, plan_id: FromPath[int]) -> Response[Any]:
        return send(
            await reading_reports.plan_report_export(require_actor(request), plan_id, "xlsx")
        )

    @get("/reading-holidays")
    async def holidays(
        self, request: AnyRequest, year: FromQuery[int | None] = None
    ) -> list[HolidayOut]:
        require_actor(request)
        return await reading.list_holidays(year)

    @post("/reading-holidays/import", status_code=200)
    async def import_holidays(
        self, request: AnyRequest, data: JSONBody[HolidayImportIn]
    ) -> HolidayImportOut:
        """CSV rows date,holiday|workday,name[,follows_weekday]: all or nothing."""
        return await reading.import_holidays(require_actor(request), data.csv)

    @get("/study-plans")
    async def list_plans(self, request: AnyRequest) -> list[PlanOut]:
        return await reading.list_plans(require_actor(request))

    @post("/study-plans")
    async def create_plan(self, request: AnyRequest, data: JSONBody[PlanIn]) -> PlanOut:
        return await reading.create_plan(require_actor(request), data)

    @get("/study-plans/{plan_id:int}")
    async def get_plan(self, request: AnyRequest, plan_id: FromPath[int]) -> PlanOut:
        """The plan's sessions in order, with the worker's registration and attendance."""
        return await reading.get_plan(require_actor(request), plan_id)

    @post("/study-plans/{plan_id:int}/join", status_code=200)
    async def join_plan(self, request: AnyRequest, plan_id: FromPath[int]) -> JoinOut:
        """One registration per session, each under its own capacity: one result each."""
        return await reading.join_plan(require_actor(request), plan_id)

    @get("/activities/{activity_id:int}/notes")
    async def notes(self, request: AnyRequest, activity_id: FromPath[int]) -> list[NoteOut]:
        return await reading.notes(require_actor(request), activity_id)

    @post("/activities/{activity_id:int}/notes")
    async def post_note(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[NoteIn]
    ) -> Response[NoteOut]:
        """403 not_attended unless the member was admitted at the session's door."""
        note = await reading.post_note(require_actor(request), activity_id, data.body, data.page)
        return Response(note, status_code=201)

    @post("/reading-notes/{note_id:int}/decision", status_code=200)
    async def decide_note(
        self, request: AnyRequest, note_id: FromPath[int], data: JSONBody[NoteDecisionIn]
    ) -> NoteOut:
        return await reading.decide_note(require_actor(request), note_id, data.approve)


ROUTES = [ReadingApi]
