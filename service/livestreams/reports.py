"""The livestream room's report sections: viewer figures per episode, with their
definitions and the number of subscribers reminded; a summary per column and month."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.i18n import gettext
from service.livestreams import services
from service.livestreams.schemas import FIGURE_DEFINITIONS
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
            gettext("Reminders recorded for this episode."),
        ]
    )
    if figures is not None and figures.source:
        rows.append([gettext("Source"), figures.source, ""])
    return [ReportSection(kind="livestream", title=gettext("Viewer figures"), rows=rows)]


async def summary_section(actor: Any, start: datetime, end: datetime) -> list[ReportSection]:
    found = await services.summary(actor.node_path, start, end)
    if not found:
        return []
    rows = [
        [
            row.month,
            row.column,
            str(row.episodes),
            str(row.peak_concurrent),
            str(row.unique_viewers),
            str(row.total_views),
            str(row.average_watch_minutes),
        ]
        for row in found
    ]
    return [
        ReportSection(
            kind="livestream", title=gettext("Livestream viewers by column and month"), rows=rows
        )
    ]
