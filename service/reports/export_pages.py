"""The progress page of a background export: a bar that htmx refreshes every second,
and a download link when the file is ready."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service.http import page, require_actor
from service.reports import exports

AnyRequest = Request[Any, Any, Any]


class ExportPages(Controller):
    include_in_schema = False

    @post("/organise/activities/{activity_id:int}/export")
    async def start_export(self, request: AnyRequest, activity_id: FromPath[int]) -> Redirect:
        """The registration list exported in the background; its progress page follows."""
        form = await request.form()
        job = await exports.start_export(
            require_actor(request),
            activity_id,
            str(form.get("format", "")),
            unmasked=exports.parse_flag(str(form.get("unmasked", "")) or None),
            reason=str(form.get("reason", "")),
        )
        return Redirect(job.page_url)

    @get("/organise/exports/{job_id:str}", cache_control=CacheControlHeader(no_store=True))
    async def export_progress(self, request: AnyRequest, job_id: FromPath[str]) -> Template:
        job = await exports.export_status(require_actor(request), job_id)
        return page(
            request,
            "reports/export.html",
            partials={"export-progress": "progress"},
            job=job,
        )
