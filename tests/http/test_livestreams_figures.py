"""The viewer summary per column and month as organisers read it: the reports page (a
table whose first row names each figure) and the summary API carry the same honest
figures, built from the hand-computed scenario of tests/service/test_livestreams_figures."""

from __future__ import annotations

import re

import httpx
import pytest

from service import clock
from tests.conftest import Org, sign_in
from tests.http.activity_helpers import bearer, zh
from tests.service.test_livestreams_figures import NOW, build

RANGE = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture(autouse=True)
def frozen() -> object:
    with clock.frozen_at(NOW):
        yield


def cells(html: str) -> list[list[str]]:
    """The livestream section as rows of text: the figures' names, then each row's values."""
    section = html.split('report-section" data-kind="livestream"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    names = re.findall(r"<dt>(.*?)</dt>", items[0])
    return [names, *(re.findall(r"<dd>(.*?)</dd>", item) for item in items)]


async def test_the_reports_page_shows_the_highest_not_the_sum(
    client: httpx.AsyncClient, org: Org
) -> None:
    await build(org)
    await sign_in(client, org.phones["organiser_a"])
    page = await client.get("/organise/reports", params=RANGE)
    assert page.status_code == 200
    header, *rows = cells(page.text)
    assert header[4] == zh("Highest unique viewers of one episode")
    assert header[6] == zh("Average watch minutes per view (weighted by views)")
    assert ["2026-03", "运河工匠", "2", "400", "100", "40", "8.0", "2"] in rows
    assert not any("150" in row or "6.0" in row for row in rows)


async def test_the_summary_api_carries_the_same_rows(client: httpx.AsyncClient, org: Org) -> None:
    await build(org)
    answer = await client.get(
        "/api/v1/reports/summary",
        params=RANGE,
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert answer.status_code == 200, answer.text
    (section,) = [one for one in answer.json()["sections"] if one["kind"] == "livestream"]
    assert ["2026-03", "运河工匠", "2", "400", "100", "40", "8.0", "2"] in section["rows"]
    assert ["2026-03", "职工课堂", "1", "20", "20", "5", "4.0", "1"] in section["rows"]
    # Organisers of another union see none of it.
    other = await client.get(
        "/api/v1/reports/summary",
        params=RANGE,
        headers=await bearer(org.phones["organiser_b"]),
    )
    assert other.status_code == 200
    assert not [one for one in other.json()["sections"] if one["kind"] == "livestream"]
