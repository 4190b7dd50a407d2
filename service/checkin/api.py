"""JSON API for the door: check-ins, batches, roster, look-up, walk-ins, undo, settings."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from service.checkin import services as checkin
from service.checkin.schemas import (
    BatchIn,
    BatchOut,
    CheckinIn,
    CheckinOut,
    DoorOut,
    DoorSettingsIn,
    ManualIn,
    RosterOut,
    RosterTicket,
    UndoIn,
    WalkInIn,
)
from service.http import require_actor

AnyRequest = Request[Any, Any, Any]


class CheckinApi(Controller):
    path = "/api/v1"
    tags = ["check-in"]  # noqa: RUF012

    @post("/checkins", status_code=200)
    async def check_in(self, request: AnyRequest, data: JSONBody[CheckinIn]) -> CheckinOut:
        return await checkin.check_in(
            require_actor(request),
            data.activity_id,
            data.code,
            client_id=data.client_id,
            scanned_at=data.scanned_at,
            gate=data.gate,
        )

    @post("/checkins/batch", status_code=200)
    async def batch(self, request: AnyRequest, data: JSONBody[BatchIn]) -> BatchOut:
        results = await checkin.check_in_batch(
            require_actor(request), data.activity_id, data.scans, gate=data.gate
        )
        return BatchOut(results=results)

    @post("/checkins/manual", status_code=200)
    async def manual(self, request: AnyRequest, data: JSONBody[ManualIn]) -> CheckinOut:
        return await checkin.admit_registration(
            require_actor(request),
            data.activity_id,
            data.registration_id,
            client_id=data.client_id,
            gate=data.gate,
        )

    @post("/checkins/walk-in", status_code=200)
    async def walk_in(self, request: AnyRequest, data: JSONBody[WalkInIn]) -> CheckinOut:
        return await checkin.walk_in(
            require_actor(request),
            data.activity_id,
            data.phone,
            data.name,
            client_id=data.client_id,
            gate=data.gate,
        )

    @post("/checkins/{scan_id:int}/undo", status_code=200)
    async def undo(
        self, request: AnyRequest, scan_id: FromPath[int], data: JSONBody[UndoIn]
    ) -> CheckinOut:
        return await checkin.undo(require_actor(request), scan_id, data.reason)

    @get("/activities/{activity_id:int}/roster")
    async def roster(
        self, request: AnyRequest, activity_id: FromPath[int], since: FromQuery[str | None] = None
    ) -> RosterOut:
        return await checkin.roster(require_actor(request), activity_id, since)

    @get("/activities/{activity_id:int}/door")
    async def door(self, request: AnyRequest, activity_id: FromPath[int]) -> DoorOut:
        return await checkin.door_state(require_actor(request), activity_id)

    @put("/activities/{activity_id:int}/door")
    async def door_settings(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[DoorSettingsIn]
    ) -> DoorOut:
        return await checkin.update_settings(require_actor(request), activity_id, data)

    @get("/activities/{activity_id:int}/door/search")
    async def search(
        self, request: AnyRequest, activity_id: FromPath[int], q: FromQuery[str] = ""
    ) -> list[RosterTicket]:
        return await checkin.search(require_actor(request), activity_id, q)

    @get("/activities/{activity_id:int}/door/recent")
    async def recent(self, request: AnyRequest, activity_id: FromPath[int]) -> list[CheckinOut]:
        return await checkin.recent_admissions(require_actor(request), activity_id)


ROUTES = [CheckinApi]
