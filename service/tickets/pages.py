"""Ticket pages: a member's ticket with its QR, viewable offline once opened."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from service.activities import services as activities
from service.http import page, require_actor
from service.tickets import services as tickets

AnyRequest = Request[Any, Any, Any]


class TicketPages(Controller):
    include_in_schema = False

    @get("/me/tickets/{registration_id:int}")
    async def ticket(
        self,
        request: AnyRequest,
        registration_id: FromPath[int],
        reissued: FromQuery[str | None] = None,
    ) -> Template:
        actor = require_actor(request)
        ticket = await activities.my_ticket(actor, registration_id)
        code = ticket.registration.ticket_code
        # Inline SVG (drawn by us from a base32 code): the page alone is the ticket, so
        # the service worker's copy of it shows the code with no network.
        qr = tickets.qr_svg(code).decode().split("?>", 1)[-1] if code else None
        return page(
            request,
            "tickets/ticket.html",
            ticket=ticket,
            qr=qr,
            holder=actor.name,
            reissued=bool(reissued),
        )

    @get("/me/tickets/{registration_id:int}/reissue")
    async def confirm_reissue(
        self, request: AnyRequest, registration_id: FromPath[int]
    ) -> Template:
        """Asks first: the old code stops working at once (a screenshot, a printout, the
        copy another phone kept offline), which cannot be taken back. Works without JS."""
        return await self._confirm_reissue(request, registration_id)

    @post("/me/tickets/{registration_id:int}/reissue")
    async def reissue(
        self, request: AnyRequest, registration_id: FromPath[int]
    ) -> Template | Redirect:
        actor = require_actor(request)
        if (await request.form()).get("confirm") != "yes":
            # A post that did not come from the confirmation page asks first too.
            return await self._confirm_reissue(request, registration_id)
        await activities.reissue_ticket(actor, registration_id)
        return Redirect(f"/me/tickets/{registration_id}?reissued=1")

    async def _confirm_reissue(self, request: AnyRequest, registration_id: int) -> Template:
        ticket = await activities.my_ticket(require_actor(request), registration_id)
        return page(request, "tickets/confirm_reissue.html", ticket=ticket)


ROUTES = [TicketPages]
