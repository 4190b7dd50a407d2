"""Heat-relief JSON API: sites, supplies and their ledger, teams, the plan, and delivery
records (one at a time, or an offline phone's batch). Handlers only parse and call
services.py."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from service.heatrelief import report
from service.heatrelief import services as relief
from service.heatrelief.schemas import (
    AcknowledgementIn,
    AcknowledgementOut,
    DeliveryBatchIn,
    DeliveryBatchOut,
    DeliveryIn,
    DeliveryOut,
    FailIn,
    ItemIn,
    ItemOut,
    LedgerRow,
    MovementIn,
    MovementOut,
    PhoneIn,
    SiteIn,
    SiteOut,
    TeamIn,
    TeamOut,
)
from service.http import domain_error_handler, require_actor

AnyRequest = Request[Any, Any, Any]


def stock_insufficient_handler(
    request: AnyRequest, error: relief.StockInsufficient
) -> Response[Any]:
    """The usual 409 error body, plus the item and the balance left."""
    response = domain_error_handler(request, error)
    if isinstance(response.content, dict):
        response.content |= {
            "item_id": error.item_id,
            "team_id": error.team_id,
            "balance": error.balance,
        }
    return response


class HeatReliefApi(Controller):
    path = "/api/v1"
    tags = ["heat relief"]  # noqa: RUF012
    exception_handlers = {relief.StockInsufficient: stock_insufficient_handler}  # noqa: RUF012

    @get("/activities/{activity_id:int}/sites")
    async def sites(self, request: AnyRequest, activity_id: FromPath[int]) -> list[SiteOut]:
        return await relief.list_sites(require_actor(request), activity_id)

    @post("/activities/{activity_id:int}/sites", status_code=201)
    async def add_site(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[SiteIn]
    ) -> SiteOut:
        return await relief.create_site(require_actor(request), activity_id, data)

    @get("/supplies")
    async def supplies(self, request: AnyRequest) -> list[ItemOut]:
        return await relief.list_items(require_actor(request))

    @post("/supplies", status_code=201)
    async def add_supply(self, request: AnyRequest, data: JSONBody[ItemIn]) -> ItemOut:
        return await relief.create_item(require_actor(request), data)

    @get("/supplies/{item_id:int}")
    async def supply(self, request: AnyRequest, item_id: FromPath[int]) -> ItemOut:
        return await relief.get_item(require_actor(request), item_id)

    @post("/supplies/{item_id:int}/movements", status_code=201)
    async def move(
        self, request: AnyRequest, item_id: FromPath[int], data: JSONBody[MovementIn]
    ) -> MovementOut:
        return await relief.record_movement(require_actor(request), item_id, data)

    @get("/supplies/{item_id:int}/ledger")
    async def ledger(self, request: AnyRequest, item_id: FromPath[int]) -> list[LedgerRow]:
        return await relief.ledger(require_actor(request), item_id)

    @get("/activities/{activity_id:int}/teams")
    async def teams(self, request: AnyRequest, activity_id: FromPath[int]) -> list[TeamOut]:
        return await relief.list_teams(require_actor(request), activity_id)

    @post("/activities/{activity_id:int}/teams", status_code=201)
    async def add_team(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[TeamIn]
    ) -> TeamOut:
        return await relief.create_team(require_actor(request), activity_id, data)

    @post("/heat-relief/teams/{team_id:int}/members", status_code=200)
    async def add_member(
        self, request: AnyRequest, team_id: FromPath[int], data: JSONBody[PhoneIn]
    ) -> TeamOut:
        return await relief.add_team_member(require_actor(request), team_id, data.phone)

    @get("/activities/{activity_id:int}/deliveries")
    async def deliveries(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> list[DeliveryOut]:
        return await relief.list_deliveries(require_actor(request), activity_id)

    @post("/activities/{activity_id:int}/deliveries", status_code=201)
    async def plan(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[DeliveryIn]
    ) -> DeliveryOut:
        return await relief.plan_delivery(require_actor(request), activity_id, data)

    @get("/deliveries/today")
    async def today(self, request: AnyRequest) -> list[DeliveryOut]:
        return await relief.todays_deliveries(require_actor(request))

    @get("/deliveries/{delivery_id:int}")
    async def delivery(self, request: AnyRequest, delivery_id: FromPath[int]) -> DeliveryOut:
        return await relief.get_delivery(require_actor(request), delivery_id)

    @post("/deliveries/{delivery_id:int}/out", status_code=200)
    async def set_out(self, request: AnyRequest, delivery_id: FromPath[int]) -> DeliveryOut:
        return await relief.set_out(require_actor(request), delivery_id)

    @post("/deliveries/{delivery_id:int}/fail", status_code=200)
    async def fail(
        self, request: AnyRequest, delivery_id: FromPath[int], data: JSONBody[FailIn]
    ) -> DeliveryOut:
        return await relief.fail_delivery(require_actor(request), delivery_id, data.reason)

    @post("/deliveries/batch", status_code=200)
    async def batch(self, request: AnyRequest, data: JSONBody[DeliveryBatchIn]) -> DeliveryBatchOut:
        results = await relief.record_batch(require_actor(request), data.scans)
        return DeliveryBatchOut(results=results)

    @get("/activities/{activity_id:int}/heat-relief-report")
    async def heat_relief_report(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> report.HeatReliefReport:
        return await report.campaign_report(require_actor(request), activity_id)

    @post("/heat-relief/acknowledgements", status_code=200)
    async def acknowledge(
        self, request: AnyRequest, data: JSONBody[AcknowledgementIn]
    ) -> AcknowledgementOut:
        """A worker at a site says "received" with the poster's code (counted once per
        member, site and day; a bad code answers a result, not an error)."""
        return await relief.acknowledge(require_actor(request), data)


ROUTES = [HeatReliefApi]
