"""A job fair on 360 px phones, without the offline scanner (phase 2): a worker finds and
bookmarks a job and ticks the consent; booth staff type the worker's ticket code on the
booth page and record preliminary intent; the intent shows in the organiser's report and
on the worker's ticket page. Every page must fit the width; screenshots are kept."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from service.activities import services as activities
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, EmployerIn, PostingIn
from tests.browser.test_signin_phone import sign_in, snap, zh
from tests.conftest import ENGINE, Org
from tests.http.activity_helpers import new_published

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def test_worker_bookmarks_booth_records_intent_report_and_ticket_show_it(
    phone_page: Any, second_phone_page: Any, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20, title="春风行动·春送岗位专场招聘会")
    employer = await jobfairs.create_employer(
        org.organiser_a,
        fair_id,
        EmployerIn(
            name="顺达快递城关站",
            industry="快递物流",
            contact_name="刘经理",
            contact_phone="13911110001",
        ),
    )
    booth = await jobfairs.create_booth(
        org.organiser_a, fair_id, BoothIn(number="A01", employer_id=employer.id)
    )
    for title, low, high in (("快递收派员", 6000, 9000), ("仓库分拣员", 4800, 6000)):
        await jobfairs.create_posting(
            org.organiser_a,
            fair_id,
            PostingIn(
                employer_id=employer.id,
                title=title,
                headcount=10,
                pay_min=low,
                pay_max=high,
                district="城关镇",
                requirements="吃苦耐劳，能上夜班",
                worker_groups=["courier"],
            ),
        )
    await jobfairs.assign_booth_staff(org.organiser_a, booth.id, org.phones["staff_a"])

    worker = phone_page
    await worker.goto("/signin")
    await sign_in(worker, org.phones["worker_a1"])
    await expect(worker.locator("nav.bottom")).to_be_visible()
    await worker.goto(f"/activities/{fair_id}")
    await worker.get_by_role("link", name=zh("Browse and bookmark the jobs")).click()
    await expect(worker.locator("h1")).to_have_text(zh("Jobs at this fair"))
    await (
        worker.locator("li.posting")
        .filter(has_text="快递收派员")
        .get_by_role("button", name=f"☆ {zh('Bookmark')}")
        .click()
    )
    await expect(worker.locator("li.posting").filter(has_text="快递收派员")).to_contain_text(
        zh("Bookmarked")
    )
    await worker.locator("input[name=share_phone]").check()
    await worker.get_by_role("button", name=zh("Sign up for the fair")).click()
    await expect(worker.locator("#signup")).to_contain_text(zh("You are confirmed."))
    await worker.goto(f"/activities/{fair_id}/jobs")
    await snap(worker, "jobfair-jobs-360")
    registration = await activities.my_registration(org.worker_a1, fair_id)
    assert registration and registration.ticket_code

    staff = second_phone_page
    await staff.goto("/signin")
    await sign_in(staff, org.phones["staff_a"])
    await expect(staff.locator("nav.bottom")).to_be_visible()
    await staff.goto("/booths")
    await staff.get_by_role("link", name="A01").click()
    await staff.locator("#code").fill(registration.ticket_code)
    await staff.locator("#posting_id").select_option(label="快递收派员")
    await staff.get_by_role("button", name=zh("Preliminary intent")).click()
    await expect(staff.locator("p[role=status]")).to_contain_text(zh("Preliminary intent"))
    await expect(staff.locator("#leads")).to_contain_text("13800000005")  # consent + intent
    await snap(staff, "jobfair-booth-360")

    await worker.goto(f"/me/tickets/{registration.id}")
    await expect(worker.locator("#booth-visits")).to_contain_text("13911110001")
    await snap(worker, "jobfair-ticket-360")

    await staff.context.clear_cookies()
    await staff.goto("/signin")
    await sign_in(staff, org.phones["organiser_a"])
    await expect(staff.locator("nav.bottom")).to_be_visible()
    await staff.goto(f"/organise/activities/{fair_id}/report")
    await expect(staff.locator("body")).to_contain_text(
        zh("Workers at or beyond preliminary intent")
    )
    await snap(staff, "jobfair-report-360")
    await staff.goto(f"/organise/activities/{fair_id}/jobfair")
    await snap(staff, "jobfair-setup-360")

    # The same pages in English must fit too.
    await staff.get_by_role("button", name="English").click()
    await expect(staff.locator("h1")).to_have_text("Employers, booths and jobs")
    await snap(staff, "jobfair-setup-360-en")
    await staff.goto(f"/booths/{booth.id}")
    await expect(staff.locator("#leads")).to_contain_text("Preliminary intent")
    await snap(staff, "jobfair-booth-360-en")
    await staff.goto(f"/activities/{fair_id}/jobs")
    await snap(staff, "jobfair-jobs-360-en")
