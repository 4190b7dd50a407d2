"""The scanner page's hands-on tools, driven in Chromium at 360 px (issue 4): look-up by
the last four digits and a manual admission, undo of that admission, a walk-in (refused
without a name, then admitted), and a hardware scanner typing a code into the field."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from service.activities.tables import Registration
from service.checkin.tables import Scan
from service.scans.tables import UndoAudit
from tests.browser.test_scanner_camera import open_door, ticket
from tests.browser.test_signin_phone import sign_in, snap, zh
from tests.conftest import ENGINE, Org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def open_scanner(page: Any, org: Org, activity_id: int) -> None:
    await page.goto("/")
    await sign_in(page, org.phones["staff_a"])
    await expect(page.locator("nav.bottom")).to_be_visible()
    await page.goto(f"/door/{activity_id}")
    await expect(page.locator("body[data-door-ready='1']")).to_be_attached()


def count_text(admitted: int, confirmed: int) -> str:
    return zh(
        "%(admitted)s admitted of %(confirmed)s confirmed",
        admitted=admitted,
        confirmed=confirmed,
    )


async def standing_admissions(activity_id: int) -> list[dict[str, Any]]:
    return (
        await Scan.select(Scan.registration_id, Scan.gate, Scan.undone_at)
        .where((Scan.activity_id == activity_id) & (Scan.result == "admitted"))
        .run()
    )


async def test_look_up_by_last_four_digits_admit_then_undo(phone_page: Any, org: Org) -> None:
    activity_id = await open_door(org)
    registration_id, _ = await ticket(org.worker_a1, activity_id)
    page = phone_page
    await open_scanner(page, org, activity_id)
    await expect(page.locator("#count")).to_have_text(count_text(0, 1))
    # No camera in this browser: no black box, the code field comes next, no empty card.
    await expect(page.locator("#camera-box")).to_have_class("camera-box failed")
    box = await page.locator("#camera-box").bounding_box()
    assert box is not None and box["height"] < 100, box
    await expect(page.locator("#camera-start")).to_be_visible()
    await expect(page.locator("#door-after")).to_be_hidden()
    await snap(page, "scanner-no-camera-360")

    await page.locator("#q").fill("0005")
    await page.locator("#search-form").get_by_role("button").click()
    found = page.locator("#search-results li")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text("快递员小王")
    await expect(found.locator(".phone")).to_have_text("138****0005")  # masked at the door
    await snap(page, "scanner-lookup-360")
    await found.get_by_role("button", name=zh("Admit")).click()

    await expect(page.locator("#verdict")).to_have_attribute("data-result", "admitted")
    await expect(page.locator("#verdict-name")).to_have_text("快递员小王")
    await expect(page.locator("#count")).to_have_text(count_text(1, 1))
    (admission,) = await standing_admissions(activity_id)
    assert admission["registration_id"] == registration_id and admission["undone_at"] is None

    # The verdict closes on a tap; the undo button names the person let in last.
    await page.locator("#verdict").click()
    await expect(page.locator("#verdict")).to_be_hidden()
    undo = page.locator("#undo")
    await expect(undo).to_have_text(zh("Undo last admission: %(name)s", name="快递员小王"))
    page.once("dialog", lambda dialog: dialog.accept())
    await undo.click()
    await expect(page.locator("#door-message")).to_have_text(
        zh("Admission of %(name)s undone.", name="快递员小王")
    )
    await expect(page.locator("#count")).to_have_text(count_text(0, 1))
    await expect(undo).to_be_hidden()
    (admission,) = await standing_admissions(activity_id)
    assert admission["undone_at"] is not None
    audit = await UndoAudit.select().where(UndoAudit.point_id == activity_id).run()
    assert [(row["action"], row["actor_name"]) for row in audit] == [
        ("undo_admission", "甲工作人员")
    ]

    # Looked up again, the person can be admitted again.
    await page.locator("#q").fill("小王")
    await page.locator("#search-form").get_by_role("button").click()
    await expect(found.get_by_role("button", name=zh("Admit"))).to_be_visible()


async def test_walk_in_needs_a_name_for_a_new_phone_then_is_admitted(
    phone_page: Any, org: Org
) -> None:
    activity_id = await open_door(org)
    page = phone_page
    await open_scanner(page, org, activity_id)
    await page.get_by_text(zh("Walk-in: register and admit")).click()
    await page.locator("#walk-in-phone").fill("13900000088")
    await page.get_by_role("button", name=zh("Admit walk-in")).click()
    await expect(page.locator("#walk-in-error")).to_have_text(
        zh("No member has this phone number yet. Add their name to register them.")
    )
    assert await standing_admissions(activity_id) == []

    await page.locator("#walk-in-name").fill("路过的师傅")
    await page.get_by_role("button", name=zh("Admit walk-in")).click()
    await expect(page.locator("#verdict")).to_have_attribute("data-result", "admitted")
    await expect(page.locator("#verdict-name")).to_have_text("路过的师傅")
    await expect(page.locator("#verdict-phone")).to_have_text("139****0088")
    await expect(page.locator("#walk-ins")).to_have_text(zh("Walk-ins: %(n)s", n=1))
    await expect(page.locator("#count")).to_have_text(count_text(1, 1))  # a place now, too
    await expect(page.locator("#walk-in-phone")).to_have_value("")  # ready for the next one
    registrations = await Registration.select(Registration.status).where(
        Registration.activity == activity_id
    ).run()
    assert [row["status"] for row in registrations] == ["confirmed"]
    assert len(await standing_admissions(activity_id)) == 1
    await snap(page, "scanner-walk-in-360")
    await page.reload()  # the server's count agrees
    await expect(page.locator("#count")).to_have_text(count_text(1, 1))


async def test_a_hardware_scanner_typing_into_the_field(phone_page: Any, org: Org) -> None:
    activity_id = await open_door(org)
    registration_id, code = await ticket(org.worker_a1, activity_id)
    page = phone_page
    await open_scanner(page, org, activity_id)
    # Such scanners type the code as keystrokes and finish with Enter.
    await page.locator("#code").press_sequentially(code, delay=0)
    await page.locator("#code").press("Enter")
    await expect(page.locator("#verdict")).to_have_attribute("data-result", "admitted")
    await expect(page.locator("#code")).to_have_value("")
    (admission,) = await standing_admissions(activity_id)
    assert admission["registration_id"] == registration_id

    await page.locator("#verdict").click()
    await page.locator("#code").press_sequentially(code, delay=0)
    await page.locator("#code").press("Enter")
    await expect(page.locator("#verdict")).to_have_attribute("data-result", "already_checked_in")
    assert len(await standing_admissions(activity_id)) == 1
