"""Issue 11's whole day on 360 px phones, in one run: a worker bookmarks a job and signs
up with the consent tick; the door admits the ticket at the entrance; an HR person's phone,
signed in by the booth's device link alone (no member account), scans the ticket while
offline, records preliminary intent and syncs; the intent then shows in the organiser's
report (counted, not flagged as missing the entrance) and, with the employer's contact, on
the worker's ticket page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from service.activities import services as activities
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, EmployerIn, PostingIn
from service.jobfairs.tables import Lead
from tests.browser.conftest import PHONE
from tests.browser.test_scanner_camera import open_door, scanner_page
from tests.browser.test_signin_phone import sign_in, snap, zh
from tests.conftest import ENGINE, Org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def test_bookmark_entrance_offline_booth_scan_report_and_ticket(
    browser: Any, server: str, phone_page: Any, second_phone_page: Any, org: Org
) -> None:
    fair_id = await open_door(org)
    employer = await jobfairs.create_employer(
        org.organiser_a,
        fair_id,
        EmployerIn(
            name="顺达快递城关站", contact_name="刘经理", contact_phone="13911110001", approved=True
        ),
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

    # Before the fair: the worker bookmarks the job and signs up, sharing the phone.
    worker = phone_page
    await worker.goto("/signin")
    await sign_in(worker, org.phones["worker_a1"])
    await expect(worker.locator("nav.bottom")).to_be_visible()
    await worker.goto(f"/activities/{fair_id}/jobs")
    posting = worker.locator("li.posting").filter(has_text="快递收派员")
    await posting.get_by_role("button", name=f"☆ {zh('Bookmark')}").click()
    await expect(posting).to_contain_text(zh("Bookmarked"))
    await worker.locator("input[name=share_phone]").check()
    await worker.get_by_role("button", name=zh("Sign up for the fair")).click()
    await expect(worker.locator("#signup")).to_contain_text(zh("You are confirmed."))
    registration = await activities.my_registration(org.worker_a1, fair_id)
    assert registration and registration.ticket_code

    # At the entrance: the door admits the ticket as a hardware scanner types it.
    door = await scanner_page(browser, server, org, fair_id)
    try:
        await door.locator("#code").press_sequentially(registration.ticket_code, delay=0)
        await door.locator("#code").press("Enter")
        await expect(door.locator("#verdict")).to_have_attribute("data-result", "admitted")
    finally:
        await door.context.close()

    # The organiser hands the booth its device link.
    organiser = second_phone_page
    await organiser.goto("/signin")
    await sign_in(organiser, org.phones["organiser_a"])
    await expect(organiser.locator("nav.bottom")).to_be_visible()
    await organiser.goto(f"/booths/{booth.id}")
    link = organiser.locator("#device a.break")
    await expect(link).to_be_visible()
    path = await link.get_attribute("href")
    assert path and path.startswith("/booth-device/")

    # At the booth: a phone with no member account, offline, records intent, then syncs.
    context = await browser.new_context(base_url=server, **PHONE)
    context.set_default_timeout(10_000)
    device = await context.new_page()
    try:
        await device.goto(path)
        await expect(device.locator("h1")).to_contain_text("顺达快递城关站")
        await context.set_offline(True)
        await device.locator("#code").fill(registration.ticket_code)
        await device.locator("#posting_id").select_option(label="快递收派员")
        await device.get_by_role("button", name=zh("Preliminary intent")).click()
        await expect(device.locator("#offline-badge")).to_contain_text(
            zh("Offline — %(n)s waiting to sync", n=1)
        )
        assert await Lead.count().run() == 0
        await context.set_offline(False)
        await device.evaluate("window.dispatchEvent(new Event('online'))")
        await expect(device.locator("#sync-status")).to_contain_text(
            zh("Synced: %(n)s stages sent.", n=1)
        )
        await snap(device, "jobfair-whole-day-device-360")
    finally:
        await context.close()

    # After: the organiser's report counts the intent, and nobody skipped the entrance.
    report = await jobfairs.jobfair_report(org.organiser_a, fair_id)
    assert (report.checked_in, report.intent_or_above, report.not_checked_in) == (1, 1, 0)
    await organiser.goto(f"/organise/activities/{fair_id}/report")
    body = organiser.locator("body")
    await expect(body).to_contain_text(zh("Workers at or beyond preliminary intent"))
    await expect(body).to_contain_text("快递收派员")
    await snap(organiser, "jobfair-whole-day-report-360")

    # And the worker's ticket lists the booth with the employer's contact.
    await worker.goto(f"/me/tickets/{registration.id}")
    visits = worker.locator("#booth-visits")
    await expect(visits).to_contain_text("顺达快递城关站")
    await expect(visits).to_contain_text("13911110001")
    await snap(worker, "jobfair-whole-day-ticket-360")
