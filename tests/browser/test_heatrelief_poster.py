"""A team member's phone checks the site poster by itself (issue 14): the signature with
the public keys and that the site is the delivery's, so a forged poster, a ticket held up
as a poster or another site's poster is refused on the spot, offline too, and nothing is
queued; the real poster is queued and synced. The poster is scanned with the (fake)
camera as the door scanner's test does. The phone's check and the server's agree case by
case. 360 px, zh-CN and English."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import expect

from service import clock
from service.heatrelief import services as relief
from service.heatrelief.schemas import RESULT_LABELS, DeliveryScanIn, SiteIn
from service.heatrelief.tables import Delivery
from service.tickets import tokens
from tests.browser.camera import camera_browser, write_y4m
from tests.browser.conftest import PHONE
from tests.browser.test_heatrelief_phone import a_day
from tests.browser.test_signin_phone import en, sign_in, snap, zh
from tests.conftest import ENGINE, Org
from tests.http.test_heatrelief_api import campaign

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

SITE = "城关环卫一所"  # the first of the day in route order
OTHER = "城南新区安置房项目工地"


async def codes(org: Org, activity_id: int) -> dict[str, Any]:
    """Every kind of code a member may hold up, for the day's first site."""
    sites = {site.name: site for site in await relief.list_sites(org.organiser_a, activity_id)}
    elsewhere = await campaign(org)
    stranger = await relief.create_site(
        org.organiser_a, elsewhere, SiteIn(name="别的活动的站点", kind="other", node="ent-a1")
    )
    genuine = relief.poster_code(sites[SITE])
    middle = len(genuine) // 2
    forged = genuine[:middle] + ("A" if genuine[middle] != "A" else "B") + genuine[middle + 1 :]
    return {
        "site": sites[SITE],
        "signed": {
            "this site's poster": genuine,
            "this site's poster, lower case": genuine.lower(),
            "another site's poster": relief.poster_code(sites[OTHER]),
            "another campaign's poster": relief.poster_code(stranger),
            "a ticket": tokens.ticket_code(sites[SITE].id, activity_id, 0),
            "an altered poster": forged,
            "a truncated poster": genuine[:-6],
            "garbage": "X" * 80,
        },
        "short": {
            "this site's short code": sites[SITE].code,
            "another site's short code": sites[OTHER].code,
            "a mistyped short code": sites[SITE].code[:-1] + "Z",
        },
    }


async def server_check(code: str, delivery: dict[str, Any]) -> str | None:
    scan = DeliveryScanIn(
        delivery_id=delivery["id"],
        client_id="parity-check",
        recorded_at=clock.now(),
        site_code=code,
    )
    return await relief._site_check(scan, delivery)


PHONE_CHECK = """async ([codes, site]) => {
  const { makeVerifier } = await import("/static/door-verify.js");
  const { posterRefusal } = await import("/static/site-poster.js");
  const data = JSON.parse(document.getElementById("today-data").textContent);
  const verifier = await makeVerifier(data.keys, data.noble);
  const out = [];
  for (const code of codes) out.push(await posterRefusal(verifier, code, site));
  return out;
}"""


async def open_today(page: Any) -> None:
    await page.goto("/heat-relief/today")
    await sign_in(page, "13900000001")
    await expect(page.locator("h1")).to_have_text(zh("Today's deliveries"))
    await page.goto("/heat-relief/today")  # a full load: the page's module runs
    await expect(page.locator("h1")).to_have_text(zh("Today's deliveries"))


