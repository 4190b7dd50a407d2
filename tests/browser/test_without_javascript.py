"""The core journeys with JavaScript switched off (issue 15, QUALITY.md B7), at 360 px in
zh-CN and English: a worker signs in by phone, browses, signs up, opens the ticket and
cancels through its confirmation page; an organiser creates an activity with its form and
edits it; and the door without scanner.js admits from the typed code, the look-up and the
walk-in form, each posted to the server and answered with a page, with no ticket code or
phone number ever in a URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect

from service.activities.tables import Activity
from tests.browser.conftest import PHONE
from tests.browser.test_scanner_camera import open_door, ticket
from tests.browser.test_signin_phone import en, sign_in, snap, zh
from tests.browser.test_waitlist_phone import one_place_activity
from tests.conftest import ENGINE, Org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

NO_JS_PHONE = {**PHONE, "viewport": {"width": 360, "height": 800}, "java_script_enabled": False}
LANGUAGES = pytest.mark.parametrize("words", [zh, en], ids=["zh", "en"])


class Requests:
    """Every request the page made: its method and URL, to show what travelled where."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def record(self, request: Any) -> None:
        self.seen.append((request.method, request.url))

    def to(self, path: str) -> list[str]:
        return [method for method, url in self.seen if url.split("?")[0].endswith(path)]

    def urls(self) -> str:
        return "\n".join(url for _, url in self.seen)


@pytest.fixture
async def requests() -> Requests:
    return Requests()


@pytest.fixture
async def no_js_page(browser: Any, server: str, requests: Requests) -> AsyncIterator[Any]:
    context = await browser.new_context(base_url=server, **NO_JS_PHONE)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    page.on("request", requests.record)
    page.on("response", lambda r: print(f"{r.request.method} {r.url} -> {r.status}"))
    try:
        yield page
    finally:
        await context.close()


async def sign_in_without_js(page: Any, phone: str, words: Any) -> None:
    await page.goto("/signin")
    if words is en:
        await page.locator("header").get_by_role("button", name="English").click()
    await sign_in(page, phone, words=words)
    await expect(page.locator("nav.bottom")).to_be_visible()
    # Nothing ran: no script touched the page (boot.js would register a service worker).
    assert not await page.evaluate("Boolean(navigator.serviceWorker.controller)")


def suffix(words: Any) -> str:
    return "zh" if words is zh else "en"


@LANGUAGES
async def test_a_worker_signs_up_views_the_ticket_and_cancels_without_javascript(
    no_js_page: Any, server: str, org: Org, requests: Requests, words: Any
) -> None:
    activity_id = await one_place_activity(org)
    page = no_js_page
    await sign_in_without_js(page, org.phones["worker_a1"], words)
    await expect(page).to_have_url(f"{server}/")
    await expect(page.locator("h1")).to_have_text(words("Hello, %(name)s", name="快递员小王"))

    # Browse: the kind filter is a plain GET form with its own button when scripts are off.
    await page.locator("#kind").select_option("job_fair")
    await page.get_by_role("button", name=words("Show")).click()
    await expect(page).to_have_url(f"{server}/?kind=job_fair&day=")
    await page.get_by_role("link", name="一个名额的招聘会").click()
    await expect(page).to_have_url(f"{server}/activities/{activity_id}")
    await expect(page.locator("h1")).to_have_text("一个名额的招聘会")
    await expect(
        page.locator("dd").filter(has_text=words("%(taken)s of %(total)s taken", taken=0, total=1))
    ).to_be_visible()

    await page.get_by_role("button", name=words("Sign up")).click()
    await expect(page.locator(".good")).to_have_text("✓ " + words("You are confirmed."))
    assert requests.to(f"/activities/{activity_id}/signup") == ["POST"]
    await snap(page, f"nojs-signed-up-360-{suffix(words)}")

    await page.get_by_role("link", name=words("Show my ticket")).click()
    await expect(page).to_have_url(f"{server}/me/tickets/{await only_registration(activity_id)}")
    await expect(page.locator("h1")).to_have_text("一个名额的招聘会")
    await expect(page.locator(".qr svg")).to_be_visible()  # the QR is drawn by the server
    await expect(page.locator(".holder")).to_have_text("快递员小王")
    await snap(page, f"nojs-ticket-360-{suffix(words)}")

    await page.get_by_role("link", name=words("Activity details")).click()
    await page.get_by_role("link", name=words("Cancel my place")).click()
    # It asks first, on a page of its own, and says what will happen.
    await expect(page.locator("h1")).to_have_text(words("Cancel this place?"))
    await expect(page.locator(".confirm")).to_contain_text(
        words(
            "The place goes to the next person on the waitlist, and the ticket stops "
            "working. This cannot be undone."
        )
    )
    await snap(page, f"nojs-cancel-confirm-360-{suffix(words)}")
    await page.get_by_role("button", name=words("Yes, cancel the place")).click()
    await expect(page).to_have_url(f"{server}/activities/{activity_id}?cancelled=1")
    await expect(page.locator(".bad")).to_contain_text(words("Cancelled"))
    await expect(page.get_by_role("button", name=words("Sign up"))).to_be_visible()
    await expect(page.get_by_role("link", name=words("Cancel my place"))).to_have_count(0)
    assert "POST" in requests.to(f"/registrations/{await only_registration(activity_id)}/cancel")


