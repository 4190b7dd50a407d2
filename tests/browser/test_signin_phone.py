"""Sign in with a phone number in a real browser at 360 px: Chinese by default, English
on request, and an admin's member search that never shows a full phone number."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from service.i18n import gettext, language
from service.orgs.tables import Member
from tests.conftest import ENGINE, Org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        ENGINE != "sqlite",
        reason="the browser tests share the SQLite file with the server process; "
        "they run in the SQLite pass",
    ),
]

WIDTH = 360
expect.set_options(timeout=10_000)  # a cold server's first page can be slow on a busy box
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # git-ignored


def zh(message: str, **params: Any) -> str:
    """What a zh-CN reader sees for an English msgid; it must actually be translated."""
    with language("zh-CN"):
        text = gettext(message, **params)
    assert text != (message % params if params else message), f"untranslated: {message!r}"
    return text


def en(message: str, **params: Any) -> str:
    with language("en"):
        return gettext(message, **params)


async def expect_fits(page: Any) -> None:
    """No horizontal scrolling at phone width."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide at a {WIDTH} px viewport"


async def snap(page: Any, name: str) -> None:
    await expect_fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def html_lang(page: Any) -> str | None:
    return await page.evaluate("document.documentElement.lang")


async def sign_in(page: Any, phone: str, *, words: Any = zh, shots: str | None = None) -> None:
    """From the sign-in page: ask for a code, read the demo code, enter it."""
    await expect(page.locator("h1")).to_have_text(words("Sign in"))
    if shots:
        await snap(page, f"signin-{shots}")
    await page.locator("#phone").fill(phone)
    await page.get_by_role("button", name=words("Send code")).click()

    await expect(page.locator("h1")).to_have_text(words("Enter the code"))
    demo_code = page.locator(".demo-code")
    await expect(demo_code).to_have_text(re.compile(r"^\d{6}$"))
    if shots:
        await snap(page, f"code-{shots}")
    await page.locator("#code").fill((await demo_code.inner_text()).strip())
    await page.get_by_role("button", name=words("Sign in"), exact=True).click()
    # Signed in once the code form is gone: a caller that navigates at once would otherwise
    # race the session cookie and land back on the sign-in page.
    await expect(page.locator("#code")).to_have_count(0)


async def test_worker_signs_in_with_phone_and_demo_code_in_chinese(
    phone_page: Any, server: str, org: Org
) -> None:
    page = phone_page
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/signin(\?|$)"))
    assert await html_lang(page) == "zh-CN"

    await sign_in(page, org.phones["worker_a1"], shots="360")

    await expect(page).to_have_url(f"{server}/")
    await expect(page.locator("h1")).to_contain_text("快递员小王")
    await expect(page.locator("nav.bottom")).to_contain_text(zh("My activities"))
    assert await html_lang(page) == "zh-CN"
    await snap(page, "home-360")

    await page.locator("header.top").get_by_role("link", name=zh("Me"), exact=True).click()
    await expect(page).to_have_url(f"{server}/profile")
    await expect(page.locator("h1")).to_have_text(zh("Me"))
    await expect(page.locator("#name")).to_have_value("快递员小王")
    await snap(page, "profile-360")


async def test_header_button_switches_to_english(phone_page: Any) -> None:
    page = phone_page
    await page.goto("/signin")
    await expect(page.locator("h1")).to_have_text(zh("Sign in"))

    await page.locator("header").get_by_role("button", name="English").click()

    await expect(page.locator("h1")).to_have_text(en("Sign in"))
    await expect(page.get_by_role("button", name=en("Send code"))).to_be_visible()
    await expect(page.locator("header").get_by_role("button", name="中文")).to_be_visible()
    await expect_fits(page)

    # The choice is a cookie: a fresh load of any page stays in English.
    await page.goto("/signin")
    await expect(page.locator("h1")).to_have_text(en("Sign in"))
    assert await html_lang(page) == "en"


async def test_admin_searches_members_by_last_four_digits_and_sees_masked_phones(
    phone_page: Any, server: str, org: Org
) -> None:
    page = phone_page
    await page.goto("/signin")
    await sign_in(page, org.phones["admin"])
    await expect(page).to_have_url(f"{server}/")

    await page.goto("/admin/members")
    await expect(page.locator("h1")).to_have_text(zh("Members"))
    members = page.locator("#member-list ul.members > li")
    await expect(members).to_have_count(len(org.phones))

    worker_phone = org.phones["worker_a1"]
    await page.locator("#q").press_sequentially(worker_phone[-4:])

    # htmx swaps the list in place (no navigation) and pushes the search into the URL.
    await expect(members).to_have_count(1)
    await expect(members.first).to_contain_text("快递员小王")
    masked = f"{worker_phone[:3]}****{worker_phone[-4:]}"
    await expect(members.first.locator(".phone")).to_have_text(masked)
    await expect(page).to_have_url(re.compile(rf"/admin/members\?q={worker_phone[-4:]}$"))
    await expect(page.locator("h1")).to_have_text(zh("Members"))
    assert await page.locator("body > header").count() == 1, "the whole page was nested"

    html = await page.content()
    for phone in org.phones.values():
        assert phone not in html
    await snap(page, "members-360")


