"""Export jobs: the arq side of service/reports/exports.py (which does the work)."""

from __future__ import annotations

from typing import Any

from service.reports import exports


async def export_registrations(
    ctx: dict[str, Any],
    job_id: str,
    member_id: int,
    activity_id: int,
    fmt: str,
    unmasked: bool,
    reason: str,
    lang: str,
) -> str:
    """Write one activity's registration list to a file; ids only, the database re-read."""
    return await exports.run_export_job(job_id, member_id, activity_id, fmt, unmasked, reason, lang)
