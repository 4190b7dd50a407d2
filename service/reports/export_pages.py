"""The progress page of a background export: a bar that htmx refreshes every second,
and a download link when the file is ready."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath
from litestar.response import Template

from service.http import page, require_actor
from service.reports import exports

AnyRequest = Request[Any, Any, Any]


class ExportPages(Controller):
    include_in_schema = False

    @get("/organise/exports/{job_id:str}", cache_control=CacheControlHeader(no_store=True))
    async def export_progress(self, request: AnyRequest, job_id: FromPath[str]) -> Template:
        job = await exports.export_status(require_actor(request), job_id)
        return page(
            request,
            "reports/export.html",
            partials={"export-progress": "progress"},
            job=job,
        )
