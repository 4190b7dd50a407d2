"""Times read in 24-hour form in both languages (issue 15): an activity at 19:30 shows
"19:30" on its page and on the ticket, in English as in Chinese, never "7:30 PM"."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.settings import get_settings
from tests.browser.test_signin_phone import en, sign_in, snap, zh
from tests.conftest import ENGINE, Org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

TWELVE_HOUR = re.compile(r"\b(AM|PM|am|pm|a\.m\.|p\.m\.)\b|上午|下午|晚上|\b7:30\b")


async def evening_activity(org: Org) -> int:
    """Tomorrow, 19:30 to 21:00 local time."""
    zone = get_settings().zone
    tomorrow = clock.now().astimezone(zone).date() + timedelta(days=1)
    starts = datetime.combine(tomorrow, time(19, 30), tzinfo=zone)
    created = await activities.create_activity(
        org.organiser_a,
        ActivityIn(
            kind="job_fair",
            title="夜场招聘会",
            starts_at=starts,
            ends_at=starts + timedelta(minutes=90),
            capacity=10,
            venue=VenueIn(name="县人力资源市场", address="人民路 88 号"),
        ),
    )
    await activities.publish(org.organiser_a, created.id)
    return created.id


@pytest.mark.parametrize("words", [en, zh], ids=["en", "zh"])
async def test_an_evening_activity_reads_19_30_on_its_page_and_ticket(
    phone_page: Any, org: Org, words: Any
) -> None:
    activity_id = await evening_activity(org)
    registration, _ = await activities.register(org.worker_a1, activity_id)
    page = phone_page
    await page.goto("/signin")
    if words is en:
        await page.locator("header").get_by_role("button", name="English").click()
    await sign_in(page, org.phones["worker_a1"], words=words)
    await expect(page.locator("nav.bottom")).to_be_visible()
    suffix = "en" if words is en else "zh"

    for path, name in (
        (f"/activities/{activity_id}", "activity"),
        (f"/me/tickets/{registration.id}", "ticket"),
    ):
        await page.goto(path)
        when = page.locator("dl dd").first
        await expect(page.locator("dl dt").first).to_have_text(words("When"))
        await expect(when).to_contain_text("19:30 – 21:00")
        text = await when.inner_text()
        assert not TWELVE_HOUR.search(text), f"{path}: {text!r} is not 24-hour"
        assert not TWELVE_HOUR.search(await page.locator("main").inner_text()), path
        await snap(page, f"time-24h-{name}-360-{suffix}")
