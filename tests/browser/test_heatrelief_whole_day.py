"""Issue 14's Done-when in one run, at 360 px: a team member's phone, offline, reads the
site's poster from the (fake) camera, checks it on the phone, records the delivery with
its quantities and head count, reconnects and syncs; the organiser's report then shows the
site covered and the team's stock down by what was handed out."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from service.heatrelief import services as relief
from service.heatrelief.tables import Delivery
from tests.browser.camera import camera_browser, write_y4m
from tests.browser.conftest import PHONE
from tests.browser.test_heatrelief_phone import a_day
from tests.browser.test_heatrelief_poster import SITE, open_today
from tests.browser.test_signin_phone import sign_in, snap, zh
from tests.conftest import ENGINE, Org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def test_offline_camera_scan_delivery_sync_and_report(
    server: str, org: Org, tmp_path: Path
) -> None:
    activity_id, water_id, team_id = await a_day(org)
    site = next(s for s in await relief.list_sites(org.organiser_a, activity_id) if s.name == SITE)
    video = write_y4m(tmp_path / "poster.y4m", relief.poster_code(site))
    async with camera_browser(video) as browser:
        context = await browser.new_context(base_url=server, **PHONE)
        context.set_default_timeout(10_000)
        member = await context.new_page()
        member.on("pageerror", lambda error: print(f"page error: {error}"))
        await open_today(member)

        await context.set_offline(True)
        card = member.locator("section.card", has_text=SITE)
        await card.get_by_label("矿泉水", exact=False).fill("5")
        await card.get_by_label(zh("Construction worker")).fill("37")
        await card.get_by_role("button", name=zh("Scan the poster")).click()
        await expect(card.locator(".poster-verdict")).to_have_text(
            zh("Poster checked: this is the delivery's site.")
        )
        await card.get_by_role("button", name=zh("Record the delivery")).click()
        await expect(member.locator("#offline-badge")).to_have_text(
            zh("Offline — %(n)s waiting to sync", n=1)
        )
        await snap(member, "heatrelief-whole-day-offline-360")
        assert await relief.balance_of(water_id, team_id) == 20  # nothing reached the server

        await context.set_offline(False)
        await member.evaluate("window.dispatchEvent(new Event('online'))")
        await expect(member.locator("#sync-status")).to_have_text(
            zh("Synced: %(n)s deliveries recorded.", n=1)
        )
        assert await relief.balance_of(water_id, team_id) == 15
        row = await Delivery.select().where(Delivery.site_id == site.id).first()
        assert row["status"] == "delivered" and row["by_hand"] is False
        await context.close()

        organiser_context = await browser.new_context(base_url=server, **PHONE)
        organiser_context.set_default_timeout(10_000)
        organiser = await organiser_context.new_page()
        await organiser.goto("/")
        await sign_in(organiser, org.phones["organiser_a"])
        await expect(organiser.locator("h1")).not_to_have_text(zh("Enter the code"))
        await organiser.goto(f"/organise/activities/{activity_id}/report")
        await expect(
            organiser.get_by_role("cell", name=zh("Sites covered"), exact=True)
        ).to_be_visible()
        await expect(organiser.locator("td", has_text="1 / 2")).to_be_visible()
        await snap(organiser, "heatrelief-whole-day-report-360")
        await organiser_context.close()
