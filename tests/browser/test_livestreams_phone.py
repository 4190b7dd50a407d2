"""Issue 13's "done when" on a phone (360 px, zh-CN, real server): an organiser previews
and saves a Tue/Thu rule, skips a date; a worker subscribes to one column and sees
"watch" near the start of an episode. The crew rota and a host swap are in
test_livestream_crew_phone.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.livestreams import services as livestreams
from service.livestreams.schemas import ChannelIn, ColumnIn
from service.livestreams.tables import Subscription
from tests.browser.test_signin_phone import sign_in, snap, zh
from tests.conftest import ENGINE, Org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def test_organiser_schedules_and_worker_subscribes(phone_page: Any, org: Org) -> None:
    channel = await livestreams.create_channel(
        org.organiser_a,
        ChannelIn(name="理响工会直播间", stream_url="https://live.example.cn/lixiang"),
    )
    for name in ("运河工匠", "职工课堂", "法律援助"):
        await livestreams.create_column(
            org.organiser_a, channel.id, ColumnIn(name=name, rundown="开场 | 5 | 主持人")
        )
    page = phone_page
    await page.goto("/")
    await sign_in(page, org.phones["organiser_a"])
    await expect(page.locator("h1")).to_have_text(zh("Hello, %(name)s", name="甲组织者"))
    await page.goto("/organise/activities")
    await page.get_by_role("link", name=zh("Livestream channels")).click()
    await page.get_by_role("link", name="理响工会直播间").click()
    await page.get_by_label(zh("Tuesday")).check()
    await page.get_by_label(zh("Thursday")).check()
    await page.locator("#start_time").fill("19:30")
    await page.get_by_role("button", name=zh("Preview the next 20 dates")).click()
    await expect(page.locator(".preview-dates li")).to_have_count(20)
    await snap(page, "livestream-preview-360")
    await page.locator("#end_date").fill((clock.now() + timedelta(days=30)).date().isoformat())
    await page.get_by_role("button", name=zh("Save and generate 12 months")).click()
    await expect(page.locator(".episodes > li").first).to_be_visible()
    first = page.locator(".episodes > li").first
    await first.locator("summary", has_text=zh("Skip, move or change")).click()
    await first.get_by_label(zh("Reason (e.g. a holiday)")).fill("节假日")
    await first.get_by_role("button", name=zh("Skip this date")).click()
    await expect(page.locator(".episodes > li").first).to_contain_text(zh("Skipped"))
    await snap(page, "livestream-manage-360")

    # A one-off episode of the channel starting in ten minutes: "watch" is shown.
    starts = clock.now() + timedelta(minutes=10)
    soon = await activities.create_activity(
        org.organiser_a,
        ActivityIn(
            kind="livestream",
            title="理响工会直播间·特别节目",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            details={"channel_id": channel.id},
        ),
    )
    await activities.publish(org.organiser_a, soon.id)

    await page.context.clear_cookies()
    await page.goto("/")
    await sign_in(page, org.phones["worker_a1"])
    await expect(page.locator("h1")).to_have_text(zh("Hello, %(name)s", name="快递员小王"))
    await page.goto(f"/livestreams/channels/{channel.id}")
    await page.get_by_label("职工课堂").check()
    await page.get_by_role("button", name=zh("Remind me 10 minutes before")).click()
    await expect(page.locator(".good")).to_contain_text(
        zh("We will remind you 10 minutes before each episode.")
    )
    await snap(page, "livestream-channel-360")
    assert await Subscription.count() == 1
    await page.goto(f"/activities/{soon.id}")
    await expect(page.get_by_role("link", name=zh("Watch"))).to_have_attribute(
        "href", "https://live.example.cn/lixiang"
    )
    await snap(page, "livestream-episode-360")
