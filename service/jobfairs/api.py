"""JSON API for job fairs: employers, booths, postings, booth scans (single and batch),
undo, a booth's leads (and their files), employer invite links, and the fair's report.
Thin: each handler calls one service."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody

from service.http import bearer_token, client_ip, optional_actor, require_actor, send
from service.jobfairs import exports as jobfair_exports
from service.jobfairs import invites
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import (
    BoothIn,
    BoothOut,
    BoothScanBatchIn,
    BoothScanBatchOut,
    BoothScanIn,
    BoothScanOut,
    DeviceLinkOut,
    EmployerIn,
    EmployerInviteOut,
    EmployerJoinedOut,
    EmployerJoinIn,
    EmployerOut,
    InvitedFairOut,
    JobfairReport,
    LeadOut,
    PostingIn,
    PostingOut,
    UndoOut,
)

AnyRequest = Request[Any, Any, Any]

# The cookie a booth device link leaves on the phone it signs in: the link's code itself,
# checked afresh on every request (revocation and the fair's end take effect at once).
DEVICE_COOKIE = "uh_booth_device"


async def booth_scanner(request: AnyRequest) -> jobfairs.Scanner:
    """Who works a booth in this request: the signed-in member, or else the booth device
    this phone was signed in as (never for a request carrying a bearer token)."""
    actor = optional_actor(request)
    if actor is not None or bearer_token(request) is not None:
        return require_actor(request)
    code = request.cookies.get(DEVICE_COOKIE)
    if not code:
        return require_actor(request)  # not signed in at all
    return await jobfairs.booth_device(code)


class JobfairApi(Controller):
    path = "/api/v1"
    tags = ["job fairs"]  # noqa: RUF012

    @get("/activities/{activity_id:int}/employers")
    async def employers(self, request: AnyRequest, activity_id: FromPath[int]) -> list[EmployerOut]:
        return await jobfairs.list_employers(require_actor(request), activity_id)

    @post("/activities/{activity_id:int}/employers", status_code=201)
    async def add_employer(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[EmployerIn]
    ) -> EmployerOut:
        return await jobfairs.create_employer(require_actor(request), activity_id, data)

    @put("/employers/{employer_id:int}")
    async def edit_employer(
        self, request: AnyRequest, employer_id: FromPath[int], data: JSONBody[EmployerIn]
    ) -> EmployerOut:
        return await jobfairs.update_employer(require_actor(request), employer_id, data)

    @get("/activities/{activity_id:int}/booths")
    async def booths(self, request: AnyRequest, activity_id: FromPath[int]) -> list[BoothOut]:
        return await jobfairs.list_booths(require_actor(request), activity_id)

    @post("/activities/{activity_id:int}/booths", status_code=201)
    async def add_booth(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[BoothIn]
    ) -> BoothOut:
        return await jobfairs.create_booth(require_actor(request), activity_id, data)

    @put("/booths/{booth_id:int}")
    async def edit_booth(
        self, request: AnyRequest, booth_id: FromPath[int], data: JSONBody[BoothIn]
    ) -> BoothOut:
        return await jobfairs.update_booth(require_actor(request), booth_id, data)

    @get("/booths/{booth_id:int}/leads")
    async def leads(self, request: AnyRequest, booth_id: FromPath[int]) -> list[LeadOut]:
        return await jobfairs.booth_leads(await booth_scanner(request), booth_id)

    @get("/booths/{booth_id:int}/leads.csv")
    async def leads_csv(self, request: AnyRequest, booth_id: FromPath[int]) -> Response[Any]:
        """The booth's leads as CSV (UTF-8 with a BOM): the rows of the booth's page, the
        full phone only where the page shows it. For the booth's staff, its signed-in
        device and the fair's organisers."""
        return send(
            await jobfair_exports.booth_leads_export(await booth_scanner(request), booth_id, "csv")
        )

    @get("/booths/{booth_id:int}/leads.xlsx")
    async def leads_xlsx(self, request: AnyRequest, booth_id: FromPath[int]) -> Response[Any]:
        """The booth's leads as XLSX: the same rows as the CSV and the booth's page."""
        return send(
            await jobfair_exports.booth_leads_export(await booth_scanner(request), booth_id, "xlsx")
        )

    @post("/booths/{booth_id:int}/device-links", status_code=200)
    async def device_link(self, request: AnyRequest, booth_id: FromPath[int]) -> DeviceLinkOut:
        """The booth's device link (the same one until revoked): opening its path on a
        phone signs that phone in for this booth only, until the fair ends."""
        return await jobfairs.device_link(require_actor(request), booth_id)

    @post("/booths/{booth_id:int}/device-links/revoke", status_code=200)
    async def revoke_device_links(
        self, request: AnyRequest, booth_id: FromPath[int]
    ) -> DeviceLinkOut:
        """Revoke every device link of the booth (phones signed in by them are refused from
        their next request on); answers the booth's new link."""
        return await jobfairs.revoke_device_links(require_actor(request), booth_id)

    @get("/activities/{activity_id:int}/postings")
    async def postings(self, request: AnyRequest, activity_id: FromPath[int]) -> list[PostingOut]:
        return await jobfairs.list_postings(require_actor(request), activity_id)

    @post("/activities/{activity_id:int}/postings", status_code=201)
    async def add_posting(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[PostingIn]
    ) -> PostingOut:
        return await jobfairs.create_posting(require_actor(request), activity_id, data)

    @put("/postings/{posting_id:int}")
    async def edit_posting(
        self, request: AnyRequest, posting_id: FromPath[int], data: JSONBody[PostingIn]
    ) -> PostingOut:
        return await jobfairs.update_posting(require_actor(request), posting_id, data)

    @post("/booth-scans", status_code=200)
    async def booth_scan(self, request: AnyRequest, data: JSONBody[BoothScanIn]) -> BoothScanOut:
        answer = await jobfairs.record_stage(
            await booth_scanner(request),
            data.booth_id,
            data.code,
            data.posting_id,
            data.stage,
            client_id=data.client_id,
            rating=data.rating,
            note=data.note,
            scanned_at=data.scanned_at,
        )
        return BoothScanOut(**answer)

    @post("/booth-scans/batch", status_code=200)
    async def booth_scan_batch(
        self, request: AnyRequest, data: JSONBody[BoothScanBatchIn]
    ) -> BoothScanBatchOut:
        answers = await jobfairs.record_batch(
            await booth_scanner(request), data.booth_id, data.scans
        )
        return BoothScanBatchOut(results=[BoothScanOut(**answer) for answer in answers])

    @post("/booth-scans/{scan_id:int}/undo", status_code=200)
    async def undo(self, request: AnyRequest, scan_id: FromPath[int]) -> UndoOut:
        return await jobfairs.undo_stage(await booth_scanner(request), scan_id)

    @get("/activities/{activity_id:int}/jobfair-report")
    async def report(self, request: AnyRequest, activity_id: FromPath[int]) -> JobfairReport:
        return await jobfairs.jobfair_report(require_actor(request), activity_id)


