"""A booth device: an employer's HR person's phone, signed in by the booth's link with no
member account. It records stages at its booth and nothing else; a revoked link, a link
after the fair and a forged link are refused with a clear message, and write nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from service import clock
from service.activities import services as activities
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, EmployerIn
from service.jobfairs.tables import Lead, StageScan
from tests.conftest import Org, post_form
from tests.http.activity_helpers import END, bearer, browser, workers, zh
from tests.http.helpers import count, csrf_headers, set_cookie_header
from tests.http.test_jobfairs_pages import fair

DEVICE_COOKIE = "uh_booth_device"


async def issued_link(client: httpx.AsyncClient, org: Org, booth_id: int) -> dict[str, Any]:
    answer = await client.post(
        f"/api/v1/booths/{booth_id}/device-links", headers=await bearer(org.phones["organiser_a"])
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def signed_in_device(device: httpx.AsyncClient, link: dict[str, Any]) -> None:
    opened = await device.get(link["path"])
    assert opened.status_code in (302, 303), opened.text
    assert opened.headers["location"] == "/booth-device"
    cookie = set_cookie_header(opened, DEVICE_COOKIE)
    assert cookie is not None
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


async def scan_form(device: httpx.AsyncClient, code: str, stage: str, client_id: str) -> Any:
    return await post_form(
        device,
        "/booth-device/scan",
        {"code": code, "stage": stage, "posting_id": "", "client_id": client_id},
    )


async def test_a_device_records_at_its_booth_and_nowhere_else(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    made = await fair(org)
    people = await workers(2)
    tickets = [
        (await activities.register(person.actor, made["activity_id"]))[0].ticket_code
        for person in people
    ]
    link = await issued_link(client, org, made["booth_id"])
    assert link["booth_id"] == made["booth_id"] and link["path"].startswith("/booth-device/")
    async with browser(app, "198.51.100.20") as device:
        await signed_in_device(device, link)
        home = await device.get("/booth-device")
        assert home.status_code == 200
        assert "顺达物流" in home.text and "/booth-device/scan" in home.text
        recorded = await scan_form(device, tickets[0], "interview", "device-scan-0001")
        assert recorded.status_code == 200
        assert await count(Lead) == 1
        lead = await Lead.select().first().run()
        assert lead is not None and lead["stage"] == "interview"
        logged = await StageScan.select().first().run()
        assert logged is not None and logged["actor_name"].startswith("booth A1")
        # The offline queue's API path takes the device too (cookie + CSRF header).
        synced = await device.post(
            "/api/v1/booth-scans/batch",
            json={
                "booth_id": made["booth_id"],
                "scans": [
                    {"code": tickets[1], "stage": "intent", "client_id": "device-batch-0001"}
                ],
            },
            headers=csrf_headers(device),
        )
        assert synced.status_code == 200, synced.text
        assert synced.json()["results"][0]["result"] == "recorded"
        assert await count(Lead) == 2

        # Another booth of the same fair: refused, nothing written.
        other_employer = await jobfairs.create_employer(
            org.organiser_a, made["activity_id"], EmployerIn(name="别家", approved=True)
        )
        other_booth = await jobfairs.create_booth(
            org.organiser_a,
            made["activity_id"],
            BoothIn(number="B2", employer_id=other_employer.id),
        )
        elsewhere = await device.post(
            "/api/v1/booth-scans",
            json={
                "booth_id": other_booth.id,
                "code": tickets[0],
                "stage": "consulted",
                "client_id": "device-scan-0002",
            },
            headers=csrf_headers(device),
        )
        assert elsewhere.status_code == 403
        assert await count(Lead) == 2 and await count(StageScan) == 2
        assert (await device.get(f"/api/v1/booths/{other_booth.id}/leads")).status_code == 403

        # No other page: the device is no member.
        for path in (
            f"/booths/{made['booth_id']}",
            f"/organise/activities/{made['activity_id']}/jobfair",
            "/profile",
            "/booths",
        ):
            answer = await device.get(path)
            assert answer.status_code in (302, 303), path
            assert answer.headers["location"].startswith("/signin"), path
        for path in (
            f"/api/v1/activities/{made['activity_id']}/jobfair-report",
            f"/api/v1/activities/{made['activity_id']}/employers",
        ):
            assert (await device.get(path)).status_code == 401, path
        refused = await device.post(
            f"/api/v1/booths/{made['booth_id']}/device-links", headers=csrf_headers(device)
        )
        assert refused.status_code == 401
        materials = await post_form(device, f"/booths/{made['booth_id']}/materials", {"delta": "5"})
        assert materials.status_code in (302, 303) and "/signin" in materials.headers["location"]


async def test_revoked_link_is_refused_and_the_new_one_works(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    made = await fair(org)
    (person,) = await workers(1)
    registration, _ = await activities.register(person.actor, made["activity_id"])
    link = await issued_link(client, org, made["booth_id"])
    assert (await issued_link(client, org, made["booth_id"]))["code"] == link["code"]
    async with browser(app, "198.51.100.21") as device:
        await signed_in_device(device, link)
        revoked = await client.post(
            f"/api/v1/booths/{made['booth_id']}/device-links/revoke",
            headers=await bearer(org.phones["organiser_a"]),
        )
        assert revoked.status_code == 200
        fresh = revoked.json()
        assert fresh["version"] == link["version"] + 1 and fresh["code"] != link["code"]
        page = await device.get("/booth-device")
        assert page.status_code == 403
        message = zh(
            "This device link was revoked by the organiser. Ask them for the booth's new link."
        )
        assert message in page.text
        refused = await scan_form(device, registration.ticket_code, "consulted", "revoked-0001")
        assert refused.status_code == 403 and message in refused.text
        reopened = await device.get(link["path"])
        assert reopened.status_code == 403 and message in reopened.text
        assert await count(Lead) == 0 and await count(StageScan) == 0
        await signed_in_device(device, fresh)
        recorded = await scan_form(device, registration.ticket_code, "consulted", "fresh-00001")
        assert recorded.status_code == 200 and await count(Lead) == 1


async def test_links_after_the_fair_forged_and_by_non_organisers_are_refused(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    made = await fair(org)
    (person,) = await workers(1)
    registration, _ = await activities.register(person.actor, made["activity_id"])
    link = await issued_link(client, org, made["booth_id"])
    for phone, status in (("staff_a", 403), ("organiser_b", 404)):
        other = await client.post(
            f"/api/v1/booths/{made['booth_id']}/device-links",
            headers=await bearer(org.phones[phone]),
        )
        assert other.status_code == status, phone
    async with browser(app, "198.51.100.22") as device:
        forged = link["code"][:-4] + ("AAAA" if not link["code"].endswith("AAAA") else "BBBB")
        assert (await device.get("/booth-device/" + forged)).status_code == 403
        assert (await device.get("/booth-device/not-a-code")).status_code == 403
        assert (await device.get("/booth-device")).status_code in (302, 303, 403)
        await signed_in_device(device, link)
        with clock.frozen_at(END + timedelta(minutes=1)):
            over = await device.get("/booth-device")
            refused = await scan_form(device, registration.ticket_code, "consulted", "late-00001")
        message = zh("The fair is over: this device link no longer works.")
        assert over.status_code == 403 and message in over.text
        assert refused.status_code == 403
        assert await count(Lead) == 0 and await count(StageScan) == 0
