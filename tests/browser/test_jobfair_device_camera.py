"""A booth device scans the worker's ticket with the camera (camera.js, the door's loop):
Chromium films a y4m video of the ticket's QR, "Scan ticket" fills the code, the camera
stops and the page moves on to the stage step; the stage tapped is recorded. A refused
camera, a phone with no camera and a browser that cannot film each say so in the user's
language, with what to do next (type the code), and the typed code still records. Without
JavaScript the page keeps its typed flow and shows no dead camera button. 360 px, zh-CN and
English."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from service.activities import services as activities
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, EmployerIn, PostingIn
from service.jobfairs.tables import Lead
from tests.browser.camera import camera_browser, write_y4m
from tests.browser.conftest import PHONE
from tests.browser.test_signin_phone import en, snap, zh
from tests.conftest import ENGINE, Org
from tests.http.activity_helpers import new_published

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

EMPLOYER = "顺达快递城关站"
JOB = "快递收派员"
REFUSED = (
    "The camera is not allowed for this page. Allow it in the browser's settings for this "
    "site and tap Scan ticket again, or type the ticket code below."
)
MISSING = "No camera found on this phone. Type the ticket code below."
UNSUPPORTED = (
    "This browser cannot scan with the camera. Type the ticket code below, or open this "
    "page in the phone's own browser."
)


@dataclass(frozen=True)
class Booth:
    link: str  # the device link's path: opening it signs the phone in for the booth
    ticket: str  # worker_a1's ticket code
    registration_id: int


async def a_booth(org: Org) -> Booth:
    fair_id = await new_published(org, capacity=20, title="春风行动专场招聘会")
    employer = await jobfairs.create_employer(
        org.organiser_a, fair_id, EmployerIn(name=EMPLOYER, approved=True)
    )
    booth = await jobfairs.create_booth(
        org.organiser_a, fair_id, BoothIn(number="A01", employer_id=employer.id)
    )
    await jobfairs.create_posting(
        org.organiser_a,
        fair_id,
        PostingIn(employer_id=employer.id, title=JOB, headcount=5, pay_min=6000, pay_max=9000),
    )
    registration, _ = await activities.register(org.worker_a1, fair_id)
    assert registration.ticket_code
    link = await jobfairs.device_link(org.organiser_a, booth.id)
    return Booth(link.path, registration.ticket_code, registration.id)


async def open_device(browser: Any, server: str, booth: Booth, **options: Any) -> Any:
    context = await browser.new_context(base_url=server, **{**PHONE, **options})
    context.set_default_timeout(10_000)
    page = await context.new_page()
    page.on("console", lambda m: print(f"console.{m.type}: {m.text}"))
    page.on("pageerror", lambda error: print(f"page error: {error}"))
    await page.goto(booth.link)
    await expect(page.locator("h1")).to_contain_text(EMPLOYER)
    return page


async def to_english(page: Any) -> None:
    root = await page.evaluate("location.origin")  # the cookie for every path
    await page.context.add_cookies([{"name": "uh_lang", "value": "en", "url": f"{root}/"}])
    await page.goto("/booth-device")
    await expect(page.locator("#booth-scan")).to_contain_text("Record the stage")


async def lead_stage(registration_id: int) -> str | None:
    row = await Lead.select(Lead.stage).where(Lead.registration_id == registration_id).first()
    return row["stage"] if row else None


async def record_typed(page: Any, code: str, words: Callable[..., str]) -> None:
    """What staff do without a camera: type the code, tap the stage."""
    await page.get_by_label(words("Ticket code")).fill(code)
    await page.get_by_role("button", name=words("Consulted")).click()
    await expect(page.locator("p.good[role=status]")).to_contain_text(words("Consulted"))


async def test_the_camera_reads_the_ticket_and_the_stage_is_recorded(
    server: str, org: Org, tmp_path: Path
) -> None:
    booth = await a_booth(org)
    video = write_y4m(tmp_path / "ticket.y4m", booth.ticket)
    async with camera_browser(video) as browser:
        page = await open_device(browser, server, booth)
        # The tab says which booth, and nothing else (a <script> once sat in the title).
        await expect(page).to_have_title(f"{zh('Booth %(n)s', n='A01')} · {zh('Unionhall')}")
        scan = page.get_by_role("button", name=zh("Scan ticket"))
        await expect(scan).to_be_visible()
        assert (await scan.bounding_box())["height"] >= 60  # the big button
        camera = page.locator("#ticket-camera")
        await expect(camera).to_be_hidden()
        await snap(page, "jobfair-device-camera-360")

        await scan.click()
        await expect(page.get_by_label(zh("Ticket code"))).to_have_value(booth.ticket)
        await expect(page.locator("#camera-message")).to_have_text(
            zh("Ticket read. Choose the job if needed, then tap the stage reached.")
        )
        # The camera is off again (no stream left on the video), and the page has moved
        # on to the stage step.
        await expect(camera).to_be_hidden()
        assert await camera.evaluate("video => video.srcObject === null")
        await expect(page.locator("#stage-step")).to_be_focused()
        await expect(page.get_by_role("button", name=zh("Preliminary intent"))).to_be_in_viewport()
        await expect(scan).to_be_visible()  # ready for the next worker
        await snap(page, "jobfair-device-camera-read-360")
        assert await lead_stage(booth.registration_id) is None  # nothing before the tap

        await page.get_by_label(zh("Job")).select_option(label=JOB)
        await page.get_by_role("button", name=zh("Preliminary intent")).click()
        await expect(page.locator("p.good[role=status]")).to_contain_text(
            zh("Preliminary intent")
        )
        assert await lead_stage(booth.registration_id) == "intent"

        await to_english(page)
        await expect(page).to_have_title("Booth A01 · Unionhall")
        await expect(page.get_by_role("button", name="Scan ticket")).to_be_visible()
        await snap(page, "jobfair-device-camera-360-en")
        await page.context.close()


async def test_a_refused_camera_says_so_and_the_typed_code_still_records(
    server: str, org: Org, tmp_path: Path
) -> None:
    booth = await a_booth(org)
    video = write_y4m(tmp_path / "ticket.y4m", booth.ticket)
    async with camera_browser(video, allow=False) as browser:
        page = await open_device(browser, server, booth)
        scan = page.get_by_role("button", name=zh("Scan ticket"))
        await scan.click()
        message = page.locator("#camera-message")
        await expect(message).to_have_text(zh(REFUSED))
        await expect(message).to_have_attribute("role", "alert")
        await expect(page.locator("#ticket-camera")).to_be_hidden()
        await expect(scan).to_be_visible()  # to try again once allowed
        await expect(page.get_by_label(zh("Ticket code"))).to_have_value("")
        await snap(page, "jobfair-device-camera-refused-360")

        await record_typed(page, booth.ticket, zh)
        assert await lead_stage(booth.registration_id) == "consulted"

        await to_english(page)
        await page.get_by_role("button", name="Scan ticket").click()
        await expect(message).to_have_text(en(REFUSED))
        await snap(page, "jobfair-device-camera-refused-360-en")
        await page.context.close()


async def test_no_camera_or_no_camera_api_says_type_the_code(
    browser: Any, server: str, org: Org
) -> None:
    booth = await a_booth(org)
    # This Chromium has no camera at all (no fake device).
    page = await open_device(browser, server, booth)
    await page.get_by_role("button", name=zh("Scan ticket")).click()
    await expect(page.locator("#camera-message")).to_have_text(zh(MISSING))
    await expect(page.locator("#ticket-camera")).to_be_hidden()
    await page.context.close()

    # A browser that cannot film at all (an old in-app browser, a page off HTTPS): no
    # button to tap in vain, the message from the start, and the typed code records.
    context = await browser.new_context(base_url=server, **PHONE)
    context.set_default_timeout(10_000)
    await context.add_init_script("delete Navigator.prototype.mediaDevices")
    page = await context.new_page()
    await page.goto(booth.link)
    await expect(page.locator("#camera-message")).to_have_text(zh(UNSUPPORTED))
    await expect(page.get_by_role("button", name=zh("Scan ticket"))).to_be_hidden()
    await record_typed(page, booth.ticket, zh)
    assert await lead_stage(booth.registration_id) == "consulted"
    await context.close()


async def test_without_javascript_the_code_is_typed_and_no_camera_button_shows(
    browser: Any, server: str, org: Org
) -> None:
    booth = await a_booth(org)
    page = await open_device(browser, server, booth, java_script_enabled=False)
    # The button carries `hidden` and is a flex box: app.css's [hidden] rule must win.
    await expect(page.locator("#scan-ticket")).to_be_hidden()
    await expect(page.locator("#scan-stop")).to_be_hidden()
    # Playwright turns scripts off without the parser's scripting flag, so Chromium does
    # not render <noscript> here: its note is checked in the page sent.
    note = zh("Without JavaScript the camera is off: type the ticket code.")
    assert f"<noscript><p class=\"muted\">{note}</p></noscript>" in await page.content()
    await record_typed(page, booth.ticket, zh)
    assert await lead_stage(booth.registration_id) == "consulted"
    await snap(page, "jobfair-device-nojs-360")
    await page.context.close()
