"""On a phone (360 px, zh-CN and English, real server, no script needed): an organiser
opens one episode's rundown from the channel page, is told plainly what is wrong with a
bad line (what was typed is kept), saves a longer rundown, sees it flagged as longer
than the slot; the reports page shows the viewer summary with each figure named."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.livestreams import services as livestreams
from service.livestreams.schemas import ChannelIn, ColumnIn, RuleIn
from tests.browser.test_signin_phone import en, sign_in, snap, zh
from tests.conftest import ENGINE, Org
from tests.service.test_livestreams_figures import NOW, build

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


@pytest.mark.parametrize("words", [zh, en], ids=["zh", "en"])
async def test_organiser_edits_one_episodes_rundown(phone_page: Any, org: Org, words: Any) -> None:
    suffix = "zh" if words is zh else "en"
    channel = await livestreams.create_channel(
        org.organiser_a,
        ChannelIn(name="理响工会直播间", stream_url="https://live.example.cn/lixiang"),
    )
    await livestreams.create_column(
        org.organiser_a,
        channel.id,
        ColumnIn(name="运河工匠", rundown="开场 | 5 | 主持人\n访谈 | 40"),
    )
    today = clock.now().date()
    await livestreams.save_schedule(
        org.organiser_a,
        channel.id,
        RuleIn(weekdays=["TU", "TH"], start_date=today, start_time="19:30", minutes=60),
    )
    page = phone_page
    await page.goto("/signin")
    if words is en:
        await page.locator("header").get_by_role("button", name="English").click()
    await sign_in(page, org.phones["organiser_a"], words=words)
    await page.goto(f"/organise/livestreams/{channel.id}#episodes")
    first = page.locator(".episodes > li").first
    await first.locator("summary", has_text=words("Rundown")).click()
    await expect(first.locator(".rundown li")).to_have_count(2)
    await first.get_by_role("link", name=words("Edit this episode's rundown")).click()
    box = page.locator("#details-rundown")
    await expect(box).to_have_value("开场 | 5 | 主持人\n访谈 | 40\n")
    await box.fill("开场 | 5 | 主持人\n劳模访谈 | 很久 | 张师傅")
    await page.get_by_role("button", name=words("Save")).click()
    await expect(page.locator(".field-error")).to_have_text(
        words("Write each segment as: title | minutes | who.")
    )
    await expect(page.locator("#details-rundown")).to_have_value(
        "开场 | 5 | 主持人\n劳模访谈 | 很久 | 张师傅"
    )
    await page.locator("#details-rundown").scroll_into_view_if_needed()
    await snap(page, f"livestream-rundown-error-360-{suffix}")
    await page.locator("#details-rundown").fill("开场 | 5 | 主持人\n劳模访谈 | 60 | 张师傅")
    # Wait for the save to answer (leaving the edit page): a goto before that aborts it.
    async with page.expect_navigation(url=lambda url: "/edit" not in url):
        await page.get_by_role("button", name=words("Save")).click()
    await page.goto(f"/organise/livestreams/{channel.id}#episodes")
    first = page.locator(".episodes > li").first
    await expect(first).to_contain_text(words("Rundown longer than the slot"))
    await first.locator("summary", has_text=words("Rundown")).click()
    await expect(first.locator(".rundown li").nth(1)).to_contain_text("劳模访谈")
    await first.scroll_into_view_if_needed()
    await snap(page, f"livestream-rundown-manage-360-{suffix}")
    second = page.locator(".episodes > li").nth(1)
    await expect(second).not_to_contain_text(words("Rundown longer than the slot"))


@pytest.mark.parametrize("words", [zh, en], ids=["zh", "en"])
async def test_the_viewer_summary_names_each_figure(phone_page: Any, org: Org, words: Any) -> None:
    suffix = "zh" if words is zh else "en"
    with clock.frozen_at(NOW):
        await build(org)
    page = phone_page
    await page.goto("/signin")
    if words is en:
        await page.locator("header").get_by_role("button", name="English").click()
    await sign_in(page, org.phones["organiser_a"], words=words)
    await page.goto("/organise/reports?from=2026-03-01&to=2026-03-31")
    section = page.locator('.report-section[data-kind="livestream"]')
    await expect(section.locator("li").first.locator("dt").nth(4)).to_have_text(
        words("Highest unique viewers of one episode")
    )
    await expect(section.locator("li").nth(1)).to_contain_text("8.0")
    await section.scroll_into_view_if_needed()
    await snap(page, f"livestream-summary-360-{suffix}")