class EmployerInviteApi(Controller):
    """A fair's employer invite link: its organisers create and withdraw it; a company
    holding it enters itself with no account (services: service/jobfairs/invites.py)."""

    path = "/api/v1"
    tags = ["job fairs"]  # noqa: RUF012

    @post("/activities/{activity_id:int}/employer-invites", status_code=200)
    async def create_invite(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> EmployerInviteOut:
        """The fair's employer invite link, created if there is none (the same link until
        it is withdrawn). Opening `path` lets a company enter itself, unapproved, until
        the fair ends. For the fair's organisers; 409 once the fair is over."""
        return await invites.create_invite(require_actor(request), activity_id)

    @post("/activities/{activity_id:int}/employer-invites/revoke", status_code=200)
    async def revoke_invite(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> EmployerInviteOut:
        """Withdraw the fair's invite link: every link handed out so far stops working at
        once (a link created afterwards is a new one). Answers `active: false`."""
        return await invites.revoke_invite(require_actor(request), activity_id)

    @get("/employer-invites/{code:str}")
    async def invited_fair(self, code: FromPath[str]) -> InvitedFairOut:
        """What the invite link's page shows: the fair's name, time and place. No account
        needed; 403 with the reason for a withdrawn, expired or not-an-invite code."""
        return await invites.invite_page(code)

    @post("/employer-invites/{code:str}/employers", status_code=201)
    async def join(
        self, request: AnyRequest, code: FromPath[str], data: JSONBody[EmployerJoinIn]
    ) -> EmployerJoinedOut:
        """A company enters itself through the invite link (no account needed). It waits
        for the organisers' approval. 409 for a name already at the fair; 429 past
        10 tries per address and fair in 10 minutes, or 200 per fair in an hour."""
        return await invites.join_by_invite(code, data, ip=client_ip(request))


ROUTES = [JobfairApi, EmployerInviteApi]