async def only_registration(activity_id: int) -> int:
    from service.activities.tables import Registration

    (row,) = (
        await Registration.select(Registration.id).where(Registration.activity == activity_id).run()
    )
    return int(row["id"])


@LANGUAGES
async def test_an_organiser_creates_and_edits_an_activity_without_javascript(
    no_js_page: Any, server: str, org: Org, requests: Requests, words: Any
) -> None:
    page = no_js_page
    await sign_in_without_js(page, org.phones["organiser_a"], words)
    await page.goto("/organise/activities/new")
    await expect(page.locator("h1")).to_have_text(words("New activity"))
    # The kind is chosen by a link, so the form for it comes from the server.
    await page.locator(".kind-picker").get_by_role("link", name=words("Job fair")).click()
    await expect(page).to_have_url(f"{server}/organise/activities/new?kind=job_fair")
    await page.locator("#title").fill("夏季技能培训招聘会")
    await page.locator("#starts_at").fill("2027-01-20T19:30")
    await page.locator("#ends_at").fill("2027-01-20T21:00")
    await page.locator("#capacity").fill("40")
    await page.locator("#venue_name").fill("县职工服务中心")
    await snap(page, f"nojs-new-activity-360-{suffix(words)}")
    await page.get_by_role("button", name=words("Save")).click()

    (created,) = await Activity.select(Activity.id, Activity.capacity).run()
    await expect(page).to_have_url(f"{server}/organise/activities/{created['id']}")
    assert requests.to("/organise/activities") == ["POST"]
    await expect(page.locator("h1")).to_have_text("夏季技能培训招聘会")
    await expect(page.locator(".status-draft")).to_have_text(words("Draft"))
    await expect(page.locator(".big-count")).to_have_text(
        words("%(taken)s of %(total)s taken", taken=0, total=40)
    )

    # A bad edit comes back as the form with the message beside the field, in the language.
    await page.get_by_role("link", name=words("Edit"), exact=True).click()
    await expect(page.locator("h1")).to_have_text(words("Edit"))
    await expect(page.locator("#title")).to_have_value("夏季技能培训招聘会")
    await page.locator("#ends_at").fill("2027-01-20T18:00")
    await page.get_by_role("button", name=words("Save")).click()
    await expect(page.locator(".form-error, .field-error").first).to_be_visible()
    await expect(page.locator("#title")).to_have_value("夏季技能培训招聘会")

    await page.locator("#ends_at").fill("2027-01-20T21:30")
    await page.locator("#title").fill("夏季技能培训招聘会（改期）")
    await page.get_by_role("button", name=words("Save")).click()
    await expect(page).to_have_url(f"{server}/organise/activities/{created['id']}")
    await expect(page.locator("h1")).to_have_text("夏季技能培训招聘会（改期）")
    await expect(page.locator("main")).to_contain_text("19:30 – 21:30")
    assert requests.to(f"/organise/activities/{created['id']}/edit") == ["GET", "POST", "POST"]

    await page.get_by_role("button", name=words("Publish")).click()
    await expect(page.locator(".status-published")).to_have_text(words("Published"))


