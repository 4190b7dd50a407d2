"""A booth device on a 360 px phone: the organiser's booth page shows the device link;
an HR person's phone opens it (no member account), loses the network, records a worker's
preliminary intent by the ticket code, gets the network back, and the queued stage
reaches the organiser's report. Screenshots in zh-CN and English are kept."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from service.activities import services as activities
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, EmployerIn, PostingIn
from service.jobfairs.tables import Lead
from tests.browser.test_signin_phone import sign_in, snap, zh
from tests.conftest import ENGINE, Org
from tests.http.activity_helpers import new_published

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def test_booth_device_records_offline_and_the_report_shows_it(
    phone_page: Any, second_phone_page: Any, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20, title="春风行动专场招聘会")
    employer = await jobfairs.create_employer(
        org.organiser_a, fair_id, EmployerIn(name="顺达快递城关站", approved=True)
    )
    booth = await jobfairs.create_booth(
        org.organiser_a, fair_id, BoothIn(number="A01", employer_id=employer.id)
    )
    await jobfairs.create_posting(
        org.organiser_a,
        fair_id,
        PostingIn(
            employer_id=employer.id, title="快递收派员", headcount=5, pay_min=6000, pay_max=9000
        ),
    )
    registration, _ = await activities.register(org.worker_a1, fair_id)
    assert registration.ticket_code

    organiser = second_phone_page
    await organiser.goto("/signin")
    await sign_in(organiser, org.phones["organiser_a"])
    await expect(organiser.locator("nav.bottom")).to_be_visible()
    await organiser.goto(f"/booths/{booth.id}")
    link = organiser.locator("#device a.break")
    await expect(link).to_be_visible()
    await snap(organiser, "jobfair-device-link-360")
    path = await link.get_attribute("href")
    assert path and path.startswith("/booth-device/")

    device = phone_page
    await device.goto(path)
    await expect(device.locator("h1")).to_contain_text("顺达快递城关站")
    await snap(device, "jobfair-device-360")
    await device.context.set_offline(True)
    await device.locator("#code").fill(registration.ticket_code)
    await device.locator("#posting_id").select_option(label="快递收派员")
    await device.get_by_role("button", name=zh("Preliminary intent")).click()
    await expect(device.locator("#offline-badge")).to_contain_text(
        zh("Offline — %(n)s waiting to sync", n=1)
    )
    await snap(device, "jobfair-device-offline-360")
    assert await Lead.count().run() == 0
    await device.context.set_offline(False)
    await device.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(device.locator("#sync-status")).to_contain_text(
        zh("Synced: %(n)s stages sent.", n=1)
    )
    lead = await Lead.select().first().run()
    assert lead is not None and lead["stage"] == "intent"

    await organiser.goto(f"/organise/activities/{fair_id}/report")
    section = organiser.locator("body")
    await expect(section).to_contain_text(zh("Workers at or beyond preliminary intent"))
    await expect(section).to_contain_text("快递收派员")

    # English: the organiser's booth page and the device page must fit too.
    await organiser.goto(f"/booths/{booth.id}")
    await organiser.get_by_role("button", name="English").click()
    await expect(organiser.locator("#device h2")).to_have_text("Device link for the booth's phones")
    await snap(organiser, "jobfair-device-link-360-en")
    await device.context.add_cookies([{"name": "uh_lang", "value": "en", "url": device.url}])
    await device.goto("/booth-device")
    await expect(device.locator("#booth-scan")).to_contain_text("Record the stage")
    await snap(device, "jobfair-device-360-en")
