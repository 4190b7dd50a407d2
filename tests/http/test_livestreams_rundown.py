"""An episode's own rundown over HTTP: the episode PUT (the activity's details) with good,
malformed, oversized and unauthorised input; the organiser's edit form without
JavaScript (a bad line answered in the user's language with what was typed kept); the
channel page listing each episode's rundown and flagging one longer than its slot."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from service import clock
from service.activities.tables import Activity
from service.livestreams.tables import Episode
from tests.conftest import Org, post_form, sign_in
from tests.http.activity_helpers import bearer, zh

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
RULE = {
    "weekdays": ["TU", "TH"],
    "start_date": "2026-03-01",
    "start_time": "19:30",
    "end_date": "2026-03-15",
    "minutes": 60,
}


@pytest.fixture(autouse=True)
def frozen() -> object:
    with clock.frozen_at(NOW):
        yield


async def episodes(client: httpx.AsyncClient, org: Org) -> tuple[int, list[dict[str, Any]]]:
    organiser = await bearer(org.phones["organiser_a"])
    created = await client.post(
        "/api/v1/channels",
        json={"name": "理响工会直播间", "stream_url": "https://live.example.cn/lx"},
        headers=organiser,
    )
    channel_id = created.json()["id"]
    column = await client.post(
        f"/api/v1/channels/{channel_id}/columns",
        json={"name": "运河工匠", "rundown": "开场 | 5 | 主持人\n访谈 | 40"},
        headers=organiser,
    )
    assert column.status_code == 201, column.text
    saved = await client.put(
        f"/api/v1/channels/{channel_id}/schedule", json=RULE, headers=organiser
    )
    assert saved.status_code == 200, saved.text
    listed = await client.get(f"/api/v1/channels/{channel_id}/episodes", headers=organiser)
    return channel_id, listed.json()


async def put_body(client: httpx.AsyncClient, activity_id: int, headers: dict[str, str]) -> Any:
    """The episode as the API gives it, shaped for its PUT."""
    current = (await client.get(f"/api/v1/activities/{activity_id}", headers=headers)).json()
    return {
        "kind": current["kind"],
        "title": current["title"],
        "starts_at": current["starts_at"],
        "ends_at": current["ends_at"],
        "venue": {"name": current["venue_name"]},
        "owner": current["owner_code"],
        "details": {
            "channel_id": current["details"]["channel_id"],
            "column_id": current["details"]["column_id"],
            "topic": current["details"]["topic"],
            "guests": current["details"]["guests"],
        },
    }


async def stored_rundowns() -> list[Any]:
    return await Episode.select(Episode.rundown).order_by(Episode.id).run()


async def test_the_episode_put_edits_one_rundown_and_flags_it(
    client: httpx.AsyncClient, org: Org
) -> None:
    channel_id, listed = await episodes(client, org)
    first = listed[0]
    assert [s["title"] for s in first["rundown"]] == ["开场", "访谈"]
    organiser = await bearer(org.phones["organiser_a"])
    body = await put_body(client, first["activity_id"], organiser)
    body["details"]["rundown"] = [
        {"title": "开场", "minutes": 5, "who": "主持人"},
        {"title": "劳模访谈", "minutes": 60, "who": "张师傅"},
    ]
    saved = await client.put(
        f"/api/v1/activities/{first['activity_id']}", json=body, headers=organiser
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["details"]["rundown"][1] == {
        "title": "劳模访谈",
        "minutes": 60,
        "who": "张师傅",
    }
    after = (await client.get(f"/api/v1/channels/{channel_id}/episodes", headers=organiser)).json()
    assert after[0]["rundown_minutes"] == 65 and after[0]["rundown_too_long"] is True
    assert after[0]["rundown_edited"] is True
    assert after[1]["rundown"] == listed[1]["rundown"] and not after[1]["rundown_too_long"]
    # Regenerating the schedule keeps the edited rundown.
    again = await client.put(
        f"/api/v1/channels/{channel_id}/schedule", json=RULE, headers=organiser
    )
    assert again.status_code == 200
    kept = (await client.get(f"/api/v1/channels/{channel_id}/episodes", headers=organiser)).json()
    assert kept[0]["rundown"] == after[0]["rundown"]


@pytest.mark.parametrize(
    "rundown",
    [
        "not | a number",
        {"title": "开场", "minutes": 5},
        [{"title": "", "minutes": 5}],
        [{"title": "开场", "minutes": 0}],
        [{"title": "开场", "minutes": 601}],
        [{"title": "开场", "minutes": "five"}],
        [{"title": "开场", "minutes": 5, "extra": 1}],
        [{"title": "开" * 101, "minutes": 5}],
        [{"title": "段", "minutes": 1}] * 31,
        [{"title": "段" * 100, "minutes": 1, "who": "人" * 100}] * 5000,
    ],
)
async def test_a_bad_rundown_is_400_and_writes_nothing(
    client: httpx.AsyncClient, org: Org, rundown: Any
) -> None:
    _, listed = await episodes(client, org)
    organiser = await bearer(org.phones["organiser_a"])
    activity_id = listed[0]["activity_id"]
    body = await put_body(client, activity_id, organiser)
    body["details"]["rundown"] = rundown
    body["details"]["topic"] = "不该存下"
    before = await stored_rundowns()
    refused = await client.put(f"/api/v1/activities/{activity_id}", json=body, headers=organiser)
    assert refused.status_code in (400, 413), refused.text[:300]
    if refused.status_code == 400:
        assert refused.json()["field"] == "details.rundown"
    assert await stored_rundowns() == before
    assert (await Episode.select(Episode.topic).where(Episode.activity == activity_id).first())[
        "topic"
    ] == ""


async def test_malformed_and_unauthorised_puts_write_nothing(
    client: httpx.AsyncClient, org: Org
) -> None:
    _, listed = await episodes(client, org)
    organiser = await bearer(org.phones["organiser_a"])
    activity_id = listed[0]["activity_id"]
    body = await put_body(client, activity_id, organiser)
    body["details"]["rundown"] = [{"title": "抢来的", "minutes": 5}]
    before = await stored_rundowns()
    malformed = await client.put(
        f"/api/v1/activities/{activity_id}",
        content=b'{"details": {"rundown": [',
        headers={**organiser, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    anonymous = await client.put(f"/api/v1/activities/{activity_id}", json=body)
    assert anonymous.status_code == 401
    for phone in ("worker_a1", "staff_a", "organiser_b"):
        denied = await client.put(
            f"/api/v1/activities/{activity_id}",
            json=body,
            headers=await bearer(org.phones[phone]),
        )
        assert denied.status_code in (403, 404), phone
    assert await stored_rundowns() == before


async def test_the_edit_form_saves_a_rundown_without_javascript(
    client: httpx.AsyncClient, org: Org
) -> None:
    channel_id, listed = await episodes(client, org)
    activity_id = listed[0]["activity_id"]
    await sign_in(client, org.phones["organiser_a"])
    manage = await client.get(f"/organise/livestreams/{channel_id}")
    assert f"/organise/activities/{activity_id}/edit#details-rundown" in manage.text
    form_page = await client.get(f"/organise/activities/{activity_id}/edit")
    assert form_page.status_code == 200
    assert 'name="details.rundown"' in form_page.text and "开场 | 5 | 主持人" in form_page.text
    row = await Activity.select().where(Activity.id == activity_id).first().run()
    fields = {
        "kind": "livestream",
        "title": row["title"],
        "starts_at": "2026-03-03T19:30",
        "ends_at": "2026-03-03T20:30",
        "owner": "union-a",
        "venue_name": row["venue_name"],
        "details.channel_id": str(channel_id),
        "details.column_id": str(listed[0]["column_id"]),
        "details.topic": "",
        "details.guests": "",
    }
    bad = await post_form(
        client,
        f"/organise/activities/{activity_id}/edit",
        {**fields, "details.rundown": "开场 | 5\n访谈 | 很久"},
    )
    assert bad.status_code == 400
    assert zh("Write each segment as: title | minutes | who.") in bad.text
    assert "访谈 | 很久" in bad.text  # what was typed is kept
    good = await post_form(
        client,
        f"/organise/activities/{activity_id}/edit",
        {**fields, "details.rundown": "开场 | 5 | 主持人\n劳模访谈 | 70 | 张师傅"},
    )
    assert good.status_code in (301, 302, 303), good.text[-1500:]
    manage = await client.get(f"/organise/livestreams/{channel_id}")
    assert "劳模访谈" in manage.text
    assert zh("Rundown longer than the slot") in manage.text


async def test_an_episode_put_with_only_a_rundown_keeps_its_channel_column_and_topic(
    client: httpx.AsyncClient, org: Org
) -> None:
    channel_id, listed = await episodes(client, org)
    first = listed[0]
    organiser = await bearer(org.phones["organiser_a"])
    body = await put_body(client, first["activity_id"], organiser)
    body["details"]["topic"] = "劳模谈安全"
    saved = await client.put(
        f"/api/v1/activities/{first['activity_id']}", json=body, headers=organiser
    )
    assert saved.status_code == 200, saved.text
    before = saved.json()["details"]
    body["details"] = {"rundown": [{"title": "访谈", "minutes": 30, "who": "张师傅"}]}
    saved = await client.put(
        f"/api/v1/activities/{first['activity_id']}", json=body, headers=organiser
    )
    assert saved.status_code == 200, saved.text
    after = saved.json()["details"]
    assert (after["channel_id"], after["column_id"], after["topic"]) == (
        before["channel_id"],
        before["column_id"],
        "劳模谈安全",
    )
    assert after["rundown"] == [{"title": "访谈", "minutes": 30, "who": "张师傅"}]
    still = (await client.get(f"/api/v1/channels/{channel_id}/episodes", headers=organiser)).json()
    assert first["activity_id"] in [episode["activity_id"] for episode in still]
