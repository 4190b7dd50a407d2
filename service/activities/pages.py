"""Activity pages: the worker's list, activity page and "my activities"; the organiser's
create / edit / publish / close / cancel / duplicate / capacity / roster pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from service import clock, kinds
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.errors import DomainError, Forbidden
from service.http import (
    form_error,
    local_input,
    page,
    parse_day,
    parse_local,
    parse_optional_local,
    require_actor,
)
from service.orgs import services as orgs
from service.orgs.schemas import WORKER_GROUPS
from service.reminders.policy import REMINDER_KINDS

AnyRequest = Request[Any, Any, Any]


def parse_places(raw: str) -> int | None:
    """A capacity field: empty means unlimited (the service decides if that is allowed)."""
    raw = raw.strip()
    if not raw:
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 9:
        raise DomainError(
            "validation_error", "Give the number of places as a whole number.", field="capacity"
        )
    return int(raw)


def parse_schedule(form: Any) -> dict[str, int | None]:
    """The reminder form: minutes before the start per reminder; empty means off."""
    schedule: dict[str, int | None] = {}
    for kind in REMINDER_KINDS:
        raw = str(form.get(kind, "")).strip()
        if not raw:
            schedule[kind] = None
            continue
        if not raw.lstrip("-").isdigit() or len(raw) > 9:
            raise DomainError("validation_error", "Give the minutes as a whole number.", field=kind)
        schedule[kind] = int(raw)
    return schedule


def activity_from_form(form: Any) -> ActivityIn:
    return ActivityIn(
        kind=str(form.get("kind", "")),
        title=str(form.get("title", "")),
        starts_at=parse_local(str(form.get("starts_at", "")), "starts_at"),
        ends_at=parse_local(str(form.get("ends_at", "")), "ends_at"),
        capacity=parse_places(str(form.get("capacity", ""))),
        description=str(form.get("description", "")),
        venue=VenueIn(
            name=str(form.get("venue_name", "")), address=str(form.get("venue_address", ""))
        ),
        online_url=str(form.get("online_url", "")),
        registration_opens_at=parse_optional_local(
            str(form.get("registration_opens_at", "")), "registration_opens_at"
        ),
        registration_closes_at=parse_optional_local(
            str(form.get("registration_closes_at", "")), "registration_closes_at"
        ),
        owner=str(form.get("owner", "")) or None,
        eligible_nodes=[str(code) for code in form.getall("eligible_nodes", []) if code],
        eligible_groups=[str(group) for group in form.getall("eligible_groups", []) if group],
        campaign=str(form.get("campaign", "")),
        details=details_from_form(form),
    )


DETAILS_PREFIX = "details."
MAX_DETAIL_FIELDS = 50


def details_from_form(form: Any) -> dict[str, Any] | None:
    """A kind's form partial names its fields `details.<name>`: they become the details
    object its room validates (a field given several times becomes a list)."""
    names = [key for key in dict.fromkeys(form.keys()) if str(key).startswith(DETAILS_PREFIX)]
    if not names:
        return None
    if len(names) > MAX_DETAIL_FIELDS:
        raise DomainError("validation_error", "This form has too many fields.", field="details")
    details: dict[str, Any] = {}
    for key in names:
        given = [str(value) for value in form.getall(key, [])]
        details[str(key)[len(DETAILS_PREFIX) :]] = given[0] if len(given) == 1 else given
    return details


class ActivityPages(Controller):
    include_in_schema = False

    # --- workers ------------------------------------------------------------------------

    @get("/")
    async def home(
        self,
        request: AnyRequest,
        kind: FromQuery[str | None] = None,
        day: FromQuery[str | None] = None,
    ) -> Template:
        actor = require_actor(request)
        kind = kind if kinds.find(kind) else None
        try:
            date_from = parse_day(day, "day")
        except DomainError:
            date_from = None
        found = await activities.list_activities(actor, kind=kind, date_from=date_from)
        if actor.has("organiser", "admin"):
            found = [item for item in found if item.status == "published"]
        places = await activities.my_places(actor, [item.id for item in found])
        return page(
            request,
            "activities/list.html",
            partials={"activity-list": "activity_list"},
            activities=found,
            places=places,
            kind=kind,
            day=day or "",
            kinds=kinds.codes(),
        )

    @get("/activities/{activity_id:int}")
    async def detail(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        actor = require_actor(request)
        activity = await activities.get_activity(actor, activity_id)
        mine = await activities.my_registration(actor, activity_id)
        return page(
            request,
            "activities/detail.html",
            activity=activity,
            kind_view=await kinds.detail_view(activity.kind, actor, activity_id),
            registration=mine,
            now=clock.now(),
            just_cancelled=request.query_params.get("cancelled") == "1"
            and mine is not None
            and mine.status == "cancelled",
            just_signed_up=request.query_params.get("signed_up") == "1",
        )

    @post("/activities/{activity_id:int}/signup")
    async def signup(self, request: AnyRequest, activity_id: FromPath[int]) -> Template | Redirect:
        actor = require_actor(request)
        try:
            await activities.register(actor, activity_id)
        except DomainError as error:
            if error.code in {"not_found", "not_signed_in"}:
                raise
            activity = await activities.get_activity(actor, activity_id)
            return page(
                request,
                "activities/detail.html",
                status_code=error.status_code,
                activity=activity,
                kind_view=await kinds.detail_view(activity.kind, actor, activity_id),
                registration=None,
                now=clock.now(),
                **form_error(error),
            )
        return Redirect(f"/activities/{activity_id}?signed_up=1")

    @get("/registrations/{registration_id:int}/cancel")
    async def confirm_cancel_registration(
        self, request: AnyRequest, registration_id: FromPath[int], back: FromQuery[str] = ""
    ) -> Template:
        """Asks first (a cancelled place cannot be taken back): what will happen, then one
        button that posts with confirm=yes. Works without JavaScript."""
        return await self._confirm_cancel(request, registration_id, back)

    @post("/registrations/{registration_id:int}/cancel")
    async def cancel_registration(
        self, request: AnyRequest, registration_id: FromPath[int]
    ) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        back = "manage" if form.get("back") == "manage" else ""
        if form.get("confirm") != "yes":
            # A post that did not come from the confirmation page asks first too.
            return await self._confirm_cancel(request, registration_id, back)
        done = await activities.cancel_registration(actor, registration_id)
        if back == "manage":
            return Redirect(f"/organise/activities/{done.activity_id}?removed=1")
        return Redirect(f"/activities/{done.activity_id}?cancelled=1")

    async def _confirm_cancel(
        self, request: AnyRequest, registration_id: int, back: str
    ) -> Template:
        actor = require_actor(request)
        registration = await activities.get_registration(actor, registration_id)
        activity = await activities.get_activity(actor, registration.activity_id)
        return page(
            request,
            "activities/confirm_cancel_place.html",
            registration=registration,
            activity=activity,
            back="manage" if back == "manage" else "",
        )

    @get("/me/activities")
    async def mine(self, request: AnyRequest) -> Template:
        actor = require_actor(request)
        items = await activities.my_registrations(actor)
        now = clock.now()
        upcoming = [item for item in items if item.activity.ends_at >= now]
        past = [item for item in items if item.activity.ends_at < now][::-1]
        return page(request, "activities/mine.html", upcoming=upcoming, past=past)

    # --- organisers ---------------------------------------------------------------------

    @get("/organise/activities")
    async def manage_list(self, request: AnyRequest) -> Template:
        actor = require_actor(request)
        if not actor.has("organiser", "admin"):
            raise Forbidden()
        found = await activities.list_activities(actor, include_past=True)
        return page(request, "activities/manage_list.html", activities=found[::-1])

    @get("/organise/activities/new")
    async def new(self, request: AnyRequest, kind: FromQuery[str | None] = None) -> Template:
        """The form for one kind (chosen by link, so it works without JavaScript): its
        fields, places or not, and its own partial."""
        actor = require_actor(request)
        if not actor.has("organiser", "admin"):
            raise Forbidden()
        chosen = kinds.find(kind) or kinds.all_kinds()[0]
        start = (clock.now() + timedelta(days=7)).replace(hour=1, minute=0)
        return await self._form(
            request,
            None,
            {
                "kind": chosen.code,
                "starts_at": local_input(start),
                "ends_at": local_input(start + timedelta(hours=3)),
                "capacity": "100" if chosen.places else "",
            },
        )

    @post("/organise/activities")
    async def create(self, request: AnyRequest) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        try:
            created = await activities.create_activity(actor, activity_from_form(form))
        except DomainError as error:
            if error.code in {"forbidden"}:
                raise
            return await self._form(
                request, None, _echo(form), status_code=error.status_code, **form_error(error)
            )
        return Redirect(f"/organise/activities/{created.id}")

    @get("/organise/activities/{activity_id:int}")
    async def manage(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        return await self._manage(request, activity_id)

    @get("/organise/activities/{activity_id:int}/edit")
    async def edit(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        actor = require_actor(request)
        activity = await activities.get_activity(actor, activity_id)
        await activities.roster(actor, activity_id)  # scope check: organisers of this node
        values = {
            "kind": activity.kind,
            "title": activity.title,
            "description": activity.description,
            "venue_name": activity.venue_name,
            "venue_address": activity.venue_address,
            "online_url": activity.online_url,
            "campaign": activity.campaign,
            "starts_at": local_input(activity.starts_at),
            "ends_at": local_input(activity.ends_at),
            "capacity": "" if activity.capacity is None else str(activity.capacity),
            "registration_opens_at": local_input(activity.registration_opens_at),
            "registration_closes_at": local_input(activity.registration_closes_at),
            "owner": activity.owner_code,
            "eligible_nodes": activity.eligible_nodes,
            "eligible_groups": activity.eligible_groups,
        }
        return await self._form(request, activity, values)

    @post("/organise/activities/{activity_id:int}/edit")
    async def save(self, request: AnyRequest, activity_id: FromPath[int]) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        try:
            await activities.update_activity(actor, activity_id, activity_from_form(form))
        except DomainError as error:
            if error.code in {"forbidden", "not_found"}:
                raise
            activity = await activities.get_activity(actor, activity_id)
            return await self._form(
                request, activity, _echo(form), status_code=error.status_code, **form_error(error)
            )
        return Redirect(f"/organise/activities/{activity_id}")

    @post("/organise/activities/{activity_id:int}/{action:str}")
    async def act(
        self, request: AnyRequest, activity_id: FromPath[int], action: FromPath[str]
    ) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        try:
            if action == "publish":
                await activities.publish(actor, activity_id)
            elif action == "close":
                await activities.close(actor, activity_id)
            elif action == "cancel":
                reason = str(form.get("reason", ""))
                if form.get("confirm") != "yes":
                    return await self._confirm_cancel_activity(request, activity_id, reason)
                await activities.cancel(actor, activity_id, reason)
            elif action == "capacity":
                places = parse_places(str(form.get("capacity", "")))
                if places is None:
                    raise DomainError(
                        "validation_error", "Give the number of places.", field="capacity"
                    )
                await activities.set_capacity(actor, activity_id, places)
            elif action == "reminders":
                schedule = None if form.get("reset") else parse_schedule(form)
                await activities.set_schedule(actor, activity_id, schedule)
                return Redirect(f"/organise/activities/{activity_id}?reminders=saved#reminders")
            elif action == "duplicate":
                copy = await activities.duplicate(actor, activity_id)
                return Redirect(f"/organise/activities/{copy.id}/edit")
            else:
                raise NotFoundException()
        except DomainError as error:
            if error.code in {"forbidden", "not_found"}:
                raise
            return await self._manage(
                request, activity_id, status_code=error.status_code, **form_error(error)
            )
        return Redirect(f"/organise/activities/{activity_id}")

    @post("/organise/registrations/{registration_id:int}/promote")
    async def promote(self, request: AnyRequest, registration_id: FromPath[int]) -> Redirect:
        actor = require_actor(request)
        done = await activities.promote_by_hand(actor, registration_id)
        return Redirect(f"/organise/activities/{done.activity_id}")

    async def _confirm_cancel_activity(
        self, request: AnyRequest, activity_id: int, reason: str
    ) -> Template:
        """Before an activity is cancelled: how many people will be told, and the reason
        they will read; the reason is checked first, so the page never confirms a refusal."""
        actor = require_actor(request)
        activities.check_cancel_reason(reason)
        roster = await activities.roster(actor, activity_id)
        return page(
            request,
            "activities/confirm_cancel_activity.html",
            activity=await activities.get_activity(actor, activity_id),
            reason=reason.strip(),
            told=sum(1 for entry in roster if entry.status in ("confirmed", "waitlisted")),
        )

    async def _manage(
        self, request: AnyRequest, activity_id: int, status_code: int = 200, **extra: Any
    ) -> Template:
        actor = require_actor(request)
        roster = await activities.roster(actor, activity_id)
        activity = await activities.get_activity(actor, activity_id)
        return page(
            request,
            "activities/manage.html",
            status_code=status_code,
            activity=activity,
            roster=roster,
            reminder_schedule=await activities.reminder_schedule(actor, activity_id),
            reminder_kinds=REMINDER_KINDS,
            reminders_saved=request.query_params.get("reminders") == "saved",
            now=clock.now(),
            **extra,
        )

    async def _form(
        self,
        request: AnyRequest,
        activity: Any,
        values: dict[str, Any],
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        actor = require_actor(request)
        return page(
            request,
            "activities/form.html",
            status_code=status_code,
            activity=activity,
            values=values,
            kinds=kinds.codes(),
            groups=WORKER_GROUPS,
            nodes=await orgs.list_nodes(actor.node_path),
            campaigns=await activities.campaigns(actor),
            **extra,
        )


def _echo(form: Any) -> dict[str, Any]:
    """What the organiser typed, cut to size, to refill the form after an error."""
    values: dict[str, Any] = {
        key: str(form.get(key, ""))[:5000]
        for key in (
            "kind",
            "title",
            "description",
            "venue_name",
            "venue_address",
            "online_url",
            "campaign",
            "starts_at",
            "ends_at",
            "capacity",
            "registration_opens_at",
            "registration_closes_at",
            "owner",
        )
    }
    values["eligible_nodes"] = [str(code)[:32] for code in form.getall("eligible_nodes", [])]
    values["eligible_groups"] = [str(g)[:20] for g in form.getall("eligible_groups", [])]
    # The kind's own fields as typed, for its form partial to refill (e.g. a rundown).
    values["details"] = {
        str(key)[len(DETAILS_PREFIX) :]: str(form.get(key, ""))[:8000]
        for key in list(dict.fromkeys(form.keys()))[:MAX_DETAIL_FIELDS]
        if str(key).startswith(DETAILS_PREFIX)
    }
    return values


ROUTES = [ActivityPages]
