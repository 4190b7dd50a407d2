"""The in-app inbox over HTTP: the API's list and read marking, the page, the nav badge,
and who may see what (another member's message is a 404, no one signed in a 401)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from service import clock
from service.activities import services as activities
from service.db import write_transaction
from service.reminders import delivery, services
from service.reminders.tables import Notification
from service.settings import get_settings
from tests.conftest import Org, csrf_token, sign_in
from tests.http.activity_helpers import START, bearer, browser, new_published
from tests.http.helpers import csrf_headers, zh

# Ten in the morning, local, the day after tomorrow's eve: after now, before the start,
# outside quiet hours, so what is recorded is due at once.
DAYTIME = (START - timedelta(days=2)).astimezone(get_settings().zone).replace(hour=10, minute=0)


async def deliver_due(moment: datetime = DAYTIME) -> int:
    with clock.frozen_at(moment):
        claimed = await services.claim_due()
        for message_id, _ in claimed:
            assert await delivery.deliver(message_id) == "sent"
    return len(claimed)


async def fill_inbox(org: Org, actor: Any, kinds: tuple[str, ...]) -> int:
    """A published activity, the actor's place on it, and more messages of `kinds`; all
    delivered, so they sit in the actor's inbox. Returns the activity id."""
    activity_id = await new_published(org)
    with clock.frozen_at(DAYTIME):
        await activities.register(actor, activity_id)
        async with write_transaction():
            for kind in kinds:
                await services.record(kind, [actor.member_id], activity_id=activity_id)
    await deliver_due()
    return activity_id


