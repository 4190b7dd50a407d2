"""Job-fair pages: the organiser's fair setup (employers, booths, postings, booth staff,
the employer invite link), the worker's job list with search, bookmarks and the
phone-sharing consent, the booth page where staff record stages and count materials, the
worker's visited booths, and the page where an invited company enters itself."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from service import clock
from service.activities import services as activities
from service.errors import DomainError
from service.http import client_ip, form_error, is_https, page, require_actor, safe_next
from service.jobfairs import invites
from service.jobfairs import services as jobfairs
from service.jobfairs.api import DEVICE_COOKIE
from service.jobfairs.schemas import (
    POSTING_STATUS_LABELS,
    POSTING_STATUSES,
    SCAN_RESULT_LABELS,
    STAGE_LABELS,
    STAGES,
    BoothIn,
    EmployerIn,
    EmployerJoinIn,
    PostingIn,
)
from service.orgs.schemas import GROUP_LABELS, WORKER_GROUPS

AnyRequest = Request[Any, Any, Any]


def _int(raw: Any, field: str) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        raise DomainError("validation_error", "Enter a whole number.", field=field) from None


def _optional_int(raw: Any, field: str) -> int | None:
    return None if raw in (None, "") else _int(raw, field)


def _labels() -> dict[str, Any]:
    return {
        "stage_labels": STAGE_LABELS,
        "stages": STAGES,
        "group_labels": GROUP_LABELS,
        "worker_groups": WORKER_GROUPS,
        "posting_statuses": POSTING_STATUSES,
        "posting_status_labels": POSTING_STATUS_LABELS,
        "scan_result_labels": SCAN_RESULT_LABELS,
    }


def _posting_in(form: Any) -> PostingIn:
    return PostingIn(
        employer_id=_int(form.get("employer_id", ""), "employer_id"),
        title=str(form.get("title", "")),
        headcount=_int(form.get("headcount", ""), "headcount"),
        pay_min=_int(form.get("pay_min", ""), "pay_min"),
        pay_max=_int(form.get("pay_max", ""), "pay_max"),
        location=str(form.get("location", "")),
        district=str(form.get("district", "")),
        requirements=str(form.get("requirements", "")),
        worker_groups=[str(g) for g in form.getall("worker_groups", [])],
        status=str(form.get("status", "open")),
    )


async def _invite_panel(request: AnyRequest, actor: Any, fair: Any) -> dict[str, Any]:
    """The setup page's employer invite panel: the link with its QR while there is one."""
    invite = await invites.current_invite(actor, fair.id)
    url = str(request.base_url).rstrip("/") + invite.path if invite.path else ""
    return {
        "invite": invite,
        "invite_url": url,
        "invite_svg": jobfairs.link_qr_svg(url) if url else "",
        "invite_closed": invites.joining_closed(fair),
        "invite_revoked": request.query_params.get("invite") == "revoked",
    }


def _join_in(form: Any) -> EmployerJoinIn:
    return EmployerJoinIn(
        name=str(form.get("name", "")),
        industry=str(form.get("industry", "")),
        contact_name=str(form.get("contact_name", "")),
        contact_phone=str(form.get("contact_phone", "")),
    )


