"""Employer invite links on a 360 px phone: the organiser creates the fair's invite link
(shown with its QR and a field to copy), a company's HR person opens it with no account
and enters the company, which then waits in the organiser's employer list; withdrawing the
link asks first. Both screens fit the phone in zh-CN and English (screenshots kept)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from service.jobfairs.tables import Employer
from tests.browser.test_signin_phone import SCREENSHOTS, expect_fits, sign_in, snap, zh
from tests.conftest import ENGINE, Org
from tests.http.activity_helpers import new_published

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def snap_part(page: Any, selector: str, name: str) -> None:
    """One card of a long page, to look at closely (the page itself must fit the phone)."""
    await expect_fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.locator(selector).screenshot(path=str(SCREENSHOTS / f"{name}.png"))


async def test_an_invited_company_joins_from_its_phone_and_waits_for_approval(
    phone_page: Any, second_phone_page: Any, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20, title="春风行动专场招聘会")
    organiser = second_phone_page
    await organiser.goto("/signin")
    await sign_in(organiser, org.phones["organiser_a"])
    await expect(organiser.locator("nav.bottom")).to_be_visible()
    await organiser.goto(f"/organise/activities/{fair_id}/jobfair")
    await organiser.get_by_role("button", name=zh("Create an invite link")).click()
    field = organiser.locator("#invite-link")
    await expect(field).to_be_visible()
    await expect(organiser.locator("#invite svg")).to_be_visible()
    url = await field.input_value()
    assert "/employer-invite/" in url
    await snap(organiser, "jobfair-invite-setup-360")
    await snap_part(organiser, "#invite", "jobfair-invite-panel-360")
    # The QR fits the card, and the copy field holds the whole link.
    box = await organiser.locator("#invite svg").bounding_box()
    assert box is not None and box["width"] <= 360

    company = phone_page
    path = url[url.index("/employer-invite/") :]
    await company.goto(path)
    await expect(company.locator("h1")).to_have_text("春风行动专场招聘会")
    await snap(company, "jobfair-invite-page-360")
    await company.locator("#name").fill("惠民电子装配厂")
    await company.locator("#industry").fill("电子制造")
    await company.locator("#contact_name").fill("林主管")
    await company.locator("#contact_phone").fill("1391111")
    await company.get_by_role("button", name=zh("Send to the organiser")).click()
    await expect(company.locator("#contact_phone-error")).to_have_text(
        zh("Enter an 11-digit mainland mobile number starting with 1, such as 13800138000.")
    )
    await snap(company, "jobfair-invite-page-error-360")
    await company.locator("#contact_phone").fill("13911110011")
    await company.get_by_role("button", name=zh("Send to the organiser")).click()
    await expect(company.locator("#sent")).to_contain_text(
        zh("Sent. Your company is on the organiser's list.")
    )
    await snap(company, "jobfair-invite-sent-360")
    row = await Employer.select().first().run()
    assert row is not None and row["via_invite"] and not row["approved"]

    await organiser.reload()
    employers = organiser.locator("#employers")
    await expect(employers).to_contain_text("惠民电子装配厂")
    await expect(employers).to_contain_text(zh("Joined by the invite link"))
    await snap_part(organiser, "#employers", "jobfair-invite-employers-360")

    # English: the company's page and the organiser's panel fit too.
    await company.goto(path)
    await company.get_by_role("button", name="English").click()
    await expect(company.locator("#join h2")).to_have_text("Your company at this fair")
    await snap(company, "jobfair-invite-page-360-en")
    await organiser.get_by_role("button", name="English").click()
    await expect(organiser.locator("#invite h2")).to_have_text("Invite employers")
    await snap(organiser, "jobfair-invite-setup-360-en")
    await snap_part(organiser, "#invite", "jobfair-invite-panel-360-en")

    # Withdrawing asks first, then the company's link says why it no longer works.
    await organiser.get_by_role("button", name="Withdraw the invite link").click()
    await expect(organiser.locator("h1")).to_have_text("Withdraw the invite link?")
    await snap(organiser, "jobfair-invite-withdraw-360-en")
    await organiser.get_by_role("button", name="Yes, withdraw the link").click()
    await expect(organiser.locator("#invite")).to_contain_text("Create an invite link")
    await company.goto(path)
    await expect(company.locator("h1")).to_have_text("This invite link cannot be used")
    await snap(company, "jobfair-invite-withdrawn-360-en")
