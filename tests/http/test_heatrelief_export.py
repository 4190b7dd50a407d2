"""The heat-relief report exported (issue 14) through the activity report's CSV and XLSX
(service/reports/exports.py takes the kind's report sections): the same figures as the
report page, the workers' own "received" apart from the teams' counts."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook

from service.heatrelief import report as relief_report
from service.heatrelief import services as relief
from service.heatrelief.schemas import AcknowledgementIn
from tests.conftest import Org, sign_in
from tests.http.helpers import zh
from tests.http.test_heatrelief_api import day, record


def cells(rows: list[list[object]]) -> list[list[str]]:
    """Rows as text with trailing empty cells dropped (XLSX pads to the widest row)."""
    out = []
    for row in rows:
        text = ["" if cell is None else str(cell) for cell in row]
        while text and text[-1] == "":
            text.pop()
        out.append(text)
    return out


async def test_the_export_has_the_figures_of_the_page(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    setup = await day(client, org)
    scans = {"scans": [record(setup["delivery_id"], setup["item_id"], 6)]}
    await client.post("/api/v1/deliveries/batch", json=scans, headers=setup["member"])
    site = (await relief.list_sites(org.organiser_a, setup["activity_id"]))[0]
    await relief.acknowledge(org.worker_a1, AcknowledgementIn(code=site.code))

    sections = await relief_report.sections(setup["activity_id"])
    summary = sections[0].rows
    assert [zh("Workers who said received (own phones)"), "1"] in summary
    assert [zh("Workers reached (team counts)"), "30"] in summary  # not added together

    await sign_in(client, org.phones["organiser_a"])
    page = await client.get(f"/organise/activities/{setup['activity_id']}/report")
    assert page.status_code == 200
    for section in sections:
        assert section.title in page.text
    base = f"/api/v1/activities/{setup['activity_id']}/report"
    csv_rows = cells(
        list(csv.reader(io.StringIO((await client.get(f"{base}.csv")).content.decode("utf-8-sig"))))
    )
    xlsx = load_workbook(io.BytesIO((await client.get(f"{base}.xlsx")).content), read_only=True)
    xlsx_rows = cells([list(row) for row in xlsx.active.iter_rows(values_only=True)])
    for rows in (csv_rows, xlsx_rows):
        for section in sections:
            start = rows.index([section.title])
            assert rows[start + 1 : start + 1 + len(section.rows)] == cells(section.rows), (
                section.title
            )
