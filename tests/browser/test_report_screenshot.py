"""The activity report on a 360 px phone (issue 6's "done when"): a seeded activity with
check-ins at two gates over an hour, opened by its organiser in a real browser. The page
must fit the width, its text must be at least 16 px (the SVG charts included), and the
screenshot is kept under tests/browser/screenshots/ for a person to look at."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.checkin import services as checkin
from service.checkin.schemas import DoorSettingsIn
from tests.browser.test_signin_phone import SCREENSHOTS, WIDTH, sign_in, zh
from tests.conftest import ENGINE, Org, add_member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

MIN_TEXT_PX = 16


async def seeded_activity(org: Org) -> int:
    """Twelve sign-ups from two unions' members in four worker groups; eight scanned in
    over the first hour at two gates, one walk-in."""
    starts = clock.now().replace(second=0, microsecond=0) + timedelta(days=2)
    created = await activities.create_activity(
        org.organiser_a,
        ActivityIn(
            kind="job_fair",
            title="2026 春风行动暨就业援助月专场招聘会",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            capacity=20,
            venue=VenueIn(name="县人力资源市场", address="城关镇人民路 1 号"),
        ),
    )
    await activities.publish(org.organiser_a, created.id)
    await checkin.update_settings(
        org.organiser_a, created.id, DoorSettingsIn(gates=["东门", "西门（停车场）"])
    )
    groups = ["courier", "food_delivery", "truck_driver", "security_guard"]
    codes = []
    for index in range(12):
        node = "ent-a1" if index % 3 else "union-a"
        member = await add_member(
            f"1360000{index:04d}", f"职工{index:02d}", node, ["worker"], groups[index % 4]
        )
        registration, _ = await activities.register(member, created.id)
        assert registration.ticket_code
        codes.append(registration.ticket_code)
    for index, minutes in enumerate((-40, -25, -20, -12, -5, -3, 2, 18)):
        with clock.frozen_at(starts + timedelta(minutes=minutes)):
            done = await checkin.check_in(
                org.organiser_a,
                created.id,
                codes[index],
                gate="东门" if index % 3 else "西门（停车场）",
            )
            assert done.result == "admitted", done
    with clock.frozen_at(starts + timedelta(minutes=30)):
        await checkin.walk_in(org.organiser_a, created.id, "13900000077", "路过的保安", gate="东门")
    return created.id


async def test_activity_report_is_legible_at_360_px(phone_page: Any, server: str, org: Org) -> None:
    activity_id = await seeded_activity(org)
    page = phone_page
    await page.goto("/")
    await sign_in(page, org.phones["organiser_a"])
    await expect(page.locator("nav.bottom")).to_be_visible()
    await page.goto(f"/organise/activities/{activity_id}/report")
    await expect(page.locator("h1")).to_contain_text("春风行动")
    await expect(page.locator('[data-figure="checked_in"] dd')).to_have_text("9")
    await expect(page.locator("#live-heading")).to_have_text(zh("Attendance"))

    scroll_width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= WIDTH, f"the report is {scroll_width} px wide at {WIDTH} px"

    # HTML text: no rendered text smaller than 16 px.
    smallest = await page.evaluate(
        """() => {
          let min = 1e9, where = "";
          const main = document.querySelector("main");
          const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const node = walker.currentNode;
            if (!node.textContent.trim()) continue;
            const element = node.parentElement;
            if (element.closest("svg")) continue;
            const rect = element.getBoundingClientRect();
            if (!rect.width || !rect.height) continue;
            const size = parseFloat(getComputedStyle(element).fontSize);
            if (size < min) {
              min = size;
              where = element.tagName + ": " + node.textContent.trim().slice(0, 30);
            }
          }
          return [min, where];
        }"""
    )
    assert smallest[0] >= MIN_TEXT_PX, f"text at {smallest[0]} px: {smallest[1]}"
    # SVG text: drawn at 16 units and never scaled down at this width.
    charts = await page.evaluate(
        """() => [...document.querySelectorAll("main svg[role=img]")].map(svg => {
          const box = svg.getBoundingClientRect();
          return [svg.id || svg.getAttribute("aria-labelledby"), box.right,
                  16 * box.width / svg.viewBox.baseVal.width];
        })"""
    )
    assert len(charts) >= 4
    for name, right, text_px in charts:
        assert right <= WIDTH, f"{name} overflows ({right} px)"
        assert text_px >= MIN_TEXT_PX - 0.01, f"{name} text drawn at {text_px:.1f} px"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "activity-report-360.png"
    await page.screenshot(path=str(path), full_page=True)
    # And screen by screen, as a person scrolls it on the phone.
    height = await page.evaluate("document.scrollingElement.scrollHeight")
    for part, top in enumerate(range(0, height, 640)):
        await page.evaluate(f"window.scrollTo(0, {top})")
        await page.screenshot(path=str(SCREENSHOTS / f"activity-report-360-{part}.png"))
    assert path.stat().st_size > 10_000


async def test_summary_report_fits_360_px(phone_page: Any, server: str, org: Org) -> None:
    await seeded_activity(org)
    page = phone_page
    await page.goto("/")
    await sign_in(page, org.phones["organiser_a"])
    await expect(page.locator("nav.bottom")).to_be_visible()
    await page.goto("/organise/activities")
    await page.get_by_role("link", name=zh("Reports")).click()
    await expect(page.locator("h1")).to_have_text(zh("Reports"))
    day = (clock.now() + timedelta(days=5)).strftime("%Y-%m-%d")
    await page.locator("#to").fill(day)
    await page.get_by_role("button", name=zh("Show the report")).click()
    await expect(page.locator('[data-figure="activities_held"] dd')).to_have_text("1")
    assert f"to={day}" in page.url  # a GET form: the filter is in the address
    scroll_width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= WIDTH, f"the summary is {scroll_width} px wide at {WIDTH} px"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "summary-report-360.png"), full_page=True)
