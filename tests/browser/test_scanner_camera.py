"""The door scanner through a real camera path (issue 4): Chromium films a y4m video of a
ticket's QR (--use-file-for-fake-video-capture), decodes it with the vendored jsQR (no
BarcodeDetector in Debian's chromium), and shows green, then amber for the same ticket.
With the network cut, another ticket shows green from the phone's own check (signature,
roster), waits in IndexedDB with a "waiting to sync" badge, and reaches the server once
the network is back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.checkin import services as checkin
from service.checkin.schemas import DoorSettingsIn
from service.checkin.tables import Scan
from service.orgs.schemas import Actor
from tests.browser.camera import camera_browser, write_y4m
from tests.browser.conftest import PHONE
from tests.browser.test_signin_phone import sign_in, snap, zh
from tests.conftest import ENGINE, Org, add_member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

GATES = ["东门", "西门"]


async def open_door(org: Org, *, gates: list[str] | None = None) -> int:
    """A published activity whose door is open now, with staff_a on its door."""
    starts = clock.now() + timedelta(minutes=30)
    created = await activities.create_activity(
        org.organiser_a,
        ActivityIn(
            kind="job_fair",
            title="春风行动招聘会",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            capacity=100,
            venue=VenueIn(name="县人力资源市场", address="人民路 88 号"),
        ),
    )
    await activities.publish(org.organiser_a, created.id)
    await checkin.assign_staff(org.organiser_a, created.id, org.phones["staff_a"])
    if gates:
        await checkin.update_settings(org.organiser_a, created.id, DoorSettingsIn(gates=gates))
    return created.id


async def ticket(actor: Actor, activity_id: int) -> tuple[int, str]:
    registration, _ = await activities.register(actor, activity_id)
    assert registration.status == "confirmed" and registration.ticket_code
    return registration.id, registration.ticket_code


async def scanner_page(browser: Any, server: str, org: Org, activity_id: int) -> Any:
    context = await browser.new_context(base_url=server, **PHONE)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    page.on("console", lambda m: print(f"console.{m.type}: {m.text}"))
    page.on("pageerror", lambda error: print(f"page error: {error}"))
    await page.goto("/")
    await sign_in(page, org.phones["staff_a"])
    await expect(page.locator("nav.bottom")).to_be_visible()
    await page.goto(f"/door/{activity_id}")
    await expect(page.locator("body[data-door-ready='1']")).to_be_attached()
    return page


async def stats(page: Any) -> dict[str, Any]:
    return json.loads(await page.evaluate("JSON.stringify(window.unionhallDoor.stats)"))


async def admissions(registration_id: int) -> list[dict[str, Any]]:
    return (
        await Scan.select()
        .where((Scan.registration_id == registration_id) & (Scan.result == "admitted"))
        .run()
    )


@pytest.fixture
async def video_dir(tmp_path: Path) -> AsyncIterator[Path]:
    yield tmp_path


async def test_camera_shows_green_then_amber_for_the_same_ticket(
    server: str, org: Org, video_dir: Path
) -> None:
    activity_id = await open_door(org)
    registration_id, code = await ticket(org.worker_a1, activity_id)
    video = write_y4m(video_dir / "ticket.y4m", code)

    async with camera_browser(video) as browser:
        page = await scanner_page(browser, server, org, activity_id)
        verdict = page.locator("#verdict")
        await expect(verdict).to_have_attribute("data-result", "admitted")
        await expect(verdict).to_be_visible()
        await expect(verdict).to_have_class("verdict verdict-green")
        await expect(page.locator("#verdict-label")).to_have_text(zh("Welcome in"))
        await expect(page.locator("#verdict-name")).to_have_text("快递员小王")
        await expect(page.locator("#verdict-phone")).to_have_text("138****0005")
        await snap(page, "scanner-green-360")
        first = await stats(page)
        assert first["decoder"] == "jsQR"
        # The verdict stays to be read (no timer takes it away), until a tap; the code
        # still in view is not sent again.
        await page.wait_for_timeout(2500)
        await expect(verdict).to_be_visible()
        await verdict.click()
        await expect(verdict).to_be_hidden()
        await expect(page.locator("#count")).to_have_text(
            zh(
                "%(admitted)s admitted of %(confirmed)s confirmed",
                admitted=1,
                confirmed=1,
            )
        )
        await page.wait_for_timeout(1500)
        await expect(verdict).to_be_hidden()
        assert len(await admissions(registration_id)) == 1

        # The same ticket at the door again: amber, with who let it in first.
        await page.reload()
        await expect(verdict).to_have_attribute("data-result", "already_checked_in")
        await expect(verdict).to_have_class("verdict verdict-amber")
        await expect(page.locator("#verdict-label")).to_have_text(zh("Already checked in"))
        await expect(page.locator("#verdict-detail")).to_contain_text("甲工作人员")
        await snap(page, "scanner-amber-360")
        print("camera frame → verdict (ms):", first["frame_to_verdict_ms"])
        await page.context.close()
    assert len(await admissions(registration_id)) == 1


async def test_offline_scan_is_green_queued_and_synced_when_back(
    server: str, org: Org, video_dir: Path
) -> None:
    activity_id = await open_door(org, gates=GATES)
    await ticket(org.worker_a1, activity_id)
    second = await add_member(
        "13800000006", "外卖骑手小李", "ent-a1", ["worker"], group="food_delivery"
    )
    registration_id, code = await ticket(second, activity_id)
    video = write_y4m(video_dir / "second.y4m", code)

    async with camera_browser(video) as browser:
        page = await scanner_page(browser, server, org, activity_id)
        context = page.context
        verdict = page.locator("#verdict")
        badge = page.locator("#sync-badge")
        # No gate chosen yet: the camera waits.
        await expect(page.locator("#door-message")).to_have_text(
            zh("Choose your gate to start scanning.")
        )
        await context.set_offline(True)
        await page.select_option("#gate", "西门")

        await expect(verdict).to_have_attribute("data-result", "admitted")
        await expect(verdict).to_have_attribute("data-local", "1")
        await expect(verdict).to_have_class("verdict verdict-green")
        await expect(page.locator("#verdict-name")).to_have_text("外卖骑手小李")
        await expect(page.locator("#verdict-local")).to_have_text(
            zh("Decided on this phone (offline)")
        )
        await expect(badge).to_have_text(zh("Offline — %(n)s waiting to sync", n=1))
        await snap(page, "scanner-offline-green-360")
        await verdict.click()
        await expect(verdict).to_be_hidden()
        await expect(badge).to_be_visible()
        assert await admissions(registration_id) == []
        count = page.locator("#count")
        await expect(count).to_have_text(
            zh("%(admitted)s admitted of %(confirmed)s confirmed", admitted=1, confirmed=2)
        )
        # Reloaded with no signal: the page comes from the phone, and the count still
        # includes the admission that waits to sync.
        await page.reload()
        await expect(page.locator("body[data-door-ready='1']")).to_be_attached()
        await expect(count).to_have_text(
            zh("%(admitted)s admitted of %(confirmed)s confirmed", admitted=1, confirmed=2)
        )
        await expect(badge).to_be_visible()  # still waiting (the camera may queue the rescan)
        offline_stats = await stats(page)
        assert offline_stats["offline_verify_ms"], offline_stats

        await context.set_offline(False)
        await expect(badge).to_be_hidden(timeout=15_000)
        rows = await admissions(registration_id)
        assert len(rows) == 1
        assert rows[0]["gate"] == "西门"
        assert rows[0]["scanner_name"] == "甲工作人员"
        # The camera still sees the ticket: it is not admitted again, nor queued again.
        await page.wait_for_timeout(1500)
        await expect(badge).to_be_hidden()
        assert not await page.locator("#twice").is_visible()
        print("offline verify (ms):", offline_stats["offline_verify_ms"], offline_stats["verifier"])
        await context.close()