# --- boosted pages: the language switch reloads <html lang>; error pages are swapped in ---


async def test_html_lang_follows_the_language_switch(phone_page: Any) -> None:
    page = phone_page
    await page.goto("/signin")
    await page.locator("header").get_by_role("button", name="English").click()
    await expect(page.locator("h1")).to_have_text(en("Sign in"))
    assert await html_lang(page) == "en"


async def test_a_wrong_code_shows_an_error(phone_page: Any, org: Org) -> None:
    page = phone_page
    await page.goto("/signin")
    await page.locator("#phone").fill(org.phones["worker_a1"])
    await page.get_by_role("button", name=zh("Send code")).click()
    await expect(page.locator(".demo-code")).to_be_visible()
    await page.locator("#code").fill("000000")
    await page.get_by_role("button", name=zh("Sign in"), exact=True).click()
    await expect(page.locator("#code-error, .form-error").first).to_be_visible(timeout=2_000)


# Per tab: its label, how many lines the label takes, whether any of it is drawn outside
# the tab or the tab outside the screen, and its font size.
NAV_LABELS = """() => [...document.querySelectorAll("nav.bottom a")].map(link => {
  const range = document.createRange();
  range.selectNodeContents(link);
  const rects = [...range.getClientRects()];
  const box = link.getBoundingClientRect();
  const spills = rects.some(rect => rect.left < box.left - 0.5 || rect.right > box.right + 0.5)
    || box.left < 0 || box.right > window.innerWidth;
  const lines = new Set(rects.map(rect => Math.round(rect.top))).size;
  return {text: link.textContent.trim(), lines, overflows: spills,
          px: parseFloat(getComputedStyle(link).fontSize), box: [box.left, box.right]};
})"""


async def test_the_fullest_nav_fits_360_px_in_both_languages(phone_page: Any, org: Org) -> None:
    """An admin sees every nav item: each label stays on one line in Chinese, none spills
    out of its tab in English, and the profile link sits in the header."""
    page = phone_page
    await page.goto("/")
    await sign_in(page, org.phones["admin"])
    await expect(page.locator("nav.bottom")).to_be_visible()
    labels = await page.evaluate(NAV_LABELS)
    assert [label["text"] for label in labels] == [
        zh(name) for name in ("Activities", "My activities", "Door", "Organise", "Inbox")
    ]
    for label in labels:
        assert label["lines"] == 1 and not label["overflows"], label
        assert label["px"] >= 16, label
    await page.locator("header.top").get_by_role("link", name=zh("Me"), exact=True).click()
    await expect(page).to_have_url(re.compile(r"/profile$"))
    await expect(page.locator('header.top a[aria-current="page"]')).to_have_text(zh("Me"))
    await snap(page, "nav-admin-360")

    await page.locator("header").get_by_role("button", name="English").click()
    await expect(page.locator("h1")).to_have_text(en("Me"))
    for label in await page.evaluate(NAV_LABELS):
        assert not label["overflows"] and label["lines"] <= 2, str(label)
        assert label["px"] >= 16, label
    await snap(page, "nav-admin-360-en")


async def test_a_form_posted_right_after_sign_in_carries_the_new_sessions_token(
    phone_page: Any, server: str, org: Org
) -> None:
    """Issue 16: the CSRF token is bound to the session, so it changes at sign-in. The
    sign-in and the pages after it are boosted (no full load), so the next page's token
    must reach boot.js, which sends it with the next htmx request."""
    page = phone_page
    await page.goto("/signin")
    token = "document.querySelector('script[data-csrf-token]').dataset.csrfToken"
    before = await page.evaluate(token)
    await page.evaluate("window.loadedOnce = true")  # gone if the page is ever fully loaded

    await sign_in(page, org.phones["worker_a1"])
    await page.locator("header.top").get_by_role("link", name=zh("Me"), exact=True).click()
    await expect(page).to_have_url(f"{server}/profile")
    after = await page.evaluate(token)
    assert after and after != before

    await page.locator("#name").fill("签到后改名")
    async with page.expect_request(
        lambda request: request.method == "POST" and request.url.endswith("/profile")
    ) as posted:
        await page.get_by_role("button", name=zh("Save")).first.click()
    await expect(page.locator("p.ok")).to_have_text(zh("Saved."))
    assert (await posted.value).headers.get("x-csrftoken") == after
    assert await page.evaluate("window.loadedOnce === true"), "the page was reloaded"
    assert await Member.exists().where(Member.name == "签到后改名")
