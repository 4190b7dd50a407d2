"""JSON API for the signed-in member."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from service.accounts.schemas import MeOut
from service.http import require_actor
from service.orgs import services as orgs

AnyRequest = Request[Any, Any, Any]


class AccountApi(Controller):
    path = "/api/v1"
    tags = ["accounts"]  # noqa: RUF012

    @get("/me")
    async def me(self, request: AnyRequest) -> MeOut:
        profile, phone = await orgs.own_profile(require_actor(request))
        return MeOut(member=profile, phone=phone)


ROUTES = [AccountApi]
