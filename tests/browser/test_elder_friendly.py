"""Elder-friendly core pages (issue 15, QUALITY.md B7): 18 px base text, tap targets of
48 px and 60 px for the primary action, the English bottom nav fitting 360 px with its
labels apart, and axe-core (vendored under tests/browser/vendor, never served to users)
finding no serious or critical violation on home, activity, ticket, my activities and the
report, and on the main worker-facing page of each kind in the demo data (a job fair's
postings, a reading room, a livestream channel and an episode, the heat-relief campaign),
in Chinese and in English."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.activities import services as activities
from service.activities.tables import Activity
from service.demo import PEOPLE, load_demo
from service.livestreams.tables import Channel
from service.reading.tables import ReadingRoom
from tests.browser.test_signin_phone import SCREENSHOTS, en, sign_in, snap, zh
from tests.browser.test_waitlist_phone import one_place_activity
from tests.conftest import ENGINE, Org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

AXE = (Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1.min.js").read_text()
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}"""
TARGETS = """() => {
  const small = [];
  const seen = (el) => el.offsetParent !== null || getComputedStyle(el).position === "fixed";
  const targets = "button, .button, nav.bottom a, .top a, select, "
    + "input:not([type=checkbox]):not([type=radio]):not([type=hidden])";
  for (const el of document.querySelectorAll(targets)) {
    if (!seen(el)) continue;
    const box = el.getBoundingClientRect();
    const needed = el.matches(".primary") ? 60 : 48;
    if (box.height < needed - 0.5) {
      small.push(`${el.outerHTML.slice(0, 80)}: ${box.height}px < ${needed}`);
    }
  }
  return small;
}"""
LABEL_GAPS = """() => {
  const boxes = [...document.querySelectorAll("nav.bottom a")].map((a) => {
    const range = document.createRange();
    range.selectNodeContents(a);
    const rects = [...range.getClientRects()];
    return { text: a.textContent.trim(), left: Math.min(...rects.map((r) => r.left)),
             right: Math.max(...rects.map((r) => r.right)), link: a.getBoundingClientRect() };
  });
  return boxes;
}"""


async def check_page(page: Any, path: str, name: str) -> None:
    response = await page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response}"
    await expect(page.locator("h1").first).to_be_visible()
    base = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert base >= 18, f"{path}: base text {base}px"
    assert await page.evaluate(TARGETS) == [], path
    await page.evaluate(AXE)  # through the DevTools protocol: the page's CSP is untouched
    violations = await page.evaluate(AXE_RUN)
    assert violations == [], f"{path}: " + "\n".join(violations)
    await snap(page, name)


@pytest.mark.parametrize("words", [zh, en], ids=["zh", "en"])
async def test_core_pages_are_readable_tappable_and_pass_axe(
    phone_page: Any, second_phone_page: Any, org: Org, words: Any
) -> None:
    activity_id = await one_place_activity(org)
    registration, _ = await activities.register(org.worker_a1, activity_id)
    suffix = "zh" if words is zh else "en"
    worker, organiser = phone_page, second_phone_page
    for page, phone in ((worker, org.phones["worker_a1"]), (organiser, org.phones["organiser_a"])):
        await page.goto("/signin")
        if words is en:
            await page.locator("header").get_by_role("button", name="English").click()
        await sign_in(page, phone, words=words)
        await expect(page.locator("nav.bottom")).to_be_visible()

    await check_page(worker, "/", f"a11y-home-360-{suffix}")
    await check_page(worker, f"/activities/{activity_id}", f"a11y-activity-360-{suffix}")
    await check_page(worker, f"/me/tickets/{registration.id}", f"a11y-ticket-360-{suffix}")
    await check_page(worker, "/me/activities", f"a11y-mine-360-{suffix}")
    await check_page(
        organiser, f"/organise/activities/{activity_id}/report", f"a11y-report-360-{suffix}"
    )


async def first_published(kind: str) -> int:
    """The demo's first published activity of a kind that has not started yet."""
    row = await (
        Activity.select(Activity.id)
        .where(
            (Activity.kind == kind)
            & (Activity.status == "published")
            & (Activity.starts_at > clock.now())
        )
        .order_by(Activity.starts_at)
        .first()
    )
    assert row is not None, f"the demo has no upcoming {kind}"
    return int(row["id"])


@pytest.mark.parametrize("words", [zh, en], ids=["zh", "en"])
async def test_each_kinds_worker_page_in_the_demo_passes_axe(phone_page: Any, words: Any) -> None:
    await load_demo()
    worker = next(person for person in PEOPLE if person.roles == ("worker",))
    room = await ReadingRoom.select(ReadingRoom.id).order_by(ReadingRoom.id).first()
    channel = await Channel.select(Channel.id).order_by(Channel.id).first()
    assert room is not None and channel is not None
    pages = {
        "jobfair-postings": f"/activities/{await first_published('job_fair')}/jobs",
        "reading-room": f"/reading-rooms/{room['id']}",
        "livestream-channel": f"/livestreams/channels/{channel['id']}",
        "livestream-episode": f"/activities/{await first_published('livestream')}",
        "heat-relief": f"/activities/{await first_published('heat_relief')}",
    }
    page = phone_page
    await page.goto("/signin")
    if words is en:
        await page.locator("header").get_by_role("button", name="English").click()
    await sign_in(page, worker.phone, words=words)
    await expect(page.locator("nav.bottom")).to_be_visible()
    suffix = "zh" if words is zh else "en"
    for name, path in pages.items():
        await check_page(page, path, f"a11y-{name}-360-{suffix}")


async def test_the_english_bottom_nav_fits_360_px_with_its_labels_apart(
    phone_page: Any, org: Org
) -> None:
    page = phone_page
    await page.goto("/signin")
    await page.locator("header").get_by_role("button", name="English").click()
    await sign_in(page, org.phones["organiser_a"], words=en)
    nav = page.locator("nav.bottom")
    await expect(nav.get_by_role("link")).to_have_count(5)  # the most tabs anyone has
    boxes = await page.evaluate(LABEL_GAPS)
    for box in boxes:
        assert box["link"]["left"] >= 0 and box["link"]["right"] <= 360, box
        assert box["link"]["height"] >= 48, box
    for before, after in itertools.pairwise(boxes):
        gap = after["left"] - before["right"]
        assert gap >= 8, f"{before['text']!r} and {after['text']!r} are {gap:.1f}px apart"
    await nav.screenshot(path=str(SCREENSHOTS / "nav-en-360.png"))
    await snap(page, "nav-en-home-360")


async def test_axe_as_injected_does_find_a_critical_violation(phone_page: Any, org: Org) -> None:
    """Control run: the same injection and filter report a field with no label."""
    page = phone_page
    await page.goto("/")
    await sign_in(page, org.phones["worker_a1"])
    await expect(page.locator("nav.bottom")).to_be_visible()
    await page.evaluate("document.querySelector('main').append(document.createElement('input'))")
    await page.evaluate(AXE)
    violations = await page.evaluate(AXE_RUN)
    assert any(line.startswith("label (critical)") for line in violations), violations
