"""The room and plan reports over HTTP: files (CSV, XLSX) with the page's figures, the
buttons that reach them, who may have them; the room editor's list of sessions a closure
hits, with their registrants and a move or cancel for each."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import httpx

from service import clock
from service.activities import services as activities
from service.reading import services as reading
from service.reading.schemas import ExceptionIn
from tests.conftest import Org, add_member, post_form, sign_in
from tests.http.activity_helpers import bearer
from tests.http.helpers import zh
from tests.service.test_exports import csv_rows, normal, xlsx_rows
from tests.service.test_reading import NOW, local, plan_of_four, seed_room
from tests.service.test_reading_reports import came

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def get(client: httpx.AsyncClient, url: str, phone: str, **params: Any) -> httpx.Response:
    return await client.get(url, params=params, headers=await bearer(phone))


async def a_month_of_reading(org: Org) -> tuple[int, int, list[int]]:
    room_id = await seed_room(org)
    plan_id, ids = await plan_of_four(org, room_id)
    await came(org.organiser_a, org.worker_a1, ids[0], 0)
    await came(org.organiser_a, org.worker_a1, ids[1], 1)
    await reading.post_note(org.worker_a1, ids[1], "读后感")
    await reading.set_demand(org.worker_a1, room_id, ["1:evening", "5:morning"])
    return room_id, plan_id, ids


def block(rows: list[list[str]], first_cell: str) -> list[list[str]]:
    """The rows of the block whose header row starts with `first_cell`, up to a blank."""
    start = next(i for i, row in enumerate(rows) if row and row[0] == first_cell)
    end = next((i for i in range(start, len(rows)) if not rows[i]), len(rows))
    return rows[start + 1 : end]


async def test_the_room_report_files_carry_the_page_s_figures(
    client: httpx.AsyncClient, org: Org
) -> None:
    room_id, _, _ = await a_month_of_reading(org)
    phone = org.phones["organiser_a"]
    base = f"/api/v1/reading-rooms/{room_id}/report"
    with clock.frozen_at(NOW):
        report = (await get(client, base, phone, year=2026)).json()
        as_csv = await get(client, f"{base}.csv", phone, year=2026)
        as_xlsx = await get(client, f"{base}.xlsx", phone, year=2026)
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert as_xlsx.headers["content-type"] == XLSX
    rows = csv_rows(as_csv.content)
    assert xlsx_rows(as_xlsx.content) == normal(rows)

    headline = {row[0]: row[1] for row in rows[1:6]}
    assert headline[zh("Unique readers")] == str(report["unique_readers"]) == "1"
    assert headline[zh("Repeat readers (2+ sessions)")] == str(report["repeat_readers"]) == "1"
    assert headline[zh("Notes posted")] == str(report["notes"]) == "1"
    months = block(rows, zh("Month"))
    assert [
        [
            m["month"],
            str(m["hours_open"]),
            str(m["sessions"]),
            str(m["seats_offered"]),
            str(m["attendance"]),
        ]
        for m in report["months"]
    ] == months
    assert months[2][2:] == ["4", "46", "2"]  # March: four sessions, 46 seats, two visits
    demand = block(rows, zh("When workers could come"))
    assert [[int(cell) for cell in row[1:]] for row in demand] == report["demand"]["grid"]


async def test_the_plan_report_files_carry_the_page_s_figures(
    client: httpx.AsyncClient, org: Org
) -> None:
    _, plan_id, _ = await a_month_of_reading(org)
    phone = org.phones["organiser_a"]
    base = f"/api/v1/study-plans/{plan_id}/report"
    report = (await get(client, base, phone)).json()
    rows = csv_rows((await get(client, f"{base}.csv", phone)).content)
    assert xlsx_rows((await get(client, f"{base}.xlsx", phone)).content) == normal(rows)
    headline = {row[0]: row[1] for row in rows[1:7]}
    assert headline[zh("Members who joined")] == str(report["members_joined"]) == "1"
    assert headline[zh("Completed the whole series")] == str(report["completed_series"]) == "0"
    sessions = block(rows, "#")
    assert [row[5:] for row in sessions] == [
        [str(s["joined"]), str(s["attended"]), str(s["notes"])] for s in report["sessions"]
    ]
    assert [row[6] for row in sessions] == ["1", "1", "0", "0"]
    hours_rows = block(rows, zh("Month"))
    assert hours_rows == [
        [h["month"], h["room_name"], str(h["hours_open"])] for h in report["hours_open"]
    ]
    assert hours_rows == [["2026-03", "甲镇职工书屋", "91.0"]]  # 13 open days x 7 h
    demand = block(rows, zh("When workers could come"))
    assert [[int(cell) for cell in row[1:]] for row in demand] == report["demand"]["grid"]
    assert report["demand"]["grid"][1][2] == report["demand"]["grid"][5][0] == 1

    await sign_in(client, phone)
    page = await client.get(f"/organise/study-plans/{plan_id}/report")
    assert page.status_code == 200
    assert f'href="/api/v1/study-plans/{plan_id}/report.csv"' in page.text
    figures = re.findall(r"<dd>(\d+)</dd>", page.text)
    assert figures[:5] == [
        headline[zh(label)]
        for label in (
            "Members who joined",
            "Unique readers",
            "Repeat readers (2+ sessions)",
            "Completed the whole series",
            "Notes posted",
        )
    ]
    hours_part = page.text.split('id="rooms-hours"')[1].split('class="grid"')[0]
    shown = [
        [month, room, figure]
        for room, table in re.findall(r"<h3>([^<]+)</h3>(.*?)</table>", hours_part, re.S)
        for month, figure in re.findall(
            r'<td class="month">([\d-]+)</td><td class="num">([\d.]+)</td>', table
        )
    ]
    assert shown == hours_rows
    grid_part = page.text.split('class="grid"')[1].split("</table>")[0]
    cells = [cell.strip() for cell in re.findall(r"<td[^>]*>([^<]*)</td>", grid_part)]
    assert [int(cell or 0) for cell in cells] == [
        n for row in report["demand"]["grid"] for n in row
    ]
    await post_form(client, "/language", {"language": "en", "next": "/"})
    english = await client.get(f"/organise/study-plans/{plan_id}/report")
    assert "Completed the whole series" in english.text
    assert "When workers could come" in english.text


async def test_the_room_report_page_offers_both_reports_as_files(
    client: httpx.AsyncClient, org: Org
) -> None:
    room_id, plan_id, _ = await a_month_of_reading(org)
    await sign_in(client, org.phones["organiser_a"])
    with clock.frozen_at(NOW):
        page = await client.get(f"/organise/reading-rooms/{room_id}/report?year=2026")
    assert page.status_code == 200
    for href in (
        f"/api/v1/reading-rooms/{room_id}/report.xlsx?year=2026",
        f"/api/v1/reading-rooms/{room_id}/report.csv?year=2026",
        f"/organise/study-plans/{plan_id}/report",
        f"/api/v1/study-plans/{plan_id}/report.xlsx",
        f"/api/v1/study-plans/{plan_id}/report.csv",
    ):
        assert f'href="{href}"' in page.text, href


async def test_only_the_organisers_have_the_report_files(
    client: httpx.AsyncClient, org: Org
) -> None:
    room_id, plan_id, _ = await a_month_of_reading(org)
    urls = [
        f"/api/v1/reading-rooms/{room_id}/report.csv",
        f"/api/v1/reading-rooms/{room_id}/report.xlsx",
        f"/api/v1/study-plans/{plan_id}/report",
        f"/api/v1/study-plans/{plan_id}/report.csv",
    ]
    for url in urls:
        assert (await client.get(url)).status_code == 401, url
        assert (await get(client, url, org.phones["worker_a1"])).status_code == 403, url
        assert (await get(client, url, org.phones["organiser_b"])).status_code == 403, url
    bad_year = await get(
        client, f"/api/v1/reading-rooms/{room_id}/report.csv", org.phones["organiser_a"], year=1
    )
    assert bad_year.status_code == 400
    missing = await get(client, "/api/v1/study-plans/999999/report.csv", org.phones["admin"])
    assert missing.status_code == 404


async def test_a_closure_lists_the_sessions_it_hits_with_registrants_to_move_or_cancel(
    client: httpx.AsyncClient, org: Org
) -> None:
    room_id, _, ids = await a_month_of_reading(org)
    third_tuesday = date(2026, 3, 3) + timedelta(days=14)
    reader = await add_member("13700000031", "职工丁", "ent-a1", ["worker"])
    with clock.frozen_at(NOW):
        await activities.register(reader, ids[2])
        await reading.add_exception(
            org.organiser_a, room_id, ExceptionIn(starts_on=third_tuesday, note="停电")
        )
    await sign_in(client, org.phones["organiser_a"])
    with clock.frozen_at(NOW):
        editor = await client.get(f"/organise/reading-rooms/{room_id}")
    assert editor.status_code == 200
    # Listed whenever the editor opens, not only right after the closure was added.
    listed = re.findall(r'class="affected-session" data-activity="(\d+)"', editor.text)
    assert listed == [str(ids[2])]
    assert zh("Who will be told") in editor.text
    assert "职工丁 · 137****0031" in editor.text and "13700000031" not in editor.text
    assert f'href="/organise/activities/{ids[2]}/edit"' in editor.text
    assert f'action="/organise/activities/{ids[2]}/cancel"' in editor.text
    assert zh("Cancel this session") in editor.text

    with clock.frozen_at(NOW):
        asked = await post_form(
            client,
            f"/organise/activities/{ids[2]}/cancel",
            {"reason": zh("The reading room is closed that day.")},
        )
        assert asked.status_code == 200  # the core asks to confirm first
        done = await post_form(
            client,
            f"/organise/activities/{ids[2]}/cancel",
            {"reason": zh("The reading room is closed that day."), "confirm": "yes"},
        )
        assert done.status_code in (302, 303)
        after = await client.get(f"/organise/reading-rooms/{room_id}")
    assert (await activities.get_activity(org.organiser_a, ids[2])).status == "cancelled"
    assert 'class="affected-session"' not in after.text
    assert local(third_tuesday, 14) > NOW