class JobfairPages(Controller):
    include_in_schema = False

    # --- organisers -----------------------------------------------------------------------

    async def _setup(
        self, request: AnyRequest, activity_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        fair = await jobfairs.organised_fair(actor, activity_id)
        return page(
            request,
            "jobfairs/setup.html",
            status_code=status_code,
            fair=fair,
            **await _invite_panel(request, actor, fair),
            employers=await jobfairs.list_employers(actor, activity_id),
            booths=await jobfairs.list_booths(actor, activity_id),
            postings=await jobfairs.list_postings(actor, activity_id),
            **_labels(),
            **context,
        )

    @get("/organise/activities/{activity_id:int}/jobfair")
    async def setup(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        return await self._setup(request, activity_id)

    @post("/organise/activities/{activity_id:int}/jobfair/employers")
    async def add_employer(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        try:
            await jobfairs.create_employer(
                require_actor(request),
                activity_id,
                EmployerIn(
                    name=str(form.get("name", "")),
                    industry=str(form.get("industry", "")),
                    contact_name=str(form.get("contact_name", "")),
                    contact_phone=str(form.get("contact_phone", "")),
                    enterprise_node=str(form.get("enterprise_node", "")) or None,
                    approved=form.get("approved") == "on",
                ),
            )
        except DomainError as error:
            return await self._setup(
                request, activity_id, 400, form_name="employer", **form_error(error)
            )
        return Redirect(f"/organise/activities/{activity_id}/jobfair#employers")

    @post("/organise/jobfair/employers/{employer_id:int}/approve")
    async def approve(self, request: AnyRequest, employer_id: FromPath[int]) -> Redirect:
        form = await request.form()
        employer = await jobfairs.set_approved(
            require_actor(request), employer_id, form.get("approved") == "1"
        )
        return Redirect(f"/organise/activities/{employer.activity_id}/jobfair#employers")

    @post("/organise/activities/{activity_id:int}/jobfair/invite")
    async def create_invite(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        try:
            await invites.create_invite(require_actor(request), activity_id)
        except DomainError as error:
            if error.code in ("forbidden", "not_found", "not_signed_in"):
                raise
            return await self._setup(
                request, activity_id, error.status_code, form_name="invite", **form_error(error)
            )
        return Redirect(f"/organise/activities/{activity_id}/jobfair#invite")

    @post("/organise/activities/{activity_id:int}/jobfair/invite/revoke")
    async def revoke_invite(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        """Asks first (a page with the confirming button, no JavaScript needed): every
        company still holding the link is turned away from then on."""
        actor = require_actor(request)
        form = await request.form()
        if form.get("confirm") != "yes":
            return page(
                request,
                "jobfairs/confirm_revoke_invite.html",
                fair=await jobfairs.organised_fair(actor, activity_id),
            )
        await invites.revoke_invite(actor, activity_id)
        return Redirect(f"/organise/activities/{activity_id}/jobfair?invite=revoked#invite")

    @post("/organise/activities/{activity_id:int}/jobfair/booths")
    async def add_booth(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        try:
            await jobfairs.create_booth(
                require_actor(request),
                activity_id,
                BoothIn(
                    number=str(form.get("number", "")),
                    employer_id=_int(form.get("employer_id", ""), "employer_id"),
                ),
            )
        except DomainError as error:
            return await self._setup(
                request, activity_id, 400, form_name="booth", **form_error(error)
            )
        return Redirect(f"/organise/activities/{activity_id}/jobfair#booths")

    @post("/organise/activities/{activity_id:int}/jobfair/postings")
    async def add_posting(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        try:
            await jobfairs.create_posting(require_actor(request), activity_id, _posting_in(form))
        except DomainError as error:
            return await self._setup(
                request, activity_id, 400, form_name="posting", **form_error(error)
            )
        return Redirect(f"/organise/activities/{activity_id}/jobfair#postings")

    @get("/jobfair/postings/{posting_id:int}/edit")
    async def edit_posting(
        self, request: AnyRequest, posting_id: FromPath[int], back: FromQuery[str] = ""
    ) -> Template:
        posting = await jobfairs.editable_posting(require_actor(request), posting_id)
        return page(
            request,
            "jobfairs/posting_form.html",
            posting=posting,
            back=safe_next(back) if back else "",
            **_labels(),
        )

    @post("/jobfair/postings/{posting_id:int}/edit")
    async def save_posting(
        self, request: AnyRequest, posting_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        actor = require_actor(request)
        try:
            posting = await jobfairs.update_posting(actor, posting_id, _posting_in(form))
        except DomainError as error:
            posting = await jobfairs.editable_posting(actor, posting_id)
            return page(
                request,
                "jobfairs/posting_form.html",
                status_code=400,
                posting=posting,
                back=safe_next(str(form.get("back", ""))) if form.get("back") else "",
                **_labels(),
                **form_error(error),
            )
        return Redirect(
            safe_next(str(form.get("back", "")))
            if form.get("back")
            else f"/activities/{posting.activity_id}/jobs"
        )

    # --- booth staff ----------------------------------------------------------------------

    @get("/booths")
    async def my_booths(self, request: AnyRequest) -> Template:
        return page(
            request, "jobfairs/booths.html", booths=await jobfairs.my_booths(require_actor(request))
        )

    async def _booth(
        self, request: AnyRequest, booth_id: int, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        booth = await jobfairs.booth_for(actor, booth_id)
        organiser = actor.has("organiser", "admin")
        link = await jobfairs.device_link(actor, booth_id) if organiser else None
        link_url = str(request.base_url).rstrip("/") + link.path if link else ""
        return page(
            request,
            "jobfairs/booth.html",
            device_link=link,
            revoked=request.query_params.get("revoked") == "1",
            device_link_url=link_url,
            device_link_svg=jobfairs.link_qr_svg(link_url) if link else "",
            status_code=status_code,
            booth=booth,
            postings=await jobfairs.booth_postings(booth),
            leads=await jobfairs.booth_leads(actor, booth_id),
            staff=await jobfairs.booth_staff(actor, booth_id)
            if actor.has("organiser", "admin")
            else None,
            # A fresh client id per form: a double-tapped submit is recorded once.
            client_id=secrets.token_hex(12),
            **_labels(),
            **context,
        )

    @get("/booths/{booth_id:int}")
    async def booth(self, request: AnyRequest, booth_id: FromPath[int]) -> Template:
        return await self._booth(request, booth_id)

    @post("/booths/{booth_id:int}/scan")
    async def scan(self, request: AnyRequest, booth_id: FromPath[int]) -> Template:
        form = await request.form()
        try:
            answer = await jobfairs.record_stage(
                require_actor(request),
                booth_id,
                str(form.get("code", "")),
                _optional_int(form.get("posting_id"), "posting_id"),
                str(form.get("stage", "")),
                client_id=str(form.get("client_id", "")),
                rating=_optional_int(form.get("rating"), "rating"),
                note=str(form.get("note", "")),
            )
        except DomainError as error:
            if error.code == "forbidden":
                raise
            return await self._booth(request, booth_id, 400, **form_error(error))
        return await self._booth(request, booth_id, answer=answer)

    @post("/booths/{booth_id:int}/undo/{scan_id:int}")
    async def undo(
        self, request: AnyRequest, booth_id: FromPath[int], scan_id: FromPath[int]
    ) -> Template | Redirect:
        try:
            await jobfairs.undo_stage(require_actor(request), scan_id)
        except DomainError as error:
            if error.code == "forbidden":
                raise
            return await self._booth(request, booth_id, 409, **form_error(error))
        return Redirect(f"/booths/{booth_id}?undone=1")

    @post("/booths/{booth_id:int}/materials")
    async def materials(self, request: AnyRequest, booth_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await jobfairs.count_materials(
                require_actor(request), booth_id, _int(form.get("delta", ""), "delta")
            )
        except DomainError as error:
            if error.code == "forbidden":
                raise
            return await self._booth(request, booth_id, 400, **form_error(error))
        return Redirect(f"/booths/{booth_id}#materials")

    @post("/organise/jobfair/booths/{booth_id:int}/device-link/revoke")
    async def revoke_device_links(self, request: AnyRequest, booth_id: FromPath[int]) -> Redirect:
        await jobfairs.revoke_device_links(require_actor(request), booth_id)
        return Redirect(f"/booths/{booth_id}?revoked=1#device")

    # --- a booth device: a phone signed in by the booth's link, with no member account ----

    @get("/booth-device/{code:str}")
    async def open_device_link(self, request: AnyRequest, code: FromPath[str]) -> Response[Any]:
        """Opening the link signs this phone in for the booth (the code kept in a cookie,
        checked afresh on every request); a refused link says why."""
        try:
            device = await jobfairs.booth_device(code)
        except DomainError as error:
            return self._device_refused(request, error)
        response: Response[Any] = Redirect("/booth-device")
        response.set_cookie(
            DEVICE_COOKIE,
            code.strip().upper(),
            max_age=max(60, int((device.valid_until - clock.now()).total_seconds())),
            path="/",
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )
        return response

    def _device_refused(self, request: AnyRequest, error: DomainError) -> Response[Any]:
        # The cookie stays: the next request tells the same reason (revoked, fair over),
        # and it expires with the fair anyway.
        return page(
            request,
            "jobfairs/device_refused.html",
            status_code=error.status_code,
            **form_error(error),
        )

    async def _device_page(
        self, request: AnyRequest, status_code: int = 200, **context: Any
    ) -> Response[Any]:
        try:
            device = await jobfairs.booth_device(request.cookies.get(DEVICE_COOKIE))
        except DomainError as error:
            return self._device_refused(request, error)
        booth = await jobfairs.booth_for(device, device.booth_id)
        return page(
            request,
            "jobfairs/device.html",
            status_code=status_code,
            device=device,
            booth=booth,
            postings=await jobfairs.booth_postings(booth),
            leads=await jobfairs.booth_leads(device, device.booth_id),
            client_id=secrets.token_hex(12),
            **_labels(),
            **context,
        )

    @get("/booth-device")
    async def device(self, request: AnyRequest) -> Response[Any]:
        return await self._device_page(request)

    @post("/booth-device/scan")
    async def device_scan(self, request: AnyRequest) -> Response[Any]:
        form = await request.form()
        try:
            device = await jobfairs.booth_device(request.cookies.get(DEVICE_COOKIE))
        except DomainError as error:
            return self._device_refused(request, error)
        try:
            answer = await jobfairs.record_stage(
                device,
                device.booth_id,
                str(form.get("code", "")),
                _optional_int(form.get("posting_id"), "posting_id"),
                str(form.get("stage", "")),
                client_id=str(form.get("client_id", "")),
                rating=_optional_int(form.get("rating"), "rating"),
                note=str(form.get("note", "")),
            )
        except DomainError as error:
            return await self._device_page(request, error.status_code, **form_error(error))
        return await self._device_page(request, answer=answer)

    @post("/booth-device/undo/{scan_id:int}")
    async def device_undo(self, request: AnyRequest, scan_id: FromPath[int]) -> Response[Any]:
        try:
            device = await jobfairs.booth_device(request.cookies.get(DEVICE_COOKIE))
        except DomainError as error:
            return self._device_refused(request, error)
        try:
            await jobfairs.undo_stage(device, scan_id)
        except DomainError as error:
            return await self._device_page(request, error.status_code, **form_error(error))
        return Redirect("/booth-device?undone=1")

    @post("/booth-device/sign-out")
    async def device_sign_out(self, request: AnyRequest) -> Response[Any]:
        response: Response[Any] = Redirect("/")
        response.delete_cookie(DEVICE_COOKIE, path="/")
        return response

    @post("/organise/jobfair/booths/{booth_id:int}/staff")
    async def add_staff(self, request: AnyRequest, booth_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await jobfairs.assign_booth_staff(
                require_actor(request), booth_id, str(form.get("phone", ""))
            )
        except DomainError as error:
            return await self._booth(request, booth_id, 400, **form_error(error))
        return Redirect(f"/booths/{booth_id}#staff")

    @post("/organise/jobfair/booths/{booth_id:int}/staff/{member_id:int}/remove")
    async def remove_staff(
        self, request: AnyRequest, booth_id: FromPath[int], member_id: FromPath[int]
    ) -> Redirect:
        await jobfairs.remove_booth_staff(require_actor(request), booth_id, member_id)
        return Redirect(f"/booths/{booth_id}#staff")

    # --- workers --------------------------------------------------------------------------

    @get("/activities/{activity_id:int}/jobs")
    async def jobs(
        self,
        request: AnyRequest,
        activity_id: FromPath[int],
        q: FromQuery[str] = "",
        pay: FromQuery[str] = "",
        group: FromQuery[str] = "",
        district: FromQuery[str] = "",
        saved: FromQuery[str] = "",
        page_no: FromQuery[int] = 1,
    ) -> Template:
        actor = require_actor(request)
        activity = await activities.get_activity(actor, activity_id)
        error_context: dict[str, Any] = {}
        try:
            found = await jobfairs.search_postings(
                actor,
                activity_id,
                query=q,
                min_pay=_optional_int(pay, "pay"),
                group=group,
                district=district,
                bookmarked_only=saved == "1",
                page=page_no,
            )
        except DomainError as error:
            error_context = form_error(error)
            found = await jobfairs.search_postings(actor, activity_id)
        return page(
            request,
            "jobfairs/jobs.html",
            status_code=400 if error_context else 200,
            activity=activity,
            found=found,
            back=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            filters={"q": q, "pay": pay, "group": group, "district": district, "saved": saved},
            districts=await jobfairs.districts(activity_id),
            consent=await jobfairs.consent(actor, activity_id),
            registration=await activities.my_registration(actor, activity_id),
            **_labels(),
            **error_context,
        )

    @post("/jobfair/postings/{posting_id:int}/bookmark")
    async def bookmark(self, request: AnyRequest, posting_id: FromPath[int]) -> Redirect:
        form = await request.form()
        posting = await jobfairs.set_bookmark(
            require_actor(request), posting_id, form.get("on") == "1"
        )
        back = safe_next(str(form.get("back", ""))) if form.get("back") else ""
        return Redirect(back or f"/activities/{posting.activity_id}/jobs")

    @post("/activities/{activity_id:int}/jobfair-consent")
    async def consent(self, request: AnyRequest, activity_id: FromPath[int]) -> Redirect:
        form = await request.form()
        await jobfairs.set_consent(
            require_actor(request), activity_id, form.get("share_phone") == "on"
        )
        return Redirect(f"/activities/{activity_id}/jobs?consent=saved#consent")

    @post("/activities/{activity_id:int}/jobfair-signup")
    async def signup(self, request: AnyRequest, activity_id: FromPath[int]) -> Redirect:
        """Sign up with the consent tick beside the button (the fair's own sign-up form)."""
        form = await request.form()
        actor = require_actor(request)
        await jobfairs.sign_up(actor, activity_id, share_phone=form.get("share_phone") == "on")
        return Redirect(f"/activities/{activity_id}#signup")

    @get("/me/tickets/{registration_id:int}/booths")
    async def visits(self, request: AnyRequest, registration_id: FromPath[int]) -> Template:
        visits = await jobfairs.my_visits(require_actor(request), registration_id)
        return page(
            request,
            "jobfairs/visits.html",
            visits=visits,
            registration_id=registration_id,
            partials={"booth-visits": "visits"},
            **_labels(),
        )


class EmployerInvitePages(Controller):
    """The page a company opens from a fair's invite link: no account needed, and it
    works without JavaScript."""

    include_in_schema = False

    def _refused(self, request: AnyRequest, error: DomainError) -> Template:
        return page(
            request,
            "jobfairs/invite_refused.html",
            status_code=error.status_code,
            **form_error(error),
        )

    async def _invite_form(
        self,
        request: AnyRequest,
        code: str,
        status_code: int = 200,
        values: dict[str, str] | None = None,
        **context: Any,
    ) -> Template:
        try:
            fair = await invites.invite_page(code)
        except DomainError as error:
            return self._refused(request, error)
        return page(
            request,
            "jobfairs/invite.html",
            status_code=status_code,
            fair=fair,
            code=code,
            values=values or {},
            sent=request.query_params.get("sent") == "1",
            **context,
        )

    @get("/employer-invite/{code:str}")
    async def invite(self, request: AnyRequest, code: FromPath[str]) -> Template:
        return await self._invite_form(request, code)

    @post("/employer-invite/{code:str}")
    async def join(self, request: AnyRequest, code: FromPath[str]) -> Template | Redirect:
        form = await request.form()
        data = _join_in(form)
        try:
            await invites.join_by_invite(code, data, ip=client_ip(request))
        except DomainError as error:
            if error.code == "forbidden":  # the link itself is refused: say why, no form
                return self._refused(request, error)
            return await self._invite_form(
                request,
                code,
                error.status_code,
                values={
                    "name": data.name,
                    "industry": data.industry,
                    "contact_name": data.contact_name,
                    "contact_phone": data.contact_phone,
                },
                **form_error(error),
            )
        return Redirect(f"/employer-invite/{code}?sent=1")


ROUTES = [JobfairPages, EmployerInvitePages]
