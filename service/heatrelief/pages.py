"""Heat-relief pages: the organiser's campaign page (sites, teams, the plan), supplies and
their ledger, and a team member's "today's deliveries" with a form to record one. Every
form works without JavaScript."""

from __future__ import annotations

import re
import uuid
from typing import Any, TypeVar

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import File, Redirect, Template

from service import clock
from service.activities import services as activities
from service.errors import DomainError
from service.heatrelief import services as relief
from service.heatrelief.hooks import detail_view
from service.heatrelief.schemas import (
    MANUAL_REASONS,
    POSTER_REFUSALS,
    REASON_LABELS,
    RESULT_LABELS,
    SITE_KIND_LABELS,
    SITE_KINDS,
    STATUS_LABELS,
    AcknowledgementIn,
    DeliveryIn,
    DeliveryScanIn,
    ItemIn,
    MovementIn,
    SiteIn,
    TeamIn,
)
from service.http import form_error, page, require_actor
from service.i18n import gettext
from service.orgs import services as orgs
from service.orgs.schemas import GROUP_LABELS, WORKER_GROUPS
from service.tickets import services as tickets

AnyRequest = Request[Any, Any, Any]
S = TypeVar("S", bound=msgspec.Struct)
FIELD_IN_ERROR = re.compile(r"\$\.(\w+)")


def from_form(cls: type[S], values: dict[str, Any]) -> S:
    """A form's fields as the API's Struct; a field msgspec refuses becomes a form error."""
    try:
        return msgspec.convert(values, cls, strict=False)
    except msgspec.ValidationError as error:
        match = FIELD_IN_ERROR.search(str(error))
        raise DomainError(
            "validation_error",
            "Check this field: it is empty, too long or not a number.",
            field=match.group(1) if match else None,
        ) from None


def _optional(form: Any, name: str) -> str | None:
    value = str(form.get(name, "")).strip()
    return value or None


def _counts(form: Any, prefix: str) -> dict[str, Any]:
    """Fields named `<prefix><key>` with a value: {key: value} (empty fields left out)."""
    return {
        str(key)[len(prefix) :]: str(value).strip()
        for key, value in form.items()
        if str(key).startswith(prefix) and str(value).strip()
    }


def labels() -> dict[str, Any]:
    return {
        "site_kind_labels": {code: gettext(SITE_KIND_LABELS[code]) for code in SITE_KINDS},
        "status_labels": {code: gettext(text) for code, text in STATUS_LABELS.items()},
        "reason_labels": {code: gettext(text) for code, text in REASON_LABELS.items()},
        "group_labels": {code: gettext(GROUP_LABELS[code]) for code in WORKER_GROUPS},
    }


