"""JSON API for tickets: public keys, revocations, a registration's QR, reissue."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from service.activities import services as activities
from service.activities.schemas import RegistrationOut
from service.checkin import services as checkin
from service.errors import DomainError
from service.http import require_actor
from service.tickets import services as tickets
from service.tickets.schemas import RevocationsOut, TicketKeysOut

AnyRequest = Request[Any, Any, Any]


def svg_response(request: AnyRequest, svg: bytes) -> Response[bytes]:
    """An SVG with a strong ETag: a phone that has the code already gets a 304."""
    etag = '"' + hashlib.sha256(svg).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(svg, media_type="image/svg+xml", headers=headers)


class TicketApi(Controller):
    path = "/api/v1"
    tags = ["tickets"]  # noqa: RUF012

    @get("/ticket-keys")
    async def ticket_keys(self) -> TicketKeysOut:
        return tickets.keys()

    @get("/revocations")
    async def revocations(
        self, request: AnyRequest, activity_id: FromQuery[int], since: FromQuery[int] = 0
    ) -> RevocationsOut:
        await checkin.door(require_actor(request), activity_id)
        return await tickets.revocations(activity_id, since)

    @get("/registrations/{registration_id:int}/qr.svg", media_type="image/svg+xml")
    async def qr(self, request: AnyRequest, registration_id: FromPath[int]) -> Response[bytes]:
        ticket = await activities.my_ticket(require_actor(request), registration_id)
        registration = ticket.registration
        if registration.ticket_code is None:
            raise DomainError("no_ticket", "Only a confirmed place has a ticket.")
        return svg_response(request, tickets.qr_svg(registration.ticket_code))

    @post("/registrations/{registration_id:int}/reissue", status_code=200)
    async def reissue(self, request: AnyRequest, registration_id: FromPath[int]) -> RegistrationOut:
        return await activities.reissue_ticket(require_actor(request), registration_id)


ROUTES = [TicketApi]
