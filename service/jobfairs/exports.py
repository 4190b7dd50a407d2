"""A booth's own list of workers as a CSV or XLSX file: the rows of the booth's page
(services.booth_leads, the one source of who may see it and of which phones are full),
written by the reports room's export machinery. No HTTP."""

from __future__ import annotations

from service.i18n import gettext
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import STAGE_LABELS, LeadOut
from service.orgs.schemas import GROUP_LABELS, Actor
from service.reports import exports
from service.reports.exports import Export, Row, local_cell, text_cell

LEAD_COLUMN_LABELS: dict[str, str] = {
    "name": "Member name",
    "phone": "Phone",
    "group": "Worker group",
    "posting": "Job",
    "stage": "Stage",
    "rating": "Rating",
    "note": "Note",
    "since": "Time",
    "checked_in": "Checked in at the entrance",
}


def lead_rows(leads: list[LeadOut]) -> list[Row]:
    """A header, then a row a lead as the booth's page lists it: the full phone only where
    the page shows it (preliminary intent on, and the worker agreed)."""
    yes, no = gettext("Yes"), gettext("No")
    rows: list[Row] = [[gettext(label) for label in LEAD_COLUMN_LABELS.values()]]
    for lead in leads:
        rows.append(
            [
                text_cell(lead.name),
                lead.phone or lead.phone_masked,
                gettext(GROUP_LABELS.get(lead.group, "Other")),
                text_cell(lead.posting_title),
                gettext(STAGE_LABELS[lead.stage]),
                lead.rating,
                text_cell(lead.note),
                local_cell(lead.since),
                yes if lead.checked_in else no,
            ]
        )
    return rows


async def booth_leads_export(actor: jobfairs.Scanner, booth_id: int, fmt: str) -> Export:
    """The booth's leads file, for whoever may see its page (its staff, its signed-in
    device, the fair's organisers; anyone else: 403)."""
    leads = await jobfairs.booth_leads(actor, booth_id)
    member = actor if isinstance(actor, Actor) else None
    return await exports.rows_export(member, fmt, f"booth-{booth_id}-leads", lead_rows(leads))