@LANGUAGES
async def test_the_door_admits_without_its_script_and_no_code_or_phone_is_in_a_url(
    no_js_page: Any, server: str, org: Org, requests: Requests, words: Any
) -> None:
    activity_id = await open_door(org)
    registration_id, code = await ticket(org.worker_a1, activity_id)
    page = no_js_page
    await sign_in_without_js(page, org.phones["staff_a"], words)
    await page.goto(f"/door/{activity_id}")
    await expect(page.locator("h1")).to_have_text("春风行动招聘会")
    await expect(page.locator("body[data-door-ready]")).to_have_count(0)  # no scanner.js
    # The camera cannot start without its script: no empty black box, the code field first.
    await expect(page.locator("#camera-box")).to_be_hidden()
    await expect(page.locator("main noscript p")).to_have_text(
        words(
            "Without JavaScript the camera is off: type the code, look people up or "
            "register walk-ins below."
        )
    )
    count = page.locator("#count")

    def counted(admitted: int, confirmed: int) -> str:
        return words(
            "%(admitted)s admitted of %(confirmed)s confirmed",
            admitted=admitted,
            confirmed=confirmed,
        )

    await expect(count).to_have_text(counted(0, 1))

    # The typed code: posted, and the verdict is the page.
    await page.locator("#code").fill(code)
    await page.get_by_role("button", name=words("Check")).click()
    verdict = page.locator("#server-verdict")
    await expect(verdict.locator(".verdict-label")).to_have_text(words("Welcome in"))
    await expect(verdict).to_have_class("verdict-card verdict-green")
    await expect(verdict.locator(".verdict-name")).to_have_text("快递员小王")
    await expect(verdict.locator(".verdict-phone")).to_have_text("138****0005")
    # A first admission says nothing of an earlier one (as the scanner's own verdict).
    first_at = words("First checked in at %(time)s by %(by)s", time="\0", by="").split("\0")[0]
    await expect(verdict).not_to_contain_text(first_at.strip())
    await expect(count).to_have_text(counted(1, 1))
    assert page.url == f"{server}/door/{activity_id}/check"
    assert requests.to(f"/door/{activity_id}/check") == ["POST"]
    await snap(page, f"nojs-door-admitted-360-{suffix(words)}")

    # The same code again: amber, saying when and by whom it was first let in.
    await page.locator("#code").fill(code)
    await page.get_by_role("button", name=words("Check")).click()
    await expect(verdict.locator(".verdict-label")).to_have_text(words("Already checked in"))
    await expect(verdict).to_have_class("verdict-card verdict-amber")
    await expect(verdict).to_contain_text(first_at.strip())
    await expect(verdict).to_contain_text("甲工作人员")
    await expect(count).to_have_text(counted(1, 1))

    # A made-up code: red, and nobody admitted.
    await page.locator("#code").fill("NOT-A-TICKET")
    await page.get_by_role("button", name=words("Check")).click()
    await expect(verdict.locator(".verdict-label")).to_have_text(words("Not a valid ticket"))
    await expect(verdict).to_have_class("verdict-card verdict-red")

    # Look-up by the last four digits, then a walk-in with a new phone number.
    await page.locator("#q").fill("0005")
    await page.get_by_role("button", name=words("Search")).click()
    found = page.locator("#search-results li")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text(words("Already in"))
    await expect(found.locator(".phone")).to_have_text("138****0005")

    await page.get_by_text(words("Walk-in: register and admit")).click()  # <details>, native
    await page.locator("#walk-in-phone").fill("13900000088")
    await page.locator("#walk-in-name").fill("路过的师傅")
    await page.get_by_role("button", name=words("Admit walk-in")).click()
    await expect(verdict.locator(".verdict-label")).to_have_text(words("Welcome in"))
    await expect(verdict.locator(".verdict-name")).to_have_text("路过的师傅")
    await expect(verdict.locator(".verdict-phone")).to_have_text("139****0088")
    await expect(verdict).to_contain_text(words("Walk-in registered"))
    await expect(count).to_have_text(counted(2, 2))
    assert requests.to(f"/door/{activity_id}/walk-in") == ["POST"]
    assert requests.to(f"/door/{activity_id}/look-up") == ["POST"]
    await snap(page, f"nojs-door-walk-in-360-{suffix(words)}")

    # Nothing secret ever travelled in a URL (the address bar, history, access log).
    urls = requests.urls()
    for secret in (code, "0005", "13900000088", "NOT-A-TICKET"):
        assert secret not in urls, f"{secret} appeared in a URL:\n{urls}"
    assert registration_id
