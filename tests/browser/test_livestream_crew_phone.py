"""The livestream crew on a phone (360 px, real server): the organiser plans the rota,
a host finds their duties on "My activities", asks a colleague to swap, and the organiser
approves; then every livestream screen once more in English, each fitting the width."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.livestreams import services as livestreams
from service.livestreams.schemas import ChannelIn, ColumnIn, CrewIn, RuleIn
from service.livestreams.tables import Duty
from service.orgs import services as orgs
from tests.browser.test_signin_phone import en, sign_in, snap, zh
from tests.conftest import ENGINE, Org, add_member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def crewed_channel(org: Org) -> tuple[int, dict[str, str], dict[str, int]]:
    channel = await livestreams.create_channel(
        org.organiser_a,
        ChannelIn(name="理响工会直播间", stream_url="https://live.example.cn/lixiang"),
    )
    for name in ("运河工匠", "职工课堂"):
        await livestreams.create_column(
            org.organiser_a, channel.id, ColumnIn(name=name, rundown="开场 | 5 | 主持人")
        )
    today = clock.now().date()
    await livestreams.save_schedule(
        org.organiser_a,
        channel.id,
        RuleIn(
            weekdays=["TU", "TH"],
            start_date=today,
            start_time="19:30",
            end_date=today + timedelta(days=21),
        ),
    )
    phones: dict[str, str] = {}
    crew: dict[str, int] = {}
    for index, (name, role) in enumerate([("主持甲", "host"), ("主持乙", "host")]):
        phone = f"1360000{index:04d}"
        actor = await add_member(phone, name, "union-a", ["worker"])
        phones[name] = phone
        added = await livestreams.add_crew(
            org.organiser_a,
            channel.id,
            CrewIn(member_id=actor.member_id or 0, role=role, department="宣教部"),
        )
        crew[name] = added.id
    return channel.id, phones, crew


async def test_plan_find_duties_swap_and_approve(
    phone_page: Any, second_phone_page: Any, org: Org
) -> None:
    channel_id, phones, crew = await crewed_channel(org)
    organiser = phone_page
    await organiser.goto("/")
    await sign_in(organiser, org.phones["organiser_a"])
    await expect(organiser.locator("h1")).to_have_text(zh("Hello, %(name)s", name="甲组织者"))
    await organiser.goto(f"/organise/livestreams/{channel_id}")
    await organiser.get_by_role("link", name=zh("Crew and rota")).click()
    await organiser.get_by_role("button", name=zh("Plan the rota")).click()
    await expect(organiser.locator(".good")).to_contain_text(zh("Saved."))
    await expect(organiser.locator(".rota-episode").first).to_contain_text("主持甲")
    await snap(organiser, "livestream-crew-360")

    host = second_phone_page
    await host.goto("/")
    await sign_in(host, phones["主持甲"])
    await expect(host.locator("h1")).to_have_text(zh("Hello, %(name)s", name="主持甲"))
    await host.goto("/me/activities")
    # Loaded into "My activities" by htmx.
    duties = host.locator("#my-duties .duty")
    await expect(duties.first).to_contain_text(zh("Host"))
    await snap(host, "livestream-my-activities-duties-360")
    await duties.first.get_by_role("link", name=zh("Ask to swap")).click()
    await host.get_by_label("主持乙").check()
    await snap(host, "livestream-swap-360")
    await host.get_by_role("button", name=zh("Ask")).click()
    await expect(host.locator(".good")).to_contain_text(zh("Saved."))

    await organiser.reload()
    await organiser.locator("#swaps").get_by_role("button", name=zh("Approve")).click()
    await expect(organiser.locator("#swaps")).to_have_count(0)
    swapped = await Duty.select(Duty.crew).where(Duty.reason == "swapped").run()
    assert swapped == [{"crew": crew["主持乙"]}]


async def test_every_livestream_screen_in_english_fits(phone_page: Any, org: Org) -> None:
    channel_id, phones, _ = await crewed_channel(org)
    await livestreams.plan_rota(org.organiser_a, channel_id)
    starts = clock.now() + timedelta(minutes=10)
    soon = await activities.create_activity(
        org.organiser_a,
        ActivityIn(
            kind="livestream",
            title="理响工会直播间·特别节目",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            details={"channel_id": channel_id},
        ),
    )
    await activities.publish(org.organiser_a, soon.id)
    host_id = await orgs.member_id_for_phone(phones["主持甲"])
    assert host_id is not None and org.organiser_a.member_id is not None
    for member_id in (org.organiser_a.member_id, host_id):
        await orgs.set_language(member_id, "en")
    page = phone_page
    await page.goto("/")
    await sign_in(page, org.phones["organiser_a"])
    await expect(page.locator("h1")).to_have_text(en("Hello, %(name)s", name="甲组织者"))
    for path, name in (
        ("/organise/livestreams", "list"),
        (f"/organise/livestreams/{channel_id}", "manage"),
        (f"/organise/livestreams/{channel_id}/crew", "crew"),
        (f"/livestreams/channels/{channel_id}", "channel"),
        (f"/activities/{soon.id}", "episode"),
    ):
        await page.goto(path)
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await snap(page, f"livestream-en-{name}-360")
    await page.context.clear_cookies()
    await page.goto("/")
    await sign_in(page, phones["主持甲"])
    await expect(page.locator("h1")).to_have_text(en("Hello, %(name)s", name="主持甲"))
    await page.goto("/livestreams/me/duties")
    await expect(page.locator("h2").first).to_have_text(en("My crew duties"))
    await snap(page, "livestream-en-duties-360")
    host = await orgs.actor_for_member(host_id)
    assert host is not None
    duty = (await livestreams.my_duties(host))[0]
    await page.goto(f"/livestreams/me/duties/{duty.id}/swap")
    await snap(page, "livestream-en-swap-360")
