"""JSON API for job fairs: employers, booths, postings, booth scans (single and batch),
undo, a booth's leads, and the fair's report. Thin: each handler calls one service."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody

from service.http import require_actor
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import (
    BoothIn,
    BoothOut,
    BoothScanBatchIn,
    BoothScanBatchOut,
    BoothScanIn,
    BoothScanOut,
    EmployerIn,
    EmployerOut,
    JobfairReport,
    LeadOut,
    PostingIn,
    PostingOut,
    UndoOut,
)

AnyRequest = Request[Any, Any, Any]


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
        return await jobfairs.booth_leads(require_actor(request), booth_id)

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
            require_actor(request),
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
        answers = await jobfairs.record_batch(require_actor(request), data.booth_id, data.scans)
        return BoothScanBatchOut(results=[BoothScanOut(**answer) for answer in answers])

    @post("/booth-scans/{scan_id:int}/undo", status_code=200)
    async def undo(self, request: AnyRequest, scan_id: FromPath[int]) -> UndoOut:
        return await jobfairs.undo_stage(require_actor(request), scan_id)

    @get("/activities/{activity_id:int}/jobfair-report")
    async def report(self, request: AnyRequest, activity_id: FromPath[int]) -> JobfairReport:
        return await jobfairs.jobfair_report(require_actor(request), activity_id)


ROUTES = [JobfairApi]
