"""JSON API for reports (exports are in this controller too: CSV and XLSX)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.http import parse_day, parse_day_end, require_actor, send
from service.reports import exports
from service.reports import services as reports
from service.reports.exports import ExportJobIn, ExportJobOut, ExportJobStatus
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
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
        kind: FromQuery[str | None] = None,
        group: FromQuery[str | None] = None,
        campaign: FromQuery[str | None] = None,
    ) -> SummaryReport:
        return await reports.summary(
            require_actor(request),
            node_code=node,
            date_from=parse_day(date_from, "from"),
            date_to=parse_day_end(date_to, "to"),
            kind=kind,
            group=group,
            campaign=campaign,
        )

    @get("/me/history")
    async def my_history(self, request: AnyRequest) -> MemberHistory:
        return await reports.member_history(require_actor(request))

    @get("/members/{member_id:int}/history")
    async def member_history(self, request: AnyRequest, member_id: FromPath[int]) -> MemberHistory:
        return await reports.member_history(require_actor(request), member_id)

    # --- exports (service/reports/exports.py) ---------------------------------------------

    @get("/activities/{activity_id:int}/report.csv")
    async def report_csv(self, request: AnyRequest, activity_id: FromPath[int]) -> Response[Any]:
        return send(await exports.report_export(require_actor(request), activity_id, "csv"))

    @get("/activities/{activity_id:int}/report.xlsx")
    async def report_xlsx(self, request: AnyRequest, activity_id: FromPath[int]) -> Response[Any]:
        return send(await exports.report_export(require_actor(request), activity_id, "xlsx"))

    async def _registrations(
        self,
        request: AnyRequest,
        activity_id: int,
        fmt: str,
        unmasked: str | None,
        reason: str | None,
    ) -> Response[Any]:
        export = await exports.registrations_export(
            require_actor(request),
            activity_id,
            fmt,
            unmasked=exports.parse_flag(unmasked),
            reason=reason,
        )
        return send(export)

    @get("/activities/{activity_id:int}/registrations.csv")
    async def registrations_csv(
        self,
        request: AnyRequest,
        activity_id: FromPath[int],
        unmasked: FromQuery[str | None] = None,
        reason: FromQuery[str | None] = None,
    ) -> Response[Any]:
        return await self._registrations(request, activity_id, "csv", unmasked, reason)

    @get("/activities/{activity_id:int}/registrations.xlsx")
    async def registrations_xlsx(
        self,
        request: AnyRequest,
        activity_id: FromPath[int],
        unmasked: FromQuery[str | None] = None,
        reason: FromQuery[str | None] = None,
    ) -> Response[Any]:
        return await self._registrations(request, activity_id, "xlsx", unmasked, reason)

    @post("/activities/{activity_id:int}/registrations/export", status_code=202)
    async def start_export(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[ExportJobIn]
    ) -> ExportJobOut:
        return await exports.start_export(
            require_actor(request),
            activity_id,
            data.format,
            unmasked=data.unmasked,
            reason=data.reason,
        )

    @get("/exports/{job_id:str}", cache_control=CacheControlHeader(no_store=True))
    async def export_status(self, request: AnyRequest, job_id: FromPath[str]) -> ExportJobStatus:
        return await exports.export_status(require_actor(request), job_id)

    @get("/exports/{job_id:str}/download")
    async def export_download(self, request: AnyRequest, job_id: FromPath[str]) -> Response[Any]:
        return send(await exports.export_download(require_actor(request), job_id))


ROUTES = [ReportApi]
