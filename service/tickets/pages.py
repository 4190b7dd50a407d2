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

    @post("/me/tickets/{registration_id:int}/reissue")
    async def reissue(self, request: AnyRequest, registration_id: FromPath[int]) -> Redirect:
        await activities.reissue_ticket(require_actor(request), registration_id)
        return Redirect(f"/me/tickets/{registration_id}?reissued=1")


ROUTES = [TicketPages]
