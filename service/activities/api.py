"""JSON API for activities and registrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody

from service.activities import services as activities
from service.activities.schemas import (
    ActivityIn,
    ActivityOut,
    CancelIn,
    CancelledOut,
    CapacityIn,
    KindOut,
    MyRegistrationOut,
    RegistrationOut,
    RosterEntry,
)
from service.http import require_actor

AnyRequest = Request[Any, Any, Any]


class ActivityApi(Controller):
    path = "/api/v1"
    tags = ["activities"]  # noqa: RUF012

    @get("/kinds")
    async def list_kinds(self, request: AnyRequest) -> list[KindOut]:
        """The registered activity kinds, their labels and what each offers."""
        require_actor(request)
        return activities.kinds_offered()

    @post("/activities")
    async def create_activity(self, request: AnyRequest, data: JSONBody[ActivityIn]) -> ActivityOut:
        return await activities.create_activity(require_actor(request), data)

    @get("/activities")
    async def list_activities(
        self,
        request: AnyRequest,
        kind: FromQuery[str | None] = None,
        date_from: FromQuery[datetime | None] = None,
        date_to: FromQuery[datetime | None] = None,
    ) -> list[ActivityOut]:
        return await activities.list_activities(
            require_actor(request), kind=kind, date_from=date_from, date_to=date_to
        )

    @get("/activities/{activity_id:int}")
    async def get_activity(self, request: AnyRequest, activity_id: FromPath[int]) -> ActivityOut:
        return await activities.get_activity(require_actor(request), activity_id)

    @put("/activities/{activity_id:int}")
    async def update_activity(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[ActivityIn]
    ) -> ActivityOut:
        return await activities.update_activity(require_actor(request), activity_id, data)

    @post("/activities/{activity_id:int}/publish", status_code=200)
    async def publish(self, request: AnyRequest, activity_id: FromPath[int]) -> ActivityOut:
        return await activities.publish(require_actor(request), activity_id)

    @post("/activities/{activity_id:int}/close", status_code=200)
    async def close(self, request: AnyRequest, activity_id: FromPath[int]) -> ActivityOut:
        return await activities.close(require_actor(request), activity_id)

    @post("/activities/{activity_id:int}/cancel", status_code=200)
    async def cancel(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[CancelIn]
    ) -> ActivityOut:
        return await activities.cancel(require_actor(request), activity_id, data.reason)

    @put("/activities/{activity_id:int}/capacity")
    async def capacity(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[CapacityIn]
    ) -> ActivityOut:
        return await activities.set_capacity(require_actor(request), activity_id, data.capacity)

    @get("/activities/{activity_id:int}/registrations")
    async def roster(self, request: AnyRequest, activity_id: FromPath[int]) -> list[RosterEntry]:
        return await activities.roster(require_actor(request), activity_id)

    @post(
        "/activities/{activity_id:int}/registrations",
        responses={
            200: ResponseSpec(
                data_container=RegistrationOut,
                description="Already registered: the registration there is",
                generate_examples=False,
            )
        },
    )
    async def register(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Response[RegistrationOut]:
        registration, created = await activities.register(require_actor(request), activity_id)
        return Response(registration, status_code=201 if created else 200)

    @get("/registrations/{registration_id:int}")
    async def registration(
        self, request: AnyRequest, registration_id: FromPath[int]
    ) -> RegistrationOut:
        return await activities.get_registration(require_actor(request), registration_id)

    @delete("/registrations/{registration_id:int}", status_code=200)
    async def cancel_registration(
        self, request: AnyRequest, registration_id: FromPath[int]
    ) -> CancelledOut:
        done = await activities.cancel_registration(require_actor(request), registration_id)
        return CancelledOut(id=done.id, status=done.status)

    @get("/me/registrations")
    async def mine(self, request: AnyRequest) -> list[MyRegistrationOut]:
        return await activities.my_registrations(require_actor(request))


ROUTES = [ActivityApi]
