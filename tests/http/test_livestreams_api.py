"""The livestream room over HTTP: the JSON API (schedule preview and save, episodes by
date, subscriptions, viewer figures) with bad, unauthorised, oversized and concurrent
input; the pages without JavaScript; the public calendar feed; the one-tap unsubscribe."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from service import clock
from service.activities.tables import Activity
from service.livestreams.tables import Channel, Subscription
from service.reminders.tables import OutboxMessage
from tests.conftest import Org, post_form, sign_in
from tests.http.activity_helpers import bearer

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
RULE = {
    "weekdays": ["TU", "TH"],
    "start_date": "2026-03-01",
    "start_time": "19:30",
    "end_date": "2026-03-31",
}


@pytest.fixture(autouse=True)
def frozen() -> object:
    with clock.frozen_at(NOW):
        yield


async def channel_with_columns(client: httpx.AsyncClient, org: Org) -> tuple[int, list[int]]:
    organiser = await bearer(org.phones["organiser_a"])
    created = await client.post(
        "/api/v1/channels",
        json={"name": "理响工会直播间", "stream_url": "https://live.example.cn/lx"},
        headers=organiser,
    )
    assert created.status_code == 201, created.text
    channel_id = created.json()["id"]
    columns = []
    for name in ("运河工匠", "职工课堂"):
        column = await client.post(
            f"/api/v1/channels/{channel_id}/columns",
            json={"name": name, "department": "宣教部", "rundown": "开场 | 5 | 主持人\n访谈 | 50"},
            headers=organiser,
        )
        assert column.status_code == 201, column.text
        columns.append(column.json()["id"])
    return channel_id, columns


async def test_preview_then_save_then_list_episodes(client: httpx.AsyncClient, org: Org) -> None:
    channel_id, columns = await channel_with_columns(client, org)
    organiser = await bearer(org.phones["organiser_a"])
    preview = await client.post(
        f"/api/v1/channels/{channel_id}/schedule/preview",
        json={**RULE, "end_date": None},
        headers=organiser,
    )
    assert preview.status_code == 200
    assert len(preview.json()["dates"]) == 20
    assert await Activity.count() == 0  # a preview writes nothing
    saved = await client.put(
        f"/api/v1/channels/{channel_id}/schedule", json=RULE, headers=organiser
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["created"] == 9
    again = await client.put(
        f"/api/v1/channels/{channel_id}/schedule", json=RULE, headers=organiser
    )
    assert again.json() == {"created": 0, "kept": 9, "cancelled": 0}
    worker = await bearer(org.phones["worker_a1"])
    listed = await client.get(
        f"/api/v1/channels/{channel_id}/episodes",
        params={"from": "2026-03-09T00:00:00+08:00", "to": "2026-03-15T23:59:00+08:00"},
        headers=worker,
    )
    assert listed.status_code == 200
    body = listed.json()
    assert [one["column_name"] for one in body] == ["运河工匠", "职工课堂"]
    assert body[0]["rundown_minutes"] == 55 and body[0]["rundown_too_long"] is False
    assert columns


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({**RULE, "weekdays": []}, "weekdays"),
        ({**RULE, "minutes": 0}, "minutes"),
        ({**RULE, "start_time": "7pm"}, "start_time"),
    ],
)
async def test_bad_rules_are_400_and_write_nothing(
    client: httpx.AsyncClient, org: Org, rule: dict[str, object], field: str
) -> None:
    channel_id, _ = await channel_with_columns(client, org)
    organiser = await bearer(org.phones["organiser_a"])
    response = await client.put(
        f"/api/v1/channels/{channel_id}/schedule", json=rule, headers=organiser
    )
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert await Activity.count() == 0


async def test_malformed_oversized_and_unauthorised_requests(
    client: httpx.AsyncClient, org: Org
) -> None:
    channel_id, _ = await channel_with_columns(client, org)
    organiser = await bearer(org.phones["organiser_a"])
    malformed = await client.put(
        f"/api/v1/channels/{channel_id}/schedule",
        content=b"{not json",
        headers={**organiser, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    wrong_type = await client.put(
        f"/api/v1/channels/{channel_id}/schedule",
        json={**RULE, "interval": "two"},
        headers=organiser,
    )
    assert wrong_type.status_code == 400
    oversized = await client.post(
        "/api/v1/channels",
        json={"name": "直" * 5000, "stream_url": "https://x.cn"},
        headers=organiser,
    )
    assert oversized.status_code == 400
    not_a_link = await client.post(
        "/api/v1/channels",
        json={"name": "频道", "stream_url": "javascript:alert(1)"},
        headers=organiser,
    )
    assert not_a_link.status_code == 400
    assert await Channel.count() == 1
    anonymous = await client.post(f"/api/v1/channels/{channel_id}/schedule/preview", json=RULE)
    assert anonymous.status_code == 401
    for phone in ("worker_a1", "organiser_b", "staff_a"):
        denied = await client.put(
            f"/api/v1/channels/{channel_id}/schedule",
            json=RULE,
            headers=await bearer(org.phones[phone]),
        )
        assert denied.status_code in (403, 404), phone
    assert await Activity.count() == 0
    missing = await client.get("/api/v1/channels/999999/episodes", headers=organiser)
    assert missing.status_code == 404


async def test_subscriptions_concurrent_and_figures(client: httpx.AsyncClient, org: Org) -> None:
    channel_id, columns = await channel_with_columns(client, org)
    organiser = await bearer(org.phones["organiser_a"])
    await client.put(f"/api/v1/channels/{channel_id}/schedule", json=RULE, headers=organiser)
    worker = await bearer(org.phones["worker_a1"])
    answers = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/channels/{channel_id}/subscriptions",
                json={"columns": [columns[0]]},
                headers=worker,
            )
            for _ in range(5)
        )
    )
    assert {answer.status_code for answer in answers} == {200}
    assert await Subscription.count() == 1
    pending = await OutboxMessage.count().where(
        (OutboxMessage.kind == "livestream_reminder") & (OutboxMessage.status == "pending")
    )
    assert pending == 1  # the first column's episode of the coming week (3 March), once
    bad = await client.post(
        f"/api/v1/channels/{channel_id}/subscriptions", json={"columns": [999999]}, headers=worker
    )
    assert bad.status_code == 400

    episodes = (await client.get(f"/api/v1/channels/{channel_id}/episodes", headers=worker)).json()
    first = episodes[0]["activity_id"]
    with clock.frozen_at(NOW + timedelta(days=2)):
        impossible = await client.post(
            f"/api/v1/activities/{first}/viewer-figures",
            json={
                "peak_concurrent": 900,
                "unique_viewers": 100,
                "total_views": 50,
                "average_watch_minutes": 5,
            },
            headers=organiser,
        )
        assert impossible.status_code == 400
        assert impossible.json()["code"] == "impossible_figures"
        by_worker = await client.post(
            f"/api/v1/activities/{first}/viewer-figures",
            json={
                "peak_concurrent": 1,
                "unique_viewers": 1,
                "total_views": 1,
                "average_watch_minutes": 1,
            },
            headers=worker,
        )
        assert by_worker.status_code == 403
        good = await client.post(
            f"/api/v1/activities/{first}/viewer-figures",
            json={
                "peak_concurrent": 300,
                "unique_viewers": 1200,
                "total_views": 2000,
                "average_watch_minutes": 17.5,
                "source": "视频号后台",
            },
            headers=organiser,
        )
        assert good.status_code == 200, good.text
        assert "unique_viewers" in good.json()["definitions"]


async def test_openapi_documents_the_livestream_api(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/channels/{channel_id}/schedule/preview",
        "/api/v1/channels/{channel_id}/schedule",
        "/api/v1/channels/{channel_id}/episodes",
        "/api/v1/channels/{channel_id}/subscriptions",
        "/api/v1/activities/{activity_id}/viewer-figures",
    ):
        assert path in paths, path


async def test_the_feed_is_public_and_lists_skips(client: httpx.AsyncClient, org: Org) -> None:
    channel_id, _ = await channel_with_columns(client, org)
    organiser = await bearer(org.phones["organiser_a"])
    await client.put(f"/api/v1/channels/{channel_id}/schedule", json=RULE, headers=organiser)
    episodes = (
        await client.get(f"/api/v1/channels/{channel_id}/episodes", headers=organiser)
    ).json()
    await client.post(
        f"/api/v1/episodes/{episodes[1]['activity_id']}/skip",
        json={"reason": "假日"},
        headers=organiser,
    )
    feed = await client.get(f"/calendar/channels/{channel_id}.ics")
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert "RRULE:FREQ=WEEKLY" in feed.text and "EXDATE" in feed.text
    assert (await client.get("/calendar/channels/999999.ics")).status_code == 404


async def test_pages_organiser_previews_saves_skips_and_worker_subscribes(
    client: httpx.AsyncClient, org: Org
) -> None:
    channel_id, columns = await channel_with_columns(client, org)
    await sign_in(client, org.phones["organiser_a"])
    listing = await client.get("/organise/livestreams")
    assert listing.status_code == 200 and "理响工会直播间" in listing.text
    form = {
        "weekdays": ["TU", "TH"],
        "interval": "1",
        "start_time": "19:30",
        "start_date": "2026-03-01",
        "end_date": "2026-03-31",
        "minutes": "60",
        "zone": "",
    }
    preview = await post_form(
        client, f"/organise/livestreams/{channel_id}/schedule", {**form, "action": "preview"}
    )
    assert preview.status_code == 200 and "3月3日" in preview.text
    no_days = await post_form(
        client,
        f"/organise/livestreams/{channel_id}/schedule",
        {**form, "weekdays": [], "action": "save"},
    )
    assert no_days.status_code == 400 and "至少" in no_days.text
    saved = await post_form(
        client, f"/organise/livestreams/{channel_id}/schedule", {**form, "action": "save"}
    )
    assert saved.status_code in (301, 302, 303)
    manage = await client.get(f"/organise/livestreams/{channel_id}")
    assert manage.status_code == 200 and "本期停播" in manage.text
    first = (await Activity.select(Activity.id).order_by(Activity.starts_at).first().run())["id"]
    skipped = await post_form(
        client,
        f"/organise/livestreams/episodes/{first}/skip",
        {"channel_id": channel_id, "reason": "节假日"},
    )
    assert skipped.status_code in (301, 302, 303)
    assert (await Activity.select(Activity.status).where(Activity.id == first).first().run())[
        "status"
    ] == "cancelled"

    client.cookies.clear()
    await sign_in(client, org.phones["worker_a1"])
    second = (
        await Activity.select(Activity.id)
        .where(Activity.status == "published")
        .order_by(Activity.starts_at)
        .first()
        .run()
    )["id"]
    episode_page = await client.get(f"/activities/{second}")
    assert "提醒我" in episode_page.text
    assert (
        "https://live.example.cn/lx" not in episode_page.text
    )  # not yet: watch opens 15 min before
    channel_page = await client.get(f"/livestreams/channels/{channel_id}")
    assert channel_page.status_code == 200, channel_page.text[-2000:]
    assert "职工课堂" in channel_page.text
    subscribed = await post_form(
        client, f"/livestreams/channels/{channel_id}/subscribe", {"columns": [str(columns[1])]}
    )
    assert subscribed.status_code in (301, 302, 303)
    assert await Subscription.count() == 1
    starts = (await Activity.select(Activity.starts_at).where(Activity.id == second).first().run())[
        "starts_at"
    ]
    with clock.frozen_at(starts - timedelta(minutes=14)):
        near = await client.get(f"/activities/{second}")
    assert "https://live.example.cn/lx" in near.text

    token = (await Subscription.select(Subscription.token).first().run())["token"]
    client.cookies.clear()
    ask = await client.get(f"/livestreams/unsubscribe/{token}")
    assert ask.status_code == 200 and await Subscription.count() == 1  # a GET changes nothing
    done = await post_form(client, f"/livestreams/unsubscribe/{token}", {})
    assert done.status_code == 200
    assert await Subscription.count() == 0
