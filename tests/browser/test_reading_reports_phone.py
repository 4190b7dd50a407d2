"""The reading room's organiser screens of issue 12's second part at 360 px, in zh-CN and
English: the room report with its export buttons and plans, a plan's report, a session's
own part of the activity report, the room editor listing the sessions a closure hits
(registrants masked, a move and a cancel for each), and places refused above the seats."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.reading import services as reading
from service.reading.schemas import ExceptionIn
from tests.browser.test_reading_phone import seed
from tests.browser.test_signin_phone import en, sign_in, snap, zh
from tests.conftest import ENGINE, Org, add_member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def test_the_organiser_s_reading_reports_and_closure_list_fit_a_phone(
    phone_page: Any, org: Org
) -> None:
    room_id, _, ids = await seed(org)
    for n in range(3):
        member = await add_member(f"1370000004{n}", f"读者{n}", "ent-a1", ["worker"])
        registration, _ = await activities.register(member, ids[0])
        await activities.register(member, ids[1])
        if n < 2:
            await checkin.admit_registration(org.organiser_a, ids[0], registration.id)
    tomorrow = (clock.now() + timedelta(days=1)).astimezone(reading._zone()).date()
    await reading.add_exception(
        org.organiser_a, room_id, ExceptionIn(starts_on=tomorrow, note="停电检修")
    )

    page = phone_page
    await page.goto("/")
    await sign_in(page, org.phones["organiser_a"])
    await expect(page.locator("h1")).to_have_text(zh("Hello, %(name)s", name="甲组织者"))
    for words, suffix in ((zh, "360"), (en, "en-360")):
        await page.goto(f"/organise/reading-rooms/{room_id}/report")
        await expect(page.locator("#exports")).to_contain_text(words("Report (CSV)"))
        await expect(page.locator("ul.plan-exports")).to_contain_text("书香三八")
        await snap(page, f"reading-room-report-{suffix}")
        await page.locator("ul.plan-exports a").first.click()
        await expect(page.locator("h1")).to_have_text(words("Study plan report"))
        await snap(page, f"reading-plan-report-{suffix}")
        await page.goto(f"/organise/activities/{ids[0]}/report")
        await expect(page.locator("main")).to_contain_text(words("Came to this session"))
        await snap(page, f"reading-session-report-{suffix}")
        await page.goto(f"/organise/reading-rooms/{room_id}")
        await expect(page.locator(".affected-session")).to_have_count(1)
        await page.locator(".affected-session summary").click()
        await expect(page.locator("ul.people")).to_contain_text("137****0040")
        await snap(page, f"reading-closure-list-{suffix}")
        await page.goto(f"/organise/activities/{ids[0]}")
        await page.locator("#capacity").fill("21")
        await page.locator("#capacity").press("Enter")
        await expect(page.locator("main")).to_contain_text(
            words("The room has %(seats)s seats: offer at most that many places.", seats=20)
        )
        await snap(page, f"reading-capacity-above-seats-{suffix}")
        if words is zh:
            await page.goto("/")
            await page.get_by_role("button", name="English").click()
            await expect(page.locator("html")).to_have_attribute("lang", "en")
