"""Export routes over HTTP: files, masking, the admin's audited unmasked export, the JSON
report and its files agreeing, scope, bad parameters, and the job routes' guards."""

from __future__ import annotations

import codecs
from typing import Any

import httpx

from service.reports.tables import ExportAudit
from tests.conftest import Org, post_form, sign_in
from tests.http.activity_helpers import bearer
from tests.http.helpers import full_phones
from tests.service.test_exports import (
    by_label,
    csv_rows,
    door_fixture,
    headline,
    normal,
    xlsx_rows,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def get(client: httpx.AsyncClient, url: str, phone: str, **params: Any) -> httpx.Response:
    return await client.get(url, params=params, headers=await bearer(phone))


async def test_registration_files_are_masked_downloads(client: httpx.AsyncClient, org: Org) -> None:
    door = await door_fixture(org)
    base = f"/api/v1/activities/{door.activity_id}/registrations"
    as_csv = await get(client, f"{base}.csv", org.phones["organiser_a"])
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["cache-control"] == "no-store"
    assert "attachment" in as_csv.headers["content-disposition"]
    assert as_csv.content.startswith(codecs.BOM_UTF8)
    assert full_phones(as_csv.content.decode("utf-8-sig")) == []
    rows = csv_rows(as_csv.content)
    assert len(rows) == 6

    as_xlsx = await get(client, f"{base}.xlsx", org.phones["organiser_a"])
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["content-type"] == XLSX
    assert as_xlsx.content[:2] == b"PK"  # a zip, as every XLSX is
    read_back = xlsx_rows(as_xlsx.content)
    assert full_phones("\n".join(",".join(row) for row in read_back)) == []
    assert read_back == normal(rows)


async def test_report_files_agree_with_the_json(client: httpx.AsyncClient, org: Org) -> None:
    door = await door_fixture(org)
    phone = org.phones["organiser_a"]
    base = f"/api/v1/activities/{door.activity_id}/report"
    json_report = (await get(client, base, phone)).json()
    as_csv = csv_rows((await get(client, f"{base}.csv", phone)).content)
    as_xlsx = xlsx_rows((await get(client, f"{base}.xlsx", phone)).content)
    assert as_xlsx == normal(as_csv)

    class Report:  # the JSON under the attribute names by_label reads
        pass

    report = Report()
    for key, value in json_report.items():
        setattr(report, key, value)
    expected = by_label(report)
    assert expected["报名人数"] == "5" and expected["未到场率"] == "0.25"
    for rows in (as_csv, as_xlsx):
        figures = headline(rows)
        for label, value in expected.items():
            assert figures[label] == value, label


async def test_scope_worker_403_other_organiser_404_anonymous_401(
    client: httpx.AsyncClient, org: Org
) -> None:
    door = await door_fixture(org)
    for path in ("report.csv", "report.xlsx", "registrations.csv", "registrations.xlsx"):
        url = f"/api/v1/activities/{door.activity_id}/{path}"
        assert (await get(client, url, org.phones["worker_a1"])).status_code == 403
        assert (await get(client, url, org.phones["organiser_b"])).status_code == 404
        assert (await client.get(url)).status_code == 401
    url = f"/api/v1/activities/{door.activity_id}/registrations/export"
    worker = await client.post(
        url, json={"format": "csv"}, headers=await bearer(org.phones["worker_a1"])
    )
    assert worker.status_code == 403
    outsider = await client.post(
        url, json={"format": "csv"}, headers=await bearer(org.phones["organiser_b"])
    )
    assert outsider.status_code == 404
    missing = await get(client, "/api/v1/activities/999999/registrations.csv", org.phones["admin"])
    assert missing.status_code == 404


async def test_unmasked_only_for_an_admin_with_a_reason(
    client: httpx.AsyncClient, org: Org
) -> None:
    door = await door_fixture(org)
    url = f"/api/v1/activities/{door.activity_id}/registrations.csv"
    organiser = await get(client, url, org.phones["organiser_a"], unmasked="1", reason="核对")
    assert organiser.status_code == 403
    assert organiser.json()["code"] == "forbidden"
    no_reason = await get(client, url, org.phones["admin"], unmasked="1")
    assert no_reason.status_code == 400
    assert no_reason.json()["field"] == "reason"
    assert await ExportAudit.count().run() == 0

    allowed = await get(client, url, org.phones["admin"], unmasked="1", reason="上报核对")
    assert allowed.status_code == 200
    assert sorted(full_phones(allowed.content.decode("utf-8-sig"))) == sorted(door.phones)
    audits = await ExportAudit.select().run()
    assert [(a["member_id"], a["reason"], a["row_count"]) for a in audits] == [
        (org.admin.member_id, "上报核对", 5)
    ]
    masked = await get(client, url, org.phones["admin"])
    assert full_phones(masked.content.decode("utf-8-sig")) == []
    assert await ExportAudit.count().run() == 1


async def test_bad_parameters_are_400(client: httpx.AsyncClient, org: Org) -> None:
    door = await door_fixture(org)
    admin = org.phones["admin"]
    url = f"/api/v1/activities/{door.activity_id}/registrations.csv"
    huge = await get(client, url, admin, unmasked="1", reason="理" * 501)
    assert (huge.status_code, huge.json()["field"]) == (400, "reason")
    flag = await get(client, url, admin, unmasked="perhaps", reason="x")
    assert (flag.status_code, flag.json()["field"]) == (400, "unmasked")
    start = f"/api/v1/activities/{door.activity_id}/registrations/export"
    headers = await bearer(admin)
    for body, field in (
        ({"format": "pdf"}, "format"),
        ({"format": "csv", "unmasked": True}, "reason"),
        ({"format": "xlsx", "unmasked": True, "reason": "x" * 501}, "reason"),
    ):
        response = await client.post(start, json=body, headers=headers)
        assert (response.status_code, response.json().get("field")) == (400, field), body
    shapeless = await client.post(start, json={"unmasked": "yes"}, headers=headers)
    assert shapeless.status_code == 400
    assert await ExportAudit.count().run() == 0


async def test_job_routes_refuse_unknown_and_foreign_ids(
    client: httpx.AsyncClient, org: Org
) -> None:
    admin = await bearer(org.phones["admin"])
    for job_id in ("nope", "0" * 32, "../../etc/passwd"):
        for url in (f"/api/v1/exports/{job_id}", f"/api/v1/exports/{job_id}/download"):
            response = await client.get(url, headers=admin)
            assert response.status_code == 404, url


async def test_the_report_and_roster_pages_offer_the_exports(
    client: httpx.AsyncClient, org: Org
) -> None:
    """Every export is a tap away on the organiser's screens; a long list is exported in
    the background and its progress page follows the tap."""
    door = await door_fixture(org)
    await sign_in(client, org.phones["organiser_a"])
    for url in (
        f"/organise/activities/{door.activity_id}/report",
        f"/organise/activities/{door.activity_id}",
    ):
        html = (await client.get(url)).text
        assert f'href="/api/v1/activities/{door.activity_id}/report.xlsx"' in html, url
        assert f'action="/organise/activities/{door.activity_id}/export"' in html, url
        assert 'name="unmasked"' not in html  # full phones are for admins only

    started = await post_form(
        client, f"/organise/activities/{door.activity_id}/export", {"format": "csv"}
    )
    assert started.status_code in (302, 303)
    assert started.headers["location"].startswith("/organise/exports/")
    progress = await client.get(started.headers["location"])
    assert progress.status_code == 200
    assert "<progress" in progress.text

    sneaky = await post_form(
        client,
        f"/organise/activities/{door.activity_id}/export",
        {"format": "csv", "unmasked": "1", "reason": "想看看"},
    )
    assert sneaky.status_code == 403
    bad = await post_form(
        client, f"/organise/activities/{door.activity_id}/export", {"format": "pdf"}
    )
    assert bad.status_code == 400
