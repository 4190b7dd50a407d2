"""A delivery team member on a 360 px phone records a delivery from "today's deliveries"
(no JavaScript needed: a plain form), and the organiser's report shows it; both in zh-CN,
and the pages fit the screen in English too. Screenshots go to tests/browser/screenshots."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.heatrelief import services as relief
from service.heatrelief.schemas import DeliveryIn, ItemIn, MovementIn, PlannedLine, SiteIn, TeamIn
from service.settings import get_settings
from tests.browser.test_signin_phone import en, sign_in, snap, zh
from tests.conftest import ENGINE, Org, add_member
from tests.http.test_heatrelief_api import campaign

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def a_day(org: Org) -> tuple[int, int, int]:
    activity_id = await campaign(org)
    await add_member("13900000001", "送水员老李", "ent-a1", ["worker"], group="construction")
    water = await relief.create_item(org.organiser_a, ItemIn(name="矿泉水", unit="箱"))
    await relief.record_movement(
        org.organiser_a, water.id, MovementIn(reason="received", quantity=50)
    )
    team = await relief.create_team(
        org.organiser_a, activity_id, TeamIn(name="城关一队", member_phones=["13900000001"])
    )
    await relief.record_movement(
        org.organiser_a, water.id, MovementIn(reason="issued", quantity=20, team_id=team.id)
    )
    today = clock.now().astimezone(get_settings().zone).date()
    for name, lon in (("城南新区安置房项目工地", 120.17), ("城关环卫一所", 120.15)):
        site = await relief.create_site(
            org.organiser_a,
            activity_id,
            SiteIn(
                name=name,
                kind="construction",
                node="ent-a1",
                district="城关街道",
                address="人民路 300 号",
                latitude=30.25,
                longitude=lon,
                contact_name="王工",
                contact_phone="13812345678",
                head_count=120,
            ),
        )
        await relief.plan_delivery(
            org.organiser_a,
            activity_id,
            DeliveryIn(
                site_id=site.id,
                team_id=team.id,
                planned_date=today,
                items=[PlannedLine(item_id=water.id, quantity=6)],
            ),
        )
    return activity_id, water.id, team.id


async def test_a_team_member_records_a_delivery_and_the_report_shows_it(
    phone_page: Any, second_phone_page: Any, org: Org
) -> None:
    activity_id, water_id, team_id = await a_day(org)
    member = phone_page
    await member.goto("/heat-relief/today")
    await sign_in(member, "13900000001")  # and back to where the member was going
    await expect(member.locator("h1")).to_have_text(zh("Today's deliveries"))
    # Route order: the westernmost site first.
    await expect(member.locator("section.card h2").first).to_have_text("城关环卫一所")
    await snap(member, "heatrelief-today-360")
    card = member.locator("section.card", has_text="城关环卫一所")
    await card.get_by_label("矿泉水", exact=False).fill("5")
    await card.get_by_label(zh("Construction worker")).fill("37")
    await card.get_by_label(zh("Or: why you confirm by hand")).fill("海报被雨淋坏")
    await card.get_by_role("button", name=zh("Record the delivery")).click()
    await expect(member.locator("p.good[role=status]")).to_have_text(zh("Delivery recorded."))
    await snap(member, "heatrelief-recorded-360")
    assert await relief.balance_of(water_id, team_id) == 15

    organiser = second_phone_page
    await organiser.goto("/")
    await sign_in(organiser, org.phones["organiser_a"])
    await expect(organiser.locator("h1")).not_to_have_text(zh("Enter the code"))
    await organiser.goto(f"/organise/activities/{activity_id}/report")
    await expect(
        organiser.get_by_role("cell", name=zh("Sites covered"), exact=True)
    ).to_be_visible()
    await expect(organiser.locator("td", has_text="1 / 2")).to_be_visible()
    await snap(organiser, "heatrelief-report-360")
    await organiser.goto(f"/organise/activities/{activity_id}/heat-relief")
    await snap(organiser, "heatrelief-campaign-360")
    await organiser.goto("/organise/supplies")
    await snap(organiser, "heatrelief-supplies-360")
    await organiser.goto(f"/activities/{activity_id}")
    await snap(organiser, "heatrelief-activity-360")

    # The same pages in English fit 360 px too.
    await organiser.get_by_role("button", name="English").click()
    await organiser.goto(f"/organise/activities/{activity_id}/heat-relief")
    await expect(organiser.locator("h1")).to_have_text(en("Heat-relief deliveries"))
    await snap(organiser, "heatrelief-campaign-360-en")
    await organiser.goto("/organise/supplies")
    await snap(organiser, "heatrelief-supplies-360-en")
    await member.get_by_role("button", name="English").click()
    await member.goto("/heat-relief/today")
    await snap(member, "heatrelief-today-360-en")


async def test_a_delivery_recorded_offline_is_synced_when_the_network_is_back(
    phone_page: Any, org: Org
) -> None:
    activity_id, water_id, team_id = await a_day(org)
    member = phone_page
    await member.goto("/heat-relief/today")
    await sign_in(member, "13900000001")
    await expect(member.locator("h1")).to_have_text(zh("Today's deliveries"))
    await member.goto("/heat-relief/today")  # a full load: the page's module runs
    await expect(member.locator("h1")).to_have_text(zh("Today's deliveries"))

    await member.context.set_offline(True)
    card = member.locator("section.card", has_text="城关环卫一所")
    await card.get_by_label("矿泉水", exact=False).fill("4")
    await card.get_by_label(zh("Construction worker")).fill("21")
    await card.get_by_label(zh("Or: why you confirm by hand")).fill("工地没有信号")
    await card.get_by_role("button", name=zh("Record the delivery")).click()
    await expect(member.locator("#offline-badge")).to_have_text(
        zh("Offline — %(n)s waiting to sync", n=1)
    )
    await snap(member, "heatrelief-offline-360")
    assert await relief.balance_of(water_id, team_id) == 20  # nothing reached the server

    await member.context.set_offline(False)
    await member.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(member.locator("#sync-status")).to_have_text(
        zh("Synced: %(n)s deliveries recorded.", n=1)
    )
    assert await relief.balance_of(water_id, team_id) == 16
    report = await relief_report(org, activity_id)
    assert report.sites_covered == 1 and report.reached == 21


async def relief_report(org: Org, activity_id: int) -> Any:
    from service.heatrelief import report

    return await report.campaign_report(org.organiser_a, activity_id)