def _int_or_none(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


class HeatReliefPages(Controller):
    include_in_schema = False

    # --- the organiser's campaign page ----------------------------------------------------

    async def _campaign(
        self, request: AnyRequest, activity_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        sites = await relief.list_sites(actor, activity_id)
        return page(
            request,
            "heatrelief/campaign.html",
            status_code=status_code,
            activity_id=activity_id,
            sites=sites,
            teams=await relief.list_teams(actor, activity_id),
            deliveries=(deliveries := await relief.list_deliveries(actor, activity_id)),
            photos=await relief.deliveries_with_photos([d.id for d in deliveries]),
            items=await relief.list_items(actor),
            flagged=await relief.flagged_scans(actor, activity_id),
            nodes=await orgs.list_nodes(actor.node_path),
            today=clock.now().astimezone(_zone()).date(),
            saved=request.query_params.get("saved"),
            **labels(),
            **context,
        )

    @get("/organise/activities/{activity_id:int}/heat-relief")
    async def campaign(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        return await self._campaign(request, activity_id)

    @post("/organise/activities/{activity_id:int}/heat-relief/sites")
    async def add_site(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        try:
            values = {
                key: str(form.get(key, "")).strip()
                for key in (
                    "name",
                    "kind",
                    "node",
                    "district",
                    "address",
                    "contact_name",
                    "contact_phone",
                    "notes",
                )
            }
            for key in ("latitude", "longitude", "head_count"):
                if _optional(form, key) is not None:
                    values[key] = _optional(form, key)
            data = from_form(SiteIn, values)
            await relief.create_site(require_actor(request), activity_id, data)
        except DomainError as error:
            return await self._campaign(
                request, activity_id, error.status_code, site_form=dict(form), **form_error(error)
            )
        return Redirect(f"/organise/activities/{activity_id}/heat-relief?saved=site#sites")

    @post("/organise/activities/{activity_id:int}/heat-relief/teams")
    async def add_team(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        try:
            phones = [line for line in str(form.get("phones", "")).split() if line.strip()]
            data = from_form(
                TeamIn, {"name": str(form.get("name", "")).strip(), "member_phones": phones}
            )
            await relief.create_team(require_actor(request), activity_id, data)
        except DomainError as error:
            if error.field == "name":
                error.field = "team_name"
            return await self._campaign(
                request, activity_id, error.status_code, **form_error(error)
            )
        return Redirect(f"/organise/activities/{activity_id}/heat-relief?saved=team#teams")

    @post("/organise/heat-relief/teams/{team_id:int}/members")
    async def add_team_member(self, request: AnyRequest, team_id: FromPath[int]) -> Redirect:
        form = await request.form()
        team = await relief.add_team_member(
            require_actor(request), team_id, str(form.get("phone", ""))
        )
        return Redirect(f"/organise/activities/{team.activity_id}/heat-relief?saved=team#teams")

    @post("/organise/activities/{activity_id:int}/heat-relief/deliveries")
    async def plan(self, request: AnyRequest, activity_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            lines = [
                {"item_id": key, "quantity": value} for key, value in _counts(form, "qty.").items()
            ]
            data = from_form(
                DeliveryIn,
                {
                    "site_id": _optional(form, "site_id"),
                    "team_id": _optional(form, "team_id"),
                    "planned_date": _optional(form, "planned_date"),
                    "items": lines,
                },
            )
            await relief.plan_delivery(require_actor(request), activity_id, data)
        except DomainError as error:
            return await self._campaign(
                request, activity_id, error.status_code, **form_error(error)
            )
        return Redirect(f"/organise/activities/{activity_id}/heat-relief?saved=plan#plan")

    @get("/organise/activities/{activity_id:int}/posters")
    async def posters(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        """Print-styled A4 posters, one a page: every site, or `?site=<id>`."""
        raw = request.query_params.get("site", "")
        site_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
        actor = require_actor(request)
        activity = await activities.get_activity(actor, activity_id)
        return page(
            request,
            "heatrelief/posters.html",
            activity=activity,
            posters=[
                (site, code, svg.decode())
                for site, code, svg in await relief.posters(actor, activity_id, site_id)
            ],
            **labels(),
        )

    # --- supplies and the ledger ----------------------------------------------------------

    async def _supplies(
        self, request: AnyRequest, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        return page(
            request,
            "heatrelief/supplies.html",
            status_code=status_code,
            items=await relief.list_items(actor),
            teams=await relief.reachable_teams(actor),
            reasons=MANUAL_REASONS,
            **labels(),
            **context,
        )

    @get("/organise/supplies")
    async def supplies(self, request: AnyRequest) -> Template:
        return await self._supplies(request, count=request.query_params.get("count"))

    @post("/organise/supplies")
    async def add_supply(self, request: AnyRequest) -> Template | Redirect:
        form = await request.form()
        try:
            data = from_form(
                ItemIn,
                {"name": str(form.get("name", "")).strip(), "unit": str(form.get("unit", ""))},
            )
            await relief.create_item(require_actor(request), data)
        except DomainError as error:
            return await self._supplies(request, error.status_code, **form_error(error))
        return Redirect("/organise/supplies")

    @post("/organise/supplies/{item_id:int}/movements")
    async def move(self, request: AnyRequest, item_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            data = from_form(
                MovementIn,
                {
                    "reason": str(form.get("reason", "")),
                    "quantity": _optional(form, "quantity"),
                    "team_id": _optional(form, "team_id"),
                    "note": str(form.get("note", "")),
                },
            )
            moved = await relief.record_movement(require_actor(request), item_id, data)
        except DomainError as error:
            return await self._supplies(
                request, error.status_code, error_item=item_id, **form_error(error)
            )
        count = "" if moved.matches is None else ("&count=ok" if moved.matches else "&count=off")
        return Redirect(f"/organise/supplies?moved={item_id}{count}#item-{item_id}")

    @get("/organise/supplies/{item_id:int}")
    async def ledger(self, request: AnyRequest, item_id: FromPath[int]) -> Template:
        actor = require_actor(request)
        item = await relief.get_item(actor, item_id)
        return page(
            request,
            "heatrelief/ledger.html",
            item=item,
            rows=await relief.ledger(actor, item_id),
            team_names={b.team_id: b.team_name for b in item.balances},
            **labels(),
        )

    # --- a team member's day --------------------------------------------------------------

    async def _today(self, request: AnyRequest, status_code: int = 200, **context: Any) -> Template:
        actor = require_actor(request)
        deliveries = await relief.todays_deliveries(actor)
        return page(
            request,
            "heatrelief/today.html",
            status_code=status_code,
            deliveries=deliveries,
            photos=await relief.deliveries_with_photos([d.id for d in deliveries]),
            # What the phone needs to check a poster offline: the public keys, and a hash
            # of each site's short code (the code itself is for the poster, not the page).
            verify_keys=msgspec.to_builtins(tickets.keys().keys),
            code_hashes={d.site.id: d.site_code_hash for d in deliveries},
            refusals={code: gettext(RESULT_LABELS[code]) for code in POSTER_REFUSALS},
            new_client_id=uuid.uuid4().hex,
            groups=WORKER_GROUPS,
            **labels(),
            **context,
        )

    @get("/heat-relief/today")
    async def today(self, request: AnyRequest) -> Template:
        return await self._today(request)

    @post("/heat-relief/deliveries/{delivery_id:int}/record")
    async def record(self, request: AnyRequest, delivery_id: FromPath[int]) -> Template:
        form = await request.form()
        actor = require_actor(request)
        try:
            scan = from_form(
                DeliveryScanIn,
                {
                    "delivery_id": delivery_id,
                    "client_id": str(form.get("client_id", "")),
                    "recorded_at": clock.now(),
                    "quantities": _counts(form, "qty."),
                    "reached": _counts(form, "reached."),
                    "site_code": _optional(form, "site_code"),
                    "by_hand_reason": str(form.get("by_hand_reason", "")),
                },
            )
        except DomainError as error:
            return await self._today(
                request, error.status_code, error_delivery=delivery_id, **form_error(error)
            )
        result = await relief.record_delivery(actor, scan)
        return await self._today(
            request,
            200 if result.result == "delivered" else 409,
            result=result,
            ok=result.result == "delivered",
        )

    @post("/heat-relief/deliveries/{delivery_id:int}/out")
    async def set_out(self, request: AnyRequest, delivery_id: FromPath[int]) -> Redirect:
        await relief.set_out(require_actor(request), delivery_id)
        return Redirect(f"/heat-relief/today#d{delivery_id}")

    # Room for a 5 MB photo and the form around it; the service refuses anything over 5 MB
    # with its own message, Litestar anything over this.
    @post(
        "/heat-relief/deliveries/{delivery_id:int}/photo",
        request_max_body_size=relief.PHOTO_MAX_BYTES + 512 * 1024,
    )
    async def add_photo(
        self, request: AnyRequest, delivery_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        upload = form.get("photo")
        raw = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            await relief.attach_photo(require_actor(request), delivery_id, raw)
        except DomainError as error:
            if error.status_code in (400, 413):
                return await self._today(
                    request, error.status_code, error_delivery=delivery_id, **form_error(error)
                )
            raise
        return Redirect(f"/heat-relief/today#d{delivery_id}")

    @get("/heat-relief/deliveries/{delivery_id:int}/photo")
    async def photo(self, request: AnyRequest, delivery_id: FromPath[int]) -> File:
        path = await relief.photo_file(require_actor(request), delivery_id)
        return File(
            path=path,
            media_type="image/jpeg",
            content_disposition_type="inline",
            headers={"cache-control": "private, max-age=86400"},
        )

    @post("/heat-relief/deliveries/{delivery_id:int}/fail")
    async def fail(self, request: AnyRequest, delivery_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await relief.fail_delivery(
                require_actor(request), delivery_id, str(form.get("reason", ""))
            )
        except DomainError as error:
            return await self._today(
                request, error.status_code, error_delivery=delivery_id, **form_error(error)
            )
        return Redirect(f"/heat-relief/today#d{delivery_id}")

    # --- a worker's "received" at a site ---------------------------------------------------

    @post("/heat-relief/district")
    async def pick_district(self, request: AnyRequest) -> Template | Redirect:
        """The worker's district, to see its sites first; back to the campaign's page."""
        form = await request.form()
        actor = require_actor(request)
        activity_id = _int_or_none(form.get("activity_id"))
        try:
            await relief.pick_district(actor, str(form.get("district", ""))[:200])
        except DomainError as error:
            if activity_id is None:
                raise
            # The campaign's page again, the message beside the list of districts.
            return page(
                request,
                "activities/detail.html",
                status_code=error.status_code,
                activity=await activities.get_activity(actor, activity_id),
                kind_view=await detail_view(actor, activity_id),
                registration=None,
                now=clock.now(),
                **form_error(error),
            )
        return Redirect(f"/activities/{activity_id}#heat-relief" if activity_id else "/activities")

    @get("/heat-relief/received")
    async def received_form(self, request: AnyRequest) -> Template:
        require_actor(request)
        code = request.query_params.get("code", "")[:200]
        return page(request, "heatrelief/received.html", code=code)

    @post("/heat-relief/received")
    async def received(self, request: AnyRequest) -> Template:
        form = await request.form()
        try:
            data = from_form(AcknowledgementIn, {"code": str(form.get("code", "")).strip()})
        except DomainError as error:
            error.field = "code"
            return page(
                request,
                "heatrelief/received.html",
                status_code=error.status_code,
                **form_error(error),
            )
        answer = await relief.acknowledge(require_actor(request), data)
        ok = answer.result in ("received", "already_received")
        return page(
            request,
            "heatrelief/received.html",
            status_code=200 if ok else 422,
            answer=answer,
            ok=ok,
            code="" if ok else data.code,
        )


def _zone() -> Any:
    from service.settings import get_settings

    return get_settings().zone


ROUTES = [HeatReliefPages]
