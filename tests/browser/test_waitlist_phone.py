"""Two workers on phones, one place: the first is confirmed, the second waits, and is
moved up the moment the first cancels (issue 3's "done when")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from tests.browser.test_signin_phone import sign_in, snap, zh
from tests.conftest import ENGINE, Org, add_member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def one_place_activity(org: Org) -> int:
    starts = clock.now() + timedelta(days=2)
    created = await activities.create_activity(
        org.organiser_a,
        ActivityIn(
            kind="job_fair",
            title="一个名额的招聘会",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=1,
            venue=VenueIn(name="县人力资源市场", address="人民路 88 号"),
        ),
    )
    await activities.publish(org.organiser_a, created.id)
    return created.id


async def test_second_worker_waits_and_is_promoted_when_the_first_cancels(
    phone_page: Any, second_phone_page: Any, org: Org
) -> None:
    activity_id = await one_place_activity(org)
    second = await add_member(
        "13800000006", "外卖骑手小李", "ent-a1", ["worker"], group="food_delivery"
    )
    first_page, second_page = phone_page, second_phone_page

    await first_page.goto("/")
    await sign_in(first_page, org.phones["worker_a1"])
    await expect(first_page.locator("h1")).to_have_text(zh("Hello, %(name)s", name="快递员小王"))
    await first_page.get_by_role("link", name="一个名额的招聘会").click()
    await first_page.get_by_role("button", name=zh("Sign up")).click()
    await expect(first_page.locator(".good")).to_contain_text(zh("You are confirmed."))
    await snap(first_page, "signup-confirmed-360")

    await second_page.goto("/")
    await sign_in(second_page, "13800000006")
    await expect(second_page.locator("h1")).to_have_text(zh("Hello, %(name)s", name="外卖骑手小李"))
    await second_page.goto(f"/activities/{activity_id}")
    await second_page.get_by_role("button", name=zh("Join the waitlist")).click()
    await expect(second_page.locator(".wait")).to_contain_text(
        zh("You are on the waitlist: place %(n)s. We will tell you when a place frees up.", n=1)
    )
    await snap(second_page, "signup-waitlisted-360")

    await first_page.get_by_role("link", name=zh("Cancel my place")).click()
    # It asks first, and says where the place goes.
    await expect(first_page.locator("h1")).to_have_text(zh("Cancel this place?"))
    await snap(first_page, "cancel-confirm-360")
    await first_page.get_by_role("button", name=zh("Yes, cancel the place")).click()
    await expect(first_page.locator(".bad")).to_contain_text(zh("Cancelled"))
    # The freed place went straight to the person waiting: the activity is full again.
    await expect(first_page.get_by_role("button", name=zh("Join the waitlist"))).to_be_visible()

    await second_page.reload()
    await expect(second_page.locator(".good")).to_contain_text(zh("You are confirmed."))
    await second_page.get_by_role("link", name=zh("My activities")).click()
    await expect(second_page.locator(".status-confirmed")).to_have_text(zh("Confirmed"))
    assert second.member_id is not None