async def test_the_inbox_lists_the_members_messages_newest_first(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await fill_inbox(org, org.worker_a1, ("activity_changed",))
    response = await client.get(
        "/api/v1/me/notifications", headers=await bearer(org.phones["worker_a1"])
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["kind"] for item in items] == ["activity_changed", "registration_confirmed"]
    assert items[0]["id"] > items[1]["id"]
    assert set(items[0]) == {"id", "kind", "activity_id", "title", "body", "created_at", "read_at"}
    assert items[0]["activity_id"] == activity_id
    assert "春风行动招聘会" in items[0]["title"]  # the member's language: zh-CN
    assert all(item["read_at"] is None for item in items)


async def test_the_list_is_bounded(client: httpx.AsyncClient, org: Org) -> None:
    member_id = org.worker_a1.member_id
    rows = [
        Notification(
            member_id=member_id, outbox_id=10_000 + n, kind="activity_changed", title=f"t{n}"
        )
        for n in range(services.INBOX_LIMIT + 5)
    ]
    await Notification.insert(*rows).run()
    response = await client.get(
        "/api/v1/me/notifications", headers=await bearer(org.phones["worker_a1"])
    )
    items = response.json()["items"]
    assert len(items) == services.INBOX_LIMIT
    assert items[0]["title"] == f"t{services.INBOX_LIMIT + 4}"


async def test_marking_one_and_all_read(client: httpx.AsyncClient, org: Org) -> None:
    await fill_inbox(org, org.worker_a1, ("activity_changed", "waitlist_promoted"))
    auth = await bearer(org.phones["worker_a1"])
    items = (await client.get("/api/v1/me/notifications", headers=auth)).json()["items"]
    first = items[-1]["id"]
    response = await client.post(f"/api/v1/me/notifications/{first}/read", headers=auth)
    assert response.status_code == 204
    again = await client.post(f"/api/v1/me/notifications/{first}/read", headers=auth)
    assert again.status_code == 204  # reading twice is fine, the first time is kept
    items = (await client.get("/api/v1/me/notifications", headers=auth)).json()["items"]
    assert [item["read_at"] is not None for item in items] == [False, False, True]
    assert await services.unread_count(org.worker_a1.member_id) == 2

    response = await client.post("/api/v1/me/notifications/read-all", headers=auth)
    assert response.status_code == 200
    assert response.json() == {"marked": 2}
    assert await services.unread_count(org.worker_a1.member_id) == 0


async def test_another_members_message_is_not_found(client: httpx.AsyncClient, org: Org) -> None:
    await fill_inbox(org, org.worker_a1, ())
    theirs = (
        await Notification.select(Notification.id)
        .where(Notification.member_id == org.worker_a1.member_id)
        .first()
        .run()
    )
    assert theirs is not None
    other = await bearer(org.phones["staff_a"])
    response = await client.post(f"/api/v1/me/notifications/{theirs['id']}/read", headers=other)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    missing = await client.post("/api/v1/me/notifications/999999/read", headers=other)
    assert missing.status_code == 404
    listing = await client.get("/api/v1/me/notifications", headers=other)
    assert listing.json() == {"items": []}
    assert await services.unread_count(org.worker_a1.member_id) == 1  # untouched


async def test_no_one_signed_in_gets_401(client: httpx.AsyncClient, org: Org) -> None:
    assert (await client.get("/api/v1/me/notifications")).status_code == 401
    assert (await client.post("/api/v1/me/notifications/1/read")).status_code == 401
    assert (await client.post("/api/v1/me/notifications/read-all")).status_code == 401
    page = await client.get("/me/notifications")
    assert page.status_code in (302, 303)
    assert page.headers["location"].startswith("/signin")


async def test_a_cookie_session_needs_the_csrf_header_to_mark_read(
    client: httpx.AsyncClient, org: Org
) -> None:
    await fill_inbox(org, org.worker_a1, ())
    await sign_in(client, org.phones["worker_a1"])
    assert (await client.post("/api/v1/me/notifications/read-all")).status_code == 403
    response = await client.post("/api/v1/me/notifications/read-all", headers=csrf_headers(client))
    assert response.status_code == 200
    assert response.json() == {"marked": 1}


async def test_the_badge_counts_unread_and_the_page_reads_them(
    client: httpx.AsyncClient, org: Org
) -> None:
    await fill_inbox(org, org.worker_a1, ("activity_changed",))
    home = await sign_in(client, org.phones["worker_a1"])
    assert 'href="/me/notifications"' in home.text
    assert 'id="unread-badge"' in home.text
    assert '<span class="badge" id="unread-badge"' in home.text
    assert ">2</span>" in home.text

    page = await client.get("/me/notifications")
    assert page.status_code == 200
    assert page.text.count('class="message unread"') == 2  # as they were when opened
    assert "春风行动招聘会" in page.text
    assert 'id="unread-badge"' not in page.text  # the badge goes on the page itself
    assert await services.unread_count(org.worker_a1.member_id) == 0

    home = await client.get("/")
    assert 'id="unread-badge"' not in home.text
    again = await client.get("/me/notifications")
    assert 'class="message unread"' not in again.text


async def test_no_badge_without_unread_and_none_for_another_member(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    await fill_inbox(org, org.worker_a1, ())
    async with browser(app, "203.0.113.8") as other:
        home = await sign_in(other, org.phones["staff_a"])
        assert 'href="/me/notifications"' in home.text
        assert 'id="unread-badge"' not in home.text
        page = await other.get("/me/notifications")
        assert "春风行动招聘会" not in page.text


async def test_the_page_in_english(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, org.phones["worker_a1"])
    await client.post(
        "/language",
        data={"language": "en", "next": "/", "_csrf_token": csrf_token(client)},
    )
    page = await client.get("/me/notifications")
    assert "<h1>Inbox</h1>" in page.text
    assert "No messages yet" in page.text


async def test_the_inbox_reads_in_the_readers_current_language(
    client: httpx.AsyncClient, org: Org
) -> None:
    """Sent in Chinese (the member's language then); read after switching to English, the
    inbox says it in English: it keeps each message's kind and parameters."""
    await fill_inbox(org, org.worker_a1, ("activity_changed",))
    await sign_in(client, org.phones["worker_a1"])
    chinese = await client.get("/me/notifications")
    assert zh("Changed: %(title)s", title="春风行动招聘会") in chinese.text
    await client.post(
        "/language",
        data={"language": "en", "next": "/", "_csrf_token": csrf_token(client)},
    )
    page = await client.get("/me/notifications")
    assert "Changed: 春风行动招聘会" in page.text
    assert "You have a place: 春风行动招聘会" in page.text
    stored = await Notification.select(Notification.title).order_by(Notification.id)
    assert stored[0]["title"].startswith("报名成功")  # what went out stays as it was sent
