"""HTML pages of the livestream crew (thin): the organiser's crew and rota page (crew,
needs, blockouts, plan, swap requests), a crew member's duties (accept, decline, ask to
swap, blockouts, the private duty feed) and that feed itself. Every form works without
JavaScript; "My activities" loads the duties list inline with htmx, and links to it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service import clock
from service.errors import DomainError
from service.http import form_error, page, require_actor
from service.livestreams import feeds
from service.livestreams import services as livestreams
from service.livestreams.schemas import (
    DUTY_STATUS_LABELS,
    GROUP_LABELS,
    REASON_LABELS,
    ROLE_GROUPS,
    ROLE_LABELS,
    BlockoutIn,
    CrewIn,
    NeedIn,
)
from service.orgs import services as orgs

AnyRequest = Request[Any, Any, Any]
SHOWN_ROTA = 20
LABELS = {
    "role_labels": ROLE_LABELS,
    "group_labels": GROUP_LABELS,
    "reason_labels": REASON_LABELS,
    "duty_status_labels": DUTY_STATUS_LABELS,
}


INT_MAX = 2**31 - 1  # PostgreSQL's INTEGER: a larger number never reaches the database


def _int(raw: Any) -> int:
    try:
        number = int(str(raw).strip()[:12])
    except (TypeError, ValueError):
        return 0
    return number if -INT_MAX <= number <= INT_MAX else 0


def _day(form: Any, name: str, *, required: bool) -> date | None:
    raw = str(form.get(name, "")).strip()[:10]
    if not raw:
        if required:
            raise DomainError("validation_error", "Give a date.", field=name)
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise DomainError("validation_error", "Give a date.", field=name) from error


def _blockout_from(form: Any) -> BlockoutIn:
    starts_on = _day(form, "starts_on", required=True)
    assert starts_on is not None
    return BlockoutIn(
        starts_on=starts_on,
        ends_on=_day(form, "ends_on", required=False),
        weekly=bool(form.get("weekly")),
        reason=str(form.get("reason", ""))[:300],
    )


class CrewPages(Controller):
    include_in_schema = False

    # --- the organiser's crew and rota page ----------------------------------------------

    @get("/organise/livestreams/{channel_id:int}/crew")
    async def crew_page(self, request: AnyRequest, channel_id: FromPath[int]) -> Template:
        return await self._crew(request, channel_id)

    async def _crew(
        self, request: AnyRequest, channel_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        channel = await livestreams.managed_channel(actor, channel_id)
        crew = await livestreams.list_crew(channel_id)
        on_crew = {one.member_id for one in crew}
        candidates = await orgs.search_members(actor, node_code=channel.node_code, limit=100)
        names = {one.id: one.name for one in crew}
        return page(
            request,
            "livestreams/crew.html",
            status_code=status_code,
            channel=channel,
            crew=crew,
            names=names,
            candidates=[one for one in candidates.items if one.id not in on_crew],
            needs=await livestreams.role_needs(channel_id),
            blockouts=await livestreams.list_blockouts(channel_id),
            rota=(await livestreams.rota(channel_id, clock.now() - timedelta(hours=12)))[
                :SHOWN_ROTA
            ],
            swaps=await livestreams.swap_requests(actor, channel_id),
            role_groups=ROLE_GROUPS,
            saved=request.query_params.get("saved", "")[:20],
            **LABELS,
            **context,
        )

    async def _after(
        self, request: AnyRequest, channel_id: int, error: DomainError | None, saved: str
    ) -> Template | Redirect:
        if error is None:
            return Redirect(f"/organise/livestreams/{channel_id}/crew?saved={saved}")
        if error.code in ("forbidden", "not_signed_in", "not_found"):
            raise error
        return await self._crew(request, channel_id, error.status_code, **form_error(error))

    @post("/organise/livestreams/{channel_id:int}/crew")
    async def add_crew(self, request: AnyRequest, channel_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await livestreams.add_crew(
                require_actor(request),
                channel_id,
                CrewIn(
                    member_id=_int(form.get("member_id")),
                    role=str(form.get("role", ""))[:20],
                    department=str(form.get("department", ""))[:100],
                ),
            )
        except DomainError as error:
            return await self._after(request, channel_id, error, "")
        return await self._after(request, channel_id, None, "crew")

    @post("/organise/livestreams/{channel_id:int}/crew/{crew_id:int}/remove")
    async def remove_crew(
        self, request: AnyRequest, channel_id: FromPath[int], crew_id: FromPath[int]
    ) -> Template | Redirect:
        try:
            await livestreams.remove_crew(require_actor(request), crew_id)
        except DomainError as error:
            return await self._after(request, channel_id, error, "")
        return await self._after(request, channel_id, None, "removed")

    @post("/organise/livestreams/{channel_id:int}/needs")
    async def set_needs(
        self, request: AnyRequest, channel_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        actor = require_actor(request)
        try:
            for role in ROLE_LABELS:
                if f"need_{role}" in form:
                    await livestreams.set_need(
                        actor, channel_id, NeedIn(role=role, needed=_int(form.get(f"need_{role}")))
                    )
        except DomainError as error:
            return await self._after(request, channel_id, error, "")
        return await self._after(request, channel_id, None, "needs")

    @post("/organise/livestreams/{channel_id:int}/blockouts")
    async def add_blockout(
        self, request: AnyRequest, channel_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        actor = require_actor(request)
        try:
            crew_id = _int(form.get("crew_id"))
            if crew_id not in {one.id for one in await livestreams.list_crew(channel_id)}:
                raise DomainError("validation_error", "Choose from the list.", field="crew_id")
            await livestreams.add_blockout(actor, crew_id, _blockout_from(form))
        except DomainError as error:
            return await self._after(request, channel_id, error, "")
        return await self._after(request, channel_id, None, "blockout")

    @post("/organise/livestreams/{channel_id:int}/blockouts/{blockout_id:int}/remove")
    async def remove_blockout(
        self, request: AnyRequest, channel_id: FromPath[int], blockout_id: FromPath[int]
    ) -> Template | Redirect:
        try:
            await livestreams.remove_blockout(require_actor(request), blockout_id)
        except DomainError as error:
            return await self._after(request, channel_id, error, "")
        return await self._after(request, channel_id, None, "blockout")

    @post("/organise/livestreams/{channel_id:int}/rota")
    async def plan(self, request: AnyRequest, channel_id: FromPath[int]) -> Template | Redirect:
        try:
            await livestreams.plan_rota(require_actor(request), channel_id)
        except DomainError as error:
            return await self._after(request, channel_id, error, "")
        return await self._after(request, channel_id, None, "planned")

    @post("/organise/livestreams/{channel_id:int}/swaps/{duty_id:int}/{decision:str}")
    async def decide_swap(
        self,
        request: AnyRequest,
        channel_id: FromPath[int],
        duty_id: FromPath[int],
        decision: FromPath[str],
    ) -> Template | Redirect:
        if decision not in ("approve", "refuse"):
            raise DomainError("not_found", "Not found.")
        try:
            await livestreams.decide_swap(
                require_actor(request), duty_id, approve=decision == "approve"
            )
        except DomainError as error:
            return await self._after(request, channel_id, error, "")
        return await self._after(request, channel_id, None, "swap")

    # --- a crew member's duties ----------------------------------------------------------

    @get("/livestreams/me/duties")
    async def my_duties(self, request: AnyRequest) -> Template:
        return await self._mine(request)

    async def _mine(self, request: AnyRequest, status_code: int = 200, **context: Any) -> Template:
        actor = require_actor(request)
        places = await livestreams.my_crew_places(actor)
        feeds_by_place = {
            place["id"]: await livestreams.duty_feed_token(actor, place["id"]) for place in places
        }
        return page(
            request,
            "livestreams/my_duties.html",
            status_code=status_code,
            partials={"my-duties": "duties"},
            # Loaded into "My activities": say nothing to someone on no crew.
            inline=request.headers.get("hx-target") == "my-duties",
            duties=await livestreams.my_duties(actor),
            places=places,
            feed_tokens=feeds_by_place,
            saved=request.query_params.get("saved", "")[:20],
            **LABELS,
            **context,
        )

    @post("/livestreams/me/duties/{duty_id:int}/{answer:str}")
    async def answer(
        self, request: AnyRequest, duty_id: FromPath[int], answer: FromPath[str]
    ) -> Template | Redirect:
        if answer not in ("accept", "decline"):
            raise DomainError("not_found", "Not found.")
        try:
            await livestreams.answer_duty(
                require_actor(request), duty_id, accept=answer == "accept"
            )
        except DomainError as error:
            if error.code in ("forbidden", "not_signed_in", "not_found"):
                raise
            return await self._mine(request, error.status_code, **form_error(error))
        return Redirect(f"/livestreams/me/duties?saved={answer}")

    @post("/livestreams/me/crew/{crew_id:int}/blockouts")
    async def my_blockout(self, request: AnyRequest, crew_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await livestreams.add_blockout(require_actor(request), crew_id, _blockout_from(form))
        except DomainError as error:
            if error.code in ("forbidden", "not_signed_in", "not_found"):
                raise
            return await self._mine(request, error.status_code, **form_error(error))
        return Redirect("/livestreams/me/duties?saved=blockout")

    @post("/livestreams/me/crew/{crew_id:int}/feed/revoke")
    async def revoke_feed(self, request: AnyRequest, crew_id: FromPath[int]) -> Redirect:
        await livestreams.revoke_duty_feed(require_actor(request), crew_id)
        return Redirect("/livestreams/me/duties?saved=feed")

    @get("/livestreams/me/duties/{duty_id:int}/swap")
    async def swap_page(self, request: AnyRequest, duty_id: FromPath[int]) -> Template:
        return await self._swap(request, duty_id)

    async def _swap(
        self, request: AnyRequest, duty_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        duty = next((d for d in await livestreams.my_duties(actor) if d.id == duty_id), None)
        if duty is None:
            raise DomainError("not_found", "There is no such duty.")
        return page(
            request,
            "livestreams/swap.html",
            status_code=status_code,
            duty=duty,
            colleagues=await livestreams.colleagues(actor, duty_id),
            **LABELS,
            **context,
        )

    @post("/livestreams/me/duties/{duty_id:int}/swap")
    async def ask_swap(self, request: AnyRequest, duty_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await livestreams.request_swap(
                require_actor(request), duty_id, _int(form.get("crew_id"))
            )
        except DomainError as error:
            if error.code in ("forbidden", "not_signed_in", "not_found"):
                raise
            return await self._swap(request, duty_id, error.status_code, **form_error(error))
        return Redirect("/livestreams/me/duties?saved=swap")

    # --- the private duty feed -----------------------------------------------------------

    @get("/calendar/duties/{file_name:str}")
    async def duty_feed(self, file_name: FromPath[str]) -> Response[bytes]:
        """One crew member's duties for calendar apps, at /calendar/duties/{token}.ics; a
        revoked link answers 404."""
        token = file_name.removesuffix(".ics")
        body = await feeds.duty_feed(token) if file_name.endswith(".ics") else None
        if body is None:
            raise DomainError("not_found", "This calendar link was revoked or never existed.")
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"},
        )
