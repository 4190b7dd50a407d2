"""JSON API for reports (exports are in this controller too: CSV and XLSX)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, Parameter

from service.http import parse_day, parse_day_end, require_actor
from service.reports import services as reports
from service.reports.schemas import ActivityReport, MemberHistory, SummaryReport

AnyRequest = Request[Any, Any, Any]


class ReportApi(Controller):
    path = "/api/v1"
    tags = ["reports"]  # noqa: RUF012

    @get("/activities/{activity_id:int}/report")
    async def activity_report(
        self, request: AnyRequest, activity_id: FromPath[int]
    ) -> ActivityReport:
        return await reports.activity_report(require_actor(request), activity_id)

    @get("/reports/summary")
    async def summary(
        self,
        request: AnyRequest,
        node: FromQuery[str | None] = None,
        date_from: Annotated[str | None, Parameter(query="from")] = None,
        date_to: Annotated[str | None, Parameter(query="to")] = None,
        kind: FromQuery[str | None] = None,
        group: FromQuery[str | None] = None,
    ) -> SummaryReport:
        return await reports.summary(
            require_actor(request),
            node_code=node,
            date_from=parse_day(date_from, "from"),
            date_to=parse_day_end(date_to, "to"),
            kind=kind,
            group=group,
        )

    @get("/me/history")
    async def my_history(self, request: AnyRequest) -> MemberHistory:
        return await reports.member_history(require_actor(request))

    @get("/members/{member_id:int}/history")
    async def member_history(self, request: AnyRequest, member_id: FromPath[int]) -> MemberHistory:
        return await reports.member_history(require_actor(request), member_id)
