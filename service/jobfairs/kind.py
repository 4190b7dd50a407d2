"""The job fair (招聘会) kind: places, sign-up, tickets and an entrance door; employers,
booths, postings and the hiring funnel live in this room."""

from __future__ import annotations

from typing import Any

from service import kinds


async def _report_section(activity_id: int) -> list[Any]:
    # Imported here: the registry is loaded by processes that need no job-fair code.
    from service.jobfairs import services

    return await services.report_sections(activity_id)


KIND = kinds.Kind(
    code="job_fair",
    label="Job fair",
    reminder_rules=(kinds.DAY_BEFORE, kinds.ONE_HOUR),
    detail_partial="jobfairs/_detail.html",
    report_section=_report_section,
)