async def test_the_phone_refuses_a_wrong_poster_offline_and_queues_the_right_one(
    phone_page: Any, org: Org
) -> None:
    activity_id, water_id, team_id = await a_day(org)
    held = await codes(org, activity_id)
    member = phone_page
    member.on("console", lambda m: print(f"console.{m.type}: {m.text}"))
    member.on("pageerror", lambda error: print(f"page error: {error}"))
    await open_today(member)
    form = member.locator("section.card", has_text=SITE).locator("form.record")
    site = {
        "siteId": held["site"].id,
        "activityId": activity_id,
        "codeHash": await form.get_attribute("data-code-hash"),
    }
    delivery = await Delivery.select().where(Delivery.site_id == held["site"].id).first()

    # The phone and the server give each code the same answer (a short code the phone
    # cannot tell from a mistyped one: refused on both, "wrong_site" on the phone).
    signed = list(held["signed"].items())
    on_phone = await member.evaluate(PHONE_CHECK, [[code for _, code in signed], site])
    for (case, code), phone in zip(signed, on_phone, strict=True):
        assert phone == await server_check(code, delivery), case
    assert on_phone[0] is None and on_phone[2:5] == [
        "wrong_site",
        "wrong_activity",
        "wrong_code_type",
    ]
    short = list(held["short"].items())
    on_phone = await member.evaluate(PHONE_CHECK, [[code for _, code in short], site])
    for (case, code), phone in zip(short, on_phone, strict=True):
        assert (phone is None) == (await server_check(code, delivery) is None), case
    assert on_phone == [None, "wrong_site", "wrong_site"]

    # Offline, a ticket held up as the poster and an altered poster are refused on the
    # phone: nothing is queued.
    await member.context.set_offline(True)
    card = member.locator("section.card", has_text=SITE)
    await card.get_by_label("矿泉水", exact=False).fill("4")
    await card.get_by_label(zh("Construction worker")).fill("21")
    code_field = card.get_by_label(zh("Code on the site's poster"))
    record = card.get_by_role("button", name=zh("Record the delivery"))
    verdict = card.locator(".poster-verdict")
    for case, result in (
        ("a ticket", "wrong_code_type"),
        ("an altered poster", "invalid_code"),
        ("another site's poster", "wrong_site"),
        ("another campaign's poster", "wrong_activity"),
    ):
        await code_field.fill(held["signed"][case])
        await record.click()
        await expect(verdict).to_have_text(zh(RESULT_LABELS[result]))
        await expect(verdict).to_have_attribute("role", "alert")
        await expect(member.locator("#offline-badge")).to_have_text(
            zh("Offline — %(n)s waiting to sync", n=0)
        )
    await snap(member, "heatrelief-poster-refused-360")

    await code_field.fill(held["signed"]["this site's poster"])
    await record.click()
    await expect(member.locator("#offline-badge")).to_have_text(
        zh("Offline — %(n)s waiting to sync", n=1)
    )
    await expect(verdict).to_have_text(zh("Poster checked: this is the delivery's site."))
    assert await relief.balance_of(water_id, team_id) == 20  # nothing reached the server

    await member.context.set_offline(False)
    await member.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(member.locator("#sync-status")).to_have_text(
        zh("Synced: %(n)s deliveries recorded.", n=1)
    )
    assert await relief.balance_of(water_id, team_id) == 16
    row = await Delivery.select().where(Delivery.id == delivery["id"]).first()
    assert row["status"] == "delivered" and row["by_hand"] is False

    # The optional photo, once delivered: a plain file field.
    await member.goto("/heat-relief/today")
    card = member.locator("section.card", has_text=SITE)
    photo = io.BytesIO()
    Image.new("RGB", (1600, 1200), (30, 120, 200)).save(photo, "JPEG")
    await card.get_by_label(zh("Photo of the delivery (optional, up to 5 MB)")).set_input_files(
        {"name": "site.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}
    )
    await card.get_by_role("button", name=zh("Send the photo")).click()
    await expect(card.get_by_text(zh("Photo kept."))).to_be_visible()
    await snap(member, "heatrelief-photo-360")
    await member.get_by_role("button", name="English").click()
    await member.goto("/heat-relief/today")
    await expect(card.get_by_text(en("Photo kept."))).to_be_visible()
    await snap(member, "heatrelief-photo-360-en")


async def test_the_camera_reads_the_poster_and_the_delivery_is_recorded(
    server: str, org: Org, tmp_path: Path
) -> None:
    activity_id, water_id, team_id = await a_day(org)
    site = next(s for s in await relief.list_sites(org.organiser_a, activity_id) if s.name == SITE)
    code = relief.poster_code(site)
    video = write_y4m(tmp_path / "poster.y4m", code)
    async with camera_browser(video) as browser:
        context = await browser.new_context(base_url=server, **PHONE)
        context.set_default_timeout(10_000)
        member = await context.new_page()
        member.on("console", lambda m: print(f"console.{m.type}: {m.text}"))
        member.on("pageerror", lambda error: print(f"page error: {error}"))
        await open_today(member)
        card = member.locator("section.card", has_text=SITE)
        await card.get_by_label("矿泉水", exact=False).fill("5")
        await card.get_by_role("button", name=zh("Scan the poster")).click()
        await expect(card.locator(".poster-verdict")).to_have_text(
            zh("Poster checked: this is the delivery's site.")
        )
        await expect(card.get_by_label(zh("Code on the site's poster"))).to_have_value(code)
        await expect(card.locator("video.poster-camera")).to_be_hidden()  # the camera stops
        await snap(member, "heatrelief-poster-scanned-360")
        await card.get_by_role("button", name=zh("Record the delivery")).click()
        await expect(member.locator("p.good[role=status]")).to_have_text(zh("Delivery recorded."))
        assert await relief.balance_of(water_id, team_id) == 15
        row = await Delivery.select().where(Delivery.site_id == site.id).first()
        assert row["status"] == "delivered" and row["by_hand"] is False

        await member.get_by_role("button", name="English").click()
        await member.goto("/heat-relief/today")
        other = member.locator("section.card", has_text=OTHER)
        await expect(other.get_by_role("button", name=en("Scan the poster"))).to_be_visible()
        await snap(member, "heatrelief-poster-today-360-en")
        await context.close()


async def test_a_worker_says_received_from_the_campaign_page(phone_page: Any, org: Org) -> None:
    activity_id, _, _ = await a_day(org)
    site = next(s for s in await relief.list_sites(org.organiser_a, activity_id) if s.name == SITE)
    worker = phone_page
    await worker.goto(f"/activities/{activity_id}")
    await sign_in(worker, org.phones["worker_a1"])  # and back to the campaign
    await expect(worker.locator("h1")).not_to_have_text(zh("Enter the code"))
    await worker.goto(f"/activities/{activity_id}")
    await worker.get_by_role("link", name=zh("I received supplies")).click()
    await expect(worker.locator("h1")).to_have_text(zh("I received supplies"))
    await worker.get_by_label(zh("Code on the site's poster")).fill(site.code)
    await worker.get_by_role("button", name=zh("Yes, I received them")).click()
    await expect(worker.locator("p.good[role=status]")).to_have_text(
        zh("Thank you: your receipt at %(site)s is counted.", site=SITE)
    )
    await snap(worker, "heatrelief-received-360")
    await worker.get_by_role("button", name="English").click()
    await worker.goto("/heat-relief/received")
    await expect(worker.locator("h1")).to_have_text(en("I received supplies"))
    await snap(worker, "heatrelief-received-360-en")
    assert await relief.acknowledgements_by_site(activity_id) == {site.id: 1}
