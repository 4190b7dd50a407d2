"""Door pages: the scanner for staff on a phone, and the organiser's door setup."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service.activities.schemas import REGISTRATION_STATUS_LABELS
from service.checkin import services as checkin
from service.checkin.schemas import (
    RESULT_COLOURS,
    RESULT_LABELS,
    RESULTS,
    CheckinOut,
    DoorSettingsIn,
)
from service.errors import DomainError
from service.http import form_error, page, parse_optional_local, require_actor
from service.i18n import gettext

AnyRequest = Request[Any, Any, Any]


class CheckinPages(Controller):
    include_in_schema = False

    @get("/door")
    async def doors(self, request: AnyRequest) -> Template:
        activities = await checkin.scannable_activities(require_actor(request))
        return page(request, "checkin/doors.html", activities=activities)

    @get("/door/{activity_id:int}")
    async def scanner(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        return await self._scanner(request, activity_id)

    async def _scanner(
        self, request: AnyRequest, activity_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        state = await checkin.door_state(require_actor(request), activity_id)
        return page(
            request,
            "checkin/scanner.html",
            status_code=status_code,
            door=state,
            result_labels={code: gettext(RESULT_LABELS[code]) for code in RESULTS},
            result_colours={code: RESULT_COLOURS.get(code, "red") for code in RESULTS},
            statuses={code: gettext(text) for code, text in REGISTRATION_STATUS_LABELS.items()},
            **context,
        )

    # --- the door without its script (JavaScript off, or not loaded yet) -------------------
    # The same forms post here and the verdict comes back as a page: a door without its
    # script still admits, and no ticket code or phone number ever travels in a URL.

    @post("/door/{activity_id:int}/check")
    async def check_typed_code(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        form = await request.form()
        gate = str(form.get("gate", ""))
        return await self._verdict_page(
            request,
            activity_id,
            gate,
            checkin.check_in(
                require_actor(request), activity_id, str(form.get("code", "")), gate=gate
            ),
        )

    @post("/door/{activity_id:int}/look-up")
    async def look_up(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        form = await request.form()
        query = str(form.get("q", ""))
        found = await checkin.search(require_actor(request), activity_id, query)
        return await self._scanner(
            request, activity_id, found=found, query=query, gate=str(form.get("gate", ""))
        )

    @post("/door/{activity_id:int}/admit/{registration_id:int}")
    async def admit(
        self, request: AnyRequest, activity_id: FromPath[int], registration_id: FromPath[int]
    ) -> Template:
        form = await request.form()
        gate = str(form.get("gate", ""))
        return await self._verdict_page(
            request,
            activity_id,
            gate,
            checkin.admit_registration(
                require_actor(request), activity_id, registration_id, gate=gate
            ),
        )

    @post("/door/{activity_id:int}/walk-in")
    async def admit_walk_in(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        form = await request.form()
        gate = str(form.get("gate", ""))
        return await self._verdict_page(
            request,
            activity_id,
            gate,
            checkin.walk_in(
                require_actor(request),
                activity_id,
                str(form.get("phone", "")),
                str(form.get("name", "")),
                gate=gate,
            ),
        )

    async def _verdict_page(
        self, request: AnyRequest, activity_id: int, gate: str, deciding: Awaitable[CheckinOut]
    ) -> Template:
        """The scanner page with the verdict, or with the refusal beside the form."""
        try:
            verdict = await deciding
        except DomainError as error:
            if error.code in {"forbidden", "not_found", "not_signed_in"}:
                raise
            return await self._scanner(
                request, activity_id, error.status_code, gate=gate, **form_error(error)
            )
        return await self._scanner(request, activity_id, verdict=verdict, gate=gate)

    # --- organisers: door setup -----------------------------------------------------------

    async def _setup(
        self, request: AnyRequest, activity_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        return page(
            request,
            "checkin/setup.html",
            status_code=status_code,
            door=await checkin.door_settings(actor, activity_id),
            staff=await checkin.door_staff(actor, activity_id),
            **context,
        )

    @get("/organise/activities/{activity_id:int}/door")
    async def setup(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        return await self._setup(request, activity_id)

    @post("/organise/activities/{activity_id:int}/door")
    async def save_setup(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        try:
            settings = DoorSettingsIn(
                opens_at=parse_optional_local(str(form.get("opens_at", "")), "opens_at"),
                closes_at=parse_optional_local(str(form.get("closes_at", "")), "closes_at"),
                walk_ins_over_capacity=form.get("walk_ins_over_capacity") == "on",
                gates=str(form.get("gates", "")).splitlines(),
            )
            await checkin.update_settings(require_actor(request), activity_id, settings)
        except DomainError as error:
            return await self._setup(request, activity_id, 400, **form_error(error))
        return Redirect(f"/organise/activities/{activity_id}/door?saved=1")

    @post("/organise/activities/{activity_id:int}/door/staff")
    async def add_staff(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        try:
            await checkin.assign_staff(
                require_actor(request), activity_id, str(form.get("phone", ""))
            )
        except DomainError as error:
            return await self._setup(request, activity_id, 400, **form_error(error))
        return Redirect(f"/organise/activities/{activity_id}/door")

    @post("/organise/activities/{activity_id:int}/door/staff/{member_id:int}/remove")
    async def remove_staff(
        self, request: AnyRequest, activity_id: FromPath[int], member_id: FromPath[int]
    ) -> Redirect:
        await checkin.remove_staff(require_actor(request), activity_id, member_id)
        return Redirect(f"/organise/activities/{activity_id}/door")


ROUTES = [CheckinPages]
