"""Screens to look at (issue 15's "done when"): 360 px screenshots, in zh-CN and English,
of home, an activity, a ticket, the door scanner whose camera was refused, an organiser's
report and the offline page, all on the demo data, saved to UNIONHALL_SHOTS_DIR
(default /tmp/shots) for a person to look at. Each shot also asserts what it shows, so a
broken page fails here rather than ending up as a pretty picture of an error."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from service.activities.tables import Activity, Registration
from service.checkin import services as checkin
from service.demo import PEOPLE, load_demo
from service.orgs import services as orgs
from service.orgs.schemas import Actor
from tests.browser.conftest import PHONE, wait_for_promise
from tests.browser.test_offline_app import first_page_ever_is_the_ticket, signed_in_cookies
from tests.browser.test_signin_phone import en, expect_fits, sign_in, zh
from tests.conftest import ENGINE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

SHOTS = Path(os.environ.get("UNIONHALL_SHOTS_DIR") or Path(tempfile.gettempdir()) / "shots")
DOOR_TITLE = "安全生产知识讲座（演示签到）"  # service/demo.py's door demo
# The camera refused, as when a door volunteer taps "Block" on the permission prompt.
REFUSE_CAMERA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


async def shoot(page: Any, name: str) -> None:
    """The whole page at 360 px, with the bottom nav where it sits once scrolled to the end
    (a full-page capture would paint the fixed nav across the middle of the page)."""
    await expect_fits(page)
    viewport = page.viewport_size
    height = await page.evaluate("document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": viewport["width"], "height": max(height, 740)})
    await page.screenshot(path=str(SHOTS / f"{name}.png"))
    await page.set_viewport_size(viewport)


async def demo_actor(phone: str) -> Actor:
    actor = await orgs.actor_for_member(await orgs.member_id_for_phone(phone) or 0)
    assert actor is not None
    return actor


def person(role: str) -> Any:
    return next(one for one in PEOPLE if role in one.roles)


async def phone(browser: Any, server: str, who: str, words: Any, **options: Any) -> Any:
    context = await browser.new_context(base_url=server, **PHONE, **options)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    page.on("pageerror", lambda error: print(f"page error: {error}"))
    await page.goto("/signin")
    if words is en:
        await page.locator("header").get_by_role("button", name="English").click()
    await sign_in(page, who, words=words)
    await expect(page.locator("nav.bottom")).to_be_visible()
    return context, page


@pytest.fixture(autouse=True)
def shots_folder() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


@pytest.mark.parametrize("words", [zh, en], ids=["zh", "en"])
async def test_screens_to_look_at(browser: Any, server: str, words: Any) -> None:
    await load_demo()
    lang = "zh" if words is zh else "en"
    door = await Activity.select(Activity.id).where(Activity.title == DOOR_TITLE).first()
    assert door is not None
    door_id = int(door["id"])
    worker = PEOPLE[4]  # the first demo worker (张伟)
    mine = await (
        Registration.select(Registration.id)
        .where((Registration.activity == door_id) & (Registration.member.phone == worker.phone))
        .first()
    )
    assert mine is not None
    ticket = f"/me/tickets/{mine['id']}"
    # Two demo workers already in, so the door count and the report have something to say.
    staff = await demo_actor(person("staff").phone)
    for other in PEOPLE[5:7]:
        theirs = await (
            Registration.select(Registration.id)
            .where((Registration.activity == door_id) & (Registration.member.phone == other.phone))
            .first()
        )
        assert theirs is not None
        verdict = await checkin.admit_registration(staff, door_id, int(theirs["id"]))
        assert verdict.result == "admitted", verdict

    context, page = await phone(browser, server, worker.phone, words)
    try:
        await page.goto("/")
        await expect(page.locator("h1")).to_have_text(words("Hello, %(name)s", name=worker.name))
        await expect(page.locator("ul.activities > li").first).to_be_visible()
        await shoot(page, f"home-{lang}")

        await page.goto(f"/activities/{door_id}")
        await expect(page.locator("h1")).to_have_text(DOOR_TITLE)
        await expect(page.locator(".good")).to_contain_text(words("You are confirmed."))
        await shoot(page, f"activity-{lang}")

        await page.goto(ticket)
        await expect(page.locator(".qr svg")).to_be_visible()
        await expect(page.locator(".holder")).to_have_text(worker.name)
        await shoot(page, f"ticket-{lang}")
    finally:
        await context.close()

    context, page = await phone(browser, server, person("staff").phone, words)
    try:
        await context.add_init_script(REFUSE_CAMERA)
        await page.goto(f"/door/{door_id}")
        await expect(page.locator("body[data-door-ready='1']")).to_be_attached()
        await expect(page.locator("#camera-box")).to_have_class("camera-box failed")
        await expect(page.locator("#door-message")).to_have_text(
            words(
                "The camera did not start. Allow the camera, or use the code field or the "
                "look-up below."
            )
        )
        await expect(page.locator("#count")).to_have_text(
            words(
                "%(admitted)s admitted of %(confirmed)s confirmed",
                admitted=2,
                confirmed=len([one for one in PEOPLE if one.roles == ("worker",)]),
            )
        )
        await shoot(page, f"door-camera-refused-{lang}")
    finally:
        await context.close()

    context, page = await phone(browser, server, PEOPLE[1].phone, words)  # 李娜, who made the demo
    try:
        await page.goto(f"/organise/activities/{door_id}/report")
        await expect(page.locator("h1").first).to_contain_text(DOOR_TITLE)
        # The export's format choice: a radio beside its label, not a full-width text box
        # with "XLS/X" squeezed beside it.
        radio = await page.locator("#exports input[value=xlsx]").bounding_box()
        label = await page.locator("#exports label.check").first.bounding_box()
        assert radio is not None and label is not None
        assert radio["width"] <= 32 and label["height"] <= 60, (radio, label)
        await shoot(page, f"report-{lang}")
    finally:
        await context.close()

    state = await signed_in_cookies(browser, server, worker.phone, words)
    context, page = await first_page_ever_is_the_ticket(browser, server, state, ticket)
    try:
        # As the offline test does: the kept ticket itself opens first with no signal.
        await wait_for_promise(
            page,
            "(path) => caches.open('private-pages').then((c) => c.match(path, "
            "{ignoreVary: true})).then((hit) => (hit ? hit.text() : '')).then((t) => t.length > 0)",
            arg=ticket,
        )
        await context.set_offline(True)
        await page.reload()
        await expect(page.locator(".qr svg")).to_be_visible()
        await page.goto("/me/activities")
        await expect(page.locator("h1")).to_have_text(words("You are offline"))
        colon = "：" if words is zh else ": "  # the full-width colon in Chinese
        await expect(page.locator("#offline-pages a")).to_have_text(
            words("Ticket") + colon + DOOR_TITLE
        )
        await shoot(page, f"offline-{lang}")
    finally:
        await context.close()
