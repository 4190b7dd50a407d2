"""Issue 12's "done when" at 360 px: a worker finds a reading room open this evening,
joins a study plan's series in one step, is admitted at the first session's door, and
posts a note that the organiser approves; the room pages fit the phone in zh-CN."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.checkin import services as checkin
from service.reading import services as reading
from service.reading.schemas import IntervalIn, PlanIn, RoomIn, WeekIn
from tests.browser.test_signin_phone import sign_in, snap, zh
from tests.conftest import ENGINE, Org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]


async def seed(org: Org) -> tuple[int, int, list[int]]:
    """A room open all day every day (so it is open this evening whenever the test runs),
    a closed room, and a plan of two sessions: the first starts within the hour (its door
    is open), the second tomorrow."""
    room = await reading.create_room(
        org.organiser_a, RoomIn(name="夜读书屋", seats=20, address="人民路 3 号", books=900)
    )
    await reading.set_week(
        org.organiser_a, room.room.id, WeekIn(days=[[IntervalIn("00:00", "24:00")]] * 7)
    )
    await reading.create_room(org.organiser_a, RoomIn(name="周末书屋", seats=10))
    now = clock.now().replace(second=0, microsecond=0)
    ids = []
    for n, starts in enumerate((now + timedelta(minutes=30), now + timedelta(days=1))):
        created = await activities.create_activity(
            org.organiser_a,
            ActivityIn(
                kind="reading_session",
                title=f"书香三八 第{n + 1}期",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                capacity=10,
                details={
                    "room_id": room.room.id,
                    "facilitator": "王老师",
                    "books": [{"title": "平凡的世界", "author": "路遥"}],
                },
            ),
        )
        await activities.publish(org.organiser_a, created.id)
        ids.append(created.id)
    plan = await reading.create_plan(org.organiser_a, PlanIn(name="书香三八", activity_ids=ids))
    return room.room.id, plan.id, ids


async def test_a_worker_finds_a_room_joins_a_plan_attends_and_posts_a_note(
    phone_page: Any, second_phone_page: Any, org: Org
) -> None:
    room_id, plan_id, ids = await seed(org)
    page = phone_page
    await page.goto("/")
    await sign_in(page, org.phones["worker_a1"])
    await expect(page.locator("h1")).to_have_text(zh("Hello, %(name)s", name="快递员小王"))
    await page.get_by_role("link", name=zh("Reading rooms")).click()
    await page.get_by_role("link", name=zh("Open this evening")).click()
    await expect(page.locator("#room-list")).to_contain_text("夜读书屋")
    await expect(page.locator("#room-list")).not_to_contain_text("周末书屋")
    await snap(page, "reading-rooms-evening-360")
    await page.get_by_role("link", name="夜读书屋").click()
    await expect(page.locator(".open-badge")).to_have_text(zh("Open"))
    await expect(page.locator("ul.days li")).to_have_count(14)
    await page.get_by_label(f"{zh('Monday')} {zh('Evening')}").check()
    await page.get_by_role("button", name=zh("Save my times")).click()
    await expect(page.locator("#demand .good")).to_be_visible()
    await snap(page, "reading-room-360")

    await page.goto(f"/study-plans/{plan_id}")
    await page.get_by_role("button", name=zh("Join the whole series")).click()
    await expect(page.locator("#join-results")).to_contain_text(
        zh("Joined %(joined)s of %(total)s sessions.", joined=2, total=2)
    )
    await snap(page, "reading-plan-joined-360")

    registration = await activities.my_registration(org.worker_a1, ids[0])
    assert registration is not None
    await checkin.admit_registration(org.organiser_a, ids[0], registration.id)
    await page.goto(f"/study-plans/{plan_id}")
    await expect(page.locator("ol.plan")).to_contain_text(zh("Attended"))

    await page.goto(f"/activities/{ids[0]}")
    await page.get_by_role("link", name=zh("Reading notes")).click()
    await page.locator("#body").fill("<b>孙少平</b>的坚持让我想起自己。")
    await page.locator("#page").fill("第二部")
    await page.get_by_role("button", name=zh("Post")).click()
    await expect(page.locator(".good")).to_contain_text(
        zh("Thank you. Your note is shown once an organiser approves it.")
    )
    await expect(page.locator("ul.notes")).to_contain_text("<b>孙少平</b>")  # shown as text
    await snap(page, "reading-notes-pending-360")

    organiser = second_phone_page
    await organiser.goto("/")
    await sign_in(organiser, org.phones["organiser_a"])
    await expect(organiser.locator("h1")).to_have_text(
        zh("Hello, %(name)s", name="甲组织者")
    )  # signed in: the home page
    await organiser.goto(f"/reading-sessions/{ids[0]}/notes")
    await organiser.get_by_role("button", name=zh("Approve"), exact=True).click()
    await expect(organiser.locator("ul.notes")).not_to_contain_text(zh("Waiting for approval"))
    await organiser.goto(f"/organise/reading-rooms/{room_id}")
    await snap(organiser, "reading-room-edit-360")

    await page.reload()
    await expect(page.locator("ul.notes")).not_to_contain_text(zh("Waiting for approval"))
    await expect(page.locator("ul.notes")).to_contain_text("的坚持让我想起自己。")

    # The same pages in English fit the phone too.
    await organiser.get_by_role("button", name="English").click()
    await expect(organiser.locator("html")).to_have_attribute("lang", "en")
    await organiser.goto("/reading-rooms?open=evening")
    await expect(organiser.locator("h1")).to_have_text("Reading rooms")
    await snap(organiser, "reading-rooms-en-360")
    await organiser.goto(f"/reading-rooms/{room_id}")
    await snap(organiser, "reading-room-en-360")
    await organiser.goto(f"/study-plans/{plan_id}")
    await snap(organiser, "reading-plan-en-360")
