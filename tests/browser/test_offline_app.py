"""The installable app offline (issue 15, QUALITY.md B7): a ticket opened once opens with
no signal even when it was the very first page the phone ever opened, and any page the
phone does not hold is the app's own offline page, in the member's language, listing
what does open, never the browser's error page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from service.activities import services as activities
from service.app import STATIC_VERSION
from tests.browser.conftest import PHONE, wait_for_promise
from tests.browser.test_signin_phone import en, sign_in, snap, zh
from tests.browser.test_waitlist_phone import one_place_activity
from tests.conftest import ENGINE, Org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

# A page's Promise, awaited by wait_for_promise (page.wait_for_function would not wait).
KEEPS_PAGE = (
    "(path) => caches.open('private-pages').then((c) => c.keys())"
    ".then((k) => k.map((r) => new URL(r.url).pathname).includes(path))"
)


async def signed_in_cookies(browser: Any, server: str, phone: str, words: Any) -> Any:
    """Sign in on another phone and carry only the cookies over: the phone under test
    has never opened a page of the app, so it has no service worker yet."""
    context = await browser.new_context(base_url=server, **PHONE)
    page = await context.new_page()
    await page.goto("/signin")
    if words is en:
        await page.locator("header").get_by_role("button", name="English").click()
    await sign_in(page, phone, words=words)
    await expect(page.locator("nav.bottom")).to_be_visible()
    state = await context.storage_state()
    await context.close()
    return state


async def first_page_ever_is_the_ticket(browser: Any, server: str, state: Any, ticket: str) -> Any:
    context = await browser.new_context(base_url=server, storage_state=state, **PHONE)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    page.on("pageerror", lambda error: print(f"page error: {error}"))
    page.on("response", lambda r: print(f"{r.url} -> {r.status} sw={r.from_service_worker}"))
    page.on("console", lambda m: print(f"console.{m.type}: {m.text}"))
    response = await page.goto(ticket)
    assert response is not None and not response.from_service_worker  # truly the first
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    # The worker keeps it with a fetch of its own after boot.js's "opened" message: going
    # offline before that fetch is done would leave nothing to open.
    await wait_for_promise(page, KEEPS_PAGE, arg=ticket)
    # The page's language is stored beside it, by the same message: wait for it too, or
    # the offline page may be looked up before the worker has written it.
    lang = await page.evaluate("document.documentElement.lang")
    await wait_for_promise(
        page,
        "(lang) => caches.match('/offline-language')"
        ".then((hit) => (hit ? hit.text() : '')).then((text) => text === lang)",
        arg=lang,
    )
    return context, page


@pytest.mark.parametrize("words", [zh, en], ids=["zh", "en"])
async def test_a_ticket_first_opened_works_offline_and_other_pages_show_the_offline_page(
    browser: Any, server: str, org: Org, words: Any
) -> None:
    activity_id = await one_place_activity(org)
    registration, _ = await activities.register(org.worker_a1, activity_id)
    ticket = f"/me/tickets/{registration.id}"
    state = await signed_in_cookies(browser, server, org.phones["worker_a1"], words)
    context, page = await first_page_ever_is_the_ticket(browser, server, state, ticket)
    suffix = "zh" if words is zh else "en"
    try:
        ticket_title = await page.locator("h1").inner_text()
        await context.set_offline(True)

        await page.reload()
        await expect(page.locator("h1")).to_have_text(ticket_title)
        await expect(page.locator("svg").first).to_be_visible()  # the QR code itself

        # A page never opened: the app's offline page, in the member's language.
        await page.goto("/me/activities")
        await expect(page.locator("h1")).to_have_text(words("You are offline"))
        lang = await page.evaluate("document.documentElement.lang")
        assert lang == ("zh-CN" if words is zh else "en")
        link = page.locator("#offline-pages a")
        await expect(link).to_have_count(1)
        await expect(page.locator("#offline-none")).to_be_hidden()
        await snap(page, f"offline-page-360-{suffix}")

        # Its link opens the kept ticket, still with no signal.
        await link.click()
        await expect(page).to_have_url(f"{server}{ticket}")
        await expect(page.locator("h1")).to_have_text(ticket_title)
    finally:
        await context.close()


async def test_offline_with_nothing_kept_says_so_instead_of_the_browser_error(
    browser: Any, server: str, org: Org
) -> None:
    state = await signed_in_cookies(browser, server, org.phones["worker_a1"], zh)
    context = await browser.new_context(base_url=server, storage_state=state, **PHONE)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await page.goto("/")
        await page.evaluate("navigator.serviceWorker.ready")
        await wait_for_promise(page, f"() => caches.has('static-v{STATIC_VERSION}')")
        await context.set_offline(True)
        await page.goto("/profile")
        await expect(page.locator("h1")).to_have_text(zh("You are offline"))
        await expect(page.locator("#offline-none")).to_be_visible()
        await expect(page.locator("#offline-pages a")).to_have_count(0)
    finally:
        await context.close()
