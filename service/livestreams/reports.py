"""The livestream room's report sections: viewer figures per episode, with their
definitions and the number of subscribers reminded; a summary per column and month."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.i18n import gettext
from service.livestreams import services
from service.livestreams.schemas import FIGURE_DEFINITIONS, SUMMARY_LABELS
from service.reports.schemas import ReportSection


async def episode_section(activity_id: int) -> list[ReportSection]:
    figures = (await services.figures_for([activity_id])).get(activity_id)
    reminded = await services.reminded_count(activity_id)
    rows: list[list[str]] = []
    for name, (label, definition) in FIGURE_DEFINITIONS.items():
        value = "" if figures is None else str(getattr(figures, name))
        rows.append([gettext(label), value, gettext(definition)])
    rows.append(
        [
            gettext("Subscribers reminded"),
            str(reminded),
            gettext("Distinct subscribers whose reminder of this episode was sent."),
        ]
    )
    if figures is not None and figures.source:
        rows.append([gettext("Source"), figures.source, ""])
    return [ReportSection(kind="livestream", title=gettext("Viewer figures"), rows=rows)]


async def summary_section(actor: Any, start: datetime, end: datetime) -> list[ReportSection]:
    """Per column and month (the first row names the columns, as every summary section's
    does): the same figures the API and any export of the summary carry."""
    found = await services.summary(actor.node_path, start, end)
    if not found:
        return []
    rows = [[gettext(label) for label in SUMMARY_LABELS.values()]]
    for row in found:
        average = row.average_watch_minutes
        cells = {
            "month": row.month,
            "column": row.column,
            "episodes": str(row.episodes),
            "total_views": str(row.total_views),
            "highest_unique_viewers": str(row.highest_unique_viewers),
            "highest_peak_concurrent": str(row.highest_peak_concurrent),
            "average_watch_minutes": "" if average is None else f"{average:.1f}",
            "subscribers_reminded": str(row.subscribers_reminded),
        }
        rows.append([cells[name] for name in SUMMARY_LABELS])
    return [
        ReportSection(
            kind="livestream", title=gettext("Livestream viewers by column and month"), rows=rows
        )
    ]
