"""A booth's leads as CSV and XLSX over HTTP: the rows of the booth's page, phones masked
exactly as the page masks them; for the booth's staff, its signed-in device and the fair's
organisers; a 403 (401 without an account) for everyone else; buttons on both pages."""

from __future__ import annotations

import re

import httpx

from service.activities import services as activities
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, EmployerIn
from tests.conftest import Org, add_member, post_form, sign_in
from tests.http.activity_helpers import bearer, browser, workers
from tests.http.helpers import full_phones
from tests.http.test_jobfairs_device import issued_link, signed_in_device
from tests.http.test_jobfairs_pages import fair
from tests.service.test_exports import csv_rows, normal, xlsx_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def booth_with_leads(client: httpx.AsyncClient, org: Org) -> dict[str, object]:
    """A booth where four workers reached: intent (agreed to share the phone), intent (did
    not), consulted (agreed), signed (agreed)."""
    made = await fair(org)
    people = await workers(4)
    stages = ("intent", "intent", "consulted", "signed")
    for index, (person, stage) in enumerate(zip(people, stages, strict=True)):
        registration, _ = await activities.register(person.actor, made["activity_id"])
        await jobfairs.set_consent(person.actor, made["activity_id"], index != 1)
        answer = await client.post(
            "/api/v1/booth-scans",
            json={
                "booth_id": made["booth_id"],
                "code": registration.ticket_code,
                "stage": stage,
                "client_id": f"leads-file-{index:04d}",
                "posting_id": made["posting_id"] if index == 0 else None,
                "rating": 5 if index == 0 else None,
                "note": "+能上夜班" if index == 0 else "",
            },
            headers=await bearer(org.phones["organiser_a"]),
        )
        assert answer.status_code == 200, answer.text
    return {**made, "people": people}


def page_leads(html: str) -> list[tuple[str, str]]:
    """(name, phone shown) for each worker in the booth page's list, in its order."""
    section = html[html.index('id="leads"') :]
    return re.findall(
        r'<li><strong>([^<]+)</strong> (?:<a class="phone" href="tel:\d+">|<span class="phone">)'
        r"([^<]+)<",
        section,
    )


async def test_the_file_has_the_pages_rows_and_masks_as_the_page_does(
    client: httpx.AsyncClient, org: Org
) -> None:
    made = await booth_with_leads(client, org)
    people = made["people"]
    url = f"/api/v1/booths/{made['booth_id']}/leads"
    headers = await bearer(org.phones["organiser_a"])
    as_csv = await client.get(f"{url}.csv", headers=headers)
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["cache-control"] == "no-store"
    assert f'filename="booth-{made["booth_id"]}-leads.csv"' in as_csv.headers["content-disposition"]
    rows = csv_rows(as_csv.content)
    assert rows[0][:5] == ["姓名", "手机号", "职工群体", "岗位", "进展"]
    # Only the two who agreed and reached intent or beyond show in full.
    assert sorted(full_phones(as_csv.content.decode("utf-8-sig"))) == sorted(
        [people[0].phone, people[3].phone]
    )
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["职工0"][1:7] == [
        "13700000000",
        "快递员",
        "仓库分拣员1",
        "初步意向",
        "5",
        "'+能上夜班",
    ]
    assert by_name["职工1"][1] == "137****0001"
    assert by_name["职工2"][1] == "137****0002"

    await sign_in(client, org.phones["organiser_a"])
    page = await client.get(f"/booths/{made['booth_id']}")
    shown = page_leads(page.text)
    assert len(shown) == 4
    assert [(row[0], row[1]) for row in rows[1:]] == shown  # row for row, phone for phone
    assert f'href="{url}.xlsx"' in page.text and f'href="{url}.csv"' in page.text

    as_xlsx = await client.get(f"{url}.xlsx", headers=headers)
    assert as_xlsx.status_code == 200 and as_xlsx.headers["content-type"] == XLSX
    assert xlsx_rows(as_xlsx.content) == normal(rows)


async def test_staff_and_the_booths_device_may_download_and_no_one_else(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    made = await booth_with_leads(client, org)
    url = f"/api/v1/booths/{made['booth_id']}/leads.csv"
    await add_member("13600000002", "企业HR", "union-a", ["worker"])
    await jobfairs.assign_booth_staff(org.organiser_a, made["booth_id"], "13600000002")
    expected = (await client.get(url, headers=await bearer(org.phones["organiser_a"]))).content
    for phone in ("13600000002", org.phones["admin"]):
        answer = await client.get(url, headers=await bearer(phone))
        assert answer.status_code == 200 and answer.content == expected, phone
    for who in ("worker_a1", "staff_a", "organiser_b"):
        for fmt in ("csv", "xlsx"):
            answer = await client.get(
                f"/api/v1/booths/{made['booth_id']}/leads.{fmt}",
                headers=await bearer(org.phones[who]),
            )
            assert answer.status_code == 403, (who, fmt)
            assert answer.json()["message"], who
    assert (await client.get(url)).status_code == 401
    assert (
        await client.get(
            "/api/v1/booths/999999/leads.csv", headers=await bearer(org.phones["organiser_a"])
        )
    ).status_code == 404

    other = await jobfairs.create_booth(
        org.organiser_a,
        made["activity_id"],
        BoothIn(
            number="B2",
            employer_id=(
                await jobfairs.create_employer(
                    org.organiser_a, made["activity_id"], EmployerIn(name="别家")
                )
            ).id,
        ),
    )
    link = await issued_link(client, org, made["booth_id"])
    async with browser(app, "198.51.100.70") as device:
        await signed_in_device(device, link)
        page = await device.get("/booth-device")
        assert f'href="/api/v1/booths/{made["booth_id"]}/leads.csv"' in page.text
        mine = await device.get(url)
        assert mine.status_code == 200 and mine.content == expected
        assert (await device.get(f"/api/v1/booths/{other.id}/leads.csv")).status_code == 403
        await client.post(
            f"/api/v1/booths/{made['booth_id']}/device-links/revoke",
            headers=await bearer(org.phones["organiser_a"]),
        )
        assert (await device.get(url)).status_code == 403  # signed out by the revocation
    async with browser(app, "198.51.100.71") as stranger:
        await post_form(stranger, "/booth-device/sign-out", {})
        assert (await stranger.get(url)).status_code == 401


async def test_openapi_lists_the_leads_files(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for fmt in ("csv", "xlsx"):
        assert "get" in paths[f"/api/v1/booths/{{booth_id}}/leads.{fmt}"], fmt
