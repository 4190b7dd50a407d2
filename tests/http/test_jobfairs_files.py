"""Job-fair files and weight: the report's XLSX carries the same figures as its CSV and the
JSON report, and a worker's first look at the postings (the page of 20 and every script
and stylesheet it loads) transfers no more than 50 KB."""

from __future__ import annotations

import re

import httpx

from service.activities import services as activities
from tests.conftest import Org, sign_in
from tests.http.activity_helpers import workers, zh
from tests.http.test_jobfairs_api import fair as api_fair
from tests.http.test_jobfairs_pages import fair as page_fair
from tests.service.test_exports import csv_rows, normal, xlsx_rows

FIRST_VISIT_BUDGET = 50_000  # bytes over the wire, PRODUCT/issue 11


async def test_report_xlsx_equals_the_csv_and_the_json(client: httpx.AsyncClient, org: Org) -> None:
    made = await api_fair(client, org)
    people = await workers(2)
    for index, (person, stage) in enumerate(zip(people, ("intent", "resume"), strict=True)):
        registration, _ = await activities.register(person.actor, made["activity_id"])
        answer = await client.post(
            "/api/v1/booth-scans",
            json={
                "booth_id": made["booth"]["id"],
                "code": registration.ticket_code,
                "stage": stage,
                "client_id": f"xlsx-scan-{index:04d}",
            },
            headers=made["headers"],
        )
        assert answer.status_code in (200, 201), answer.text
    base = f"/api/v1/activities/{made['activity_id']}"
    zh_headers = {**made["headers"], "Accept-Language": "zh-CN"}
    as_csv = csv_rows((await client.get(f"{base}/report.csv", headers=zh_headers)).content)
    as_xlsx_response = await client.get(f"{base}/report.xlsx", headers=zh_headers)
    assert as_xlsx_response.status_code == 200
    as_xlsx = xlsx_rows(as_xlsx_response.content)
    assert as_xlsx == normal(as_csv)
    report = (await client.get(f"{base}/jobfair-report", headers=made["headers"])).json()
    intent_row = next(
        row for row in as_xlsx if row[:1] == [zh("Workers at or beyond preliminary intent")]
    )
    assert intent_row[1] == "1"
    assert str(report["intent_or_above"]) == intent_row[1]


async def test_first_page_of_postings_with_its_assets_stays_under_50_kb(
    client: httpx.AsyncClient, org: Org
) -> None:
    made = await page_fair(org, postings=25)
    await sign_in(client, org.phones["worker_a1"])
    gzip_only = {"Accept-Encoding": "gzip"}
    page = await client.get(f"/activities/{made['activity_id']}/jobs", headers=gzip_only)
    assert page.status_code == 200
    assert page.text.count('class="posting"') == 20
    assets = re.findall(
        r'<(?:script[^>]+src|link[^>]+href)="(/static/[^"?]+\.(?:js|css)(?:\?[^"]*)?)"', page.text
    )
    assert any(".css" in a for a in assets) and any(".js" in a for a in assets)
    transferred = page.num_bytes_downloaded
    for asset in dict.fromkeys(assets):
        fetched = await client.get(asset, headers=gzip_only)
        assert fetched.status_code == 200, asset
        transferred += fetched.num_bytes_downloaded
    print(f"first visit: {transferred} bytes over {len(assets)} assets")
    assert transferred <= FIRST_VISIT_BUDGET, f"{transferred} bytes for the first visit"
