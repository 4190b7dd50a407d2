"""The livestream crew and rota over HTTP: the rota with its reasons by date, bad,
unauthorised, oversized and concurrent input, the pages without JavaScript (organiser
plans, crew accept, decline and ask to swap, organiser approves), and the private duty
feed that a revoked link no longer opens."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import httpx
import pytest

from service import clock
from service.livestreams import services as livestreams
from service.livestreams.schemas import ChannelIn, CrewIn, NeedIn, RuleIn
from service.livestreams.tables import Duty
from tests.conftest import Org, add_member, post_form, sign_in
from tests.http.activity_helpers import bearer

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


async def crewed(org: Org) -> tuple[int, dict[str, str], dict[str, int]]:
    """March: Tue/Thu 19:30; two hosts and two camera operators, one camera an episode."""
    channel = await livestreams.create_channel(
        org.organiser_a, ChannelIn(name="理响工会直播间", stream_url="https://live.example.cn/lx")
    )
    await livestreams.save_schedule(
        org.organiser_a,
        channel.id,
        RuleIn(
            weekdays=["TU", "TH"],
            start_date=date(2026, 3, 1),
            start_time="19:30",
            end_date=date(2026, 3, 31),
        ),
    )
    phones: dict[str, str] = {}
    crew: dict[str, int] = {}
    for index, (name, role, department) in enumerate(
        [
            ("主持甲", "host", "宣教部"),
            ("主持乙", "host", "法律部"),
            ("摄像甲", "camera", "宣教部"),
            ("摄像乙", "camera", "法律部"),
        ]
    ):
        phone = f"1370000{index:04d}"
        actor = await add_member(phone, name, "union-a", ["worker"])
        phones[name] = phone
        added = await livestreams.add_crew(
            org.organiser_a,
            channel.id,
            CrewIn(member_id=actor.member_id or 0, role=role, department=department),
        )
        crew[name] = added.id
    await livestreams.set_need(org.organiser_a, channel.id, NeedIn(role="camera", needed=1))
    return channel.id, phones, crew


async def test_the_rota_by_date_with_reasons(client: httpx.AsyncClient, org: Org) -> None:
    channel_id, phones, _ = await crewed(org)
    organiser = await bearer(org.phones["organiser_a"])
    planned = await client.post(f"/api/v1/channels/{channel_id}/rota", headers=organiser)
    assert planned.status_code == 200, planned.text
    assert planned.json()["planned"] == 9 * 2
    worker = await bearer(phones["主持甲"])
    week = await client.get(
        f"/api/v1/channels/{channel_id}/rota",
        params={"from": "2026-03-09T00:00:00+08:00", "to": "2026-03-15T23:59:00+08:00"},
        headers=worker,
    )
    assert week.status_code == 200
    episodes = week.json()
    assert len(episodes) == 2  # Tuesday 10 and Thursday 12 March
    for episode in episodes:
        assert episode["department"] in ("宣教部", "法律部")
        assert episode["department_reason"] == "next_department"
        assert [d["role"] for d in episode["duties"]] == ["host", "camera"]
        assert all(
            d["reason"] in ("fewest_so_far", "longest_since_last", "only_available")
            for d in episode["duties"]
        )
    bad = await client.get(
        f"/api/v1/channels/{channel_id}/rota", params={"from": "next tuesday"}, headers=worker
    )
    assert bad.status_code == 400


async def test_who_may_plan_and_see(client: httpx.AsyncClient, org: Org) -> None:
    channel_id, phones, crew = await crewed(org)
    assert (await client.get(f"/api/v1/channels/{channel_id}/rota")).status_code == 401
    worker = await bearer(phones["主持甲"])
    assert (
        await client.post(f"/api/v1/channels/{channel_id}/rota", headers=worker)
    ).status_code == 403
    other = await bearer(org.phones["organiser_b"])
    assert (
        await client.post(f"/api/v1/channels/{channel_id}/rota", headers=other)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/channels/{channel_id}/crew", headers=other)
    ).status_code == 404
    assert (
        await client.post(
            f"/api/v1/crew/{crew['主持乙']}/blockouts",
            json={"starts_on": "2026-03-10"},
            headers=worker,
        )
    ).status_code == 403  # someone else's blockouts
    assert await Duty.count() == 0


async def test_bad_and_oversized_input_writes_nothing(client: httpx.AsyncClient, org: Org) -> None:
    channel_id, phones, crew = await crewed(org)
    organiser = await bearer(org.phones["organiser_a"])
    for body in (
        {"member_id": "abc", "role": "host"},
        {"member_id": org.worker_a1.member_id, "role": "disc jockey"},
        {"member_id": org.worker_a1.member_id, "role": "host", "department": "部" * 5000},
        {"member_id": 2**70, "role": "host"},
    ):
        answer = await client.post(
            f"/api/v1/channels/{channel_id}/crew", json=body, headers=organiser
        )
        assert answer.status_code == 400, (body, answer.text)
    malformed = await client.post(
        f"/api/v1/channels/{channel_id}/crew",
        content=b"{not json",
        headers={**organiser, "content-type": "application/json"},
    )
    assert malformed.status_code == 400
    mine = await bearer(phones["主持甲"])
    for body in (
        {"starts_on": "2026-03-10", "ends_on": "2026-03-01"},
        {"starts_on": "2026-03-10", "ends_on": "2030-03-01"},
        {"starts_on": "2026-03-10", "reason": "x" * 5000},
        {"starts_on": "yesterday"},
    ):
        answer = await client.post(
            f"/api/v1/crew/{crew['主持甲']}/blockouts", json=body, headers=mine
        )
        assert answer.status_code == 400, (body, answer.text)
    assert await livestreams.list_blockouts(channel_id) == []
    assert len(await livestreams.list_crew(channel_id)) == 4


async def test_a_short_rota_says_the_date(client: httpx.AsyncClient, org: Org) -> None:
    channel_id, phones, crew = await crewed(org)
    for name in ("摄像甲", "摄像乙"):
        blocked = await client.post(
            f"/api/v1/crew/{crew[name]}/blockouts",
            json={"starts_on": "2026-03-19", "reason": "出差"},
            headers=await bearer(phones[name]),
        )
        assert blocked.status_code == 201, blocked.text
    organiser = await bearer(org.phones["organiser_a"])
    answer = await client.post(f"/api/v1/channels/{channel_id}/rota", headers=organiser)
    assert answer.status_code == 400
    assert answer.json()["code"] == "rota_short"
    assert "2026-03-19" in answer.json()["message"]
    assert await Duty.count() == 0


async def test_two_plans_at_once_write_each_duty_once(client: httpx.AsyncClient, org: Org) -> None:
    channel_id, _, _ = await crewed(org)
    organiser = await bearer(org.phones["organiser_a"])
    answers = await asyncio.gather(
        *[client.post(f"/api/v1/channels/{channel_id}/rota", headers=organiser) for _ in range(4)]
    )
    assert [a.status_code for a in answers] == [200] * 4
    assert sum(a.json()["planned"] for a in answers) == 18
    assert await Duty.count() == 18


async def test_openapi_documents_the_rota(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/channels/{channel_id}/rota",
        "/api/v1/channels/{channel_id}/crew",
        "/api/v1/crew/{crew_id}/blockouts",
        "/api/v1/duties/{duty_id}/swap",
    ):
        assert path in paths, path
    rota = paths["/api/v1/channels/{channel_id}/rota"]["get"]
    assert {p["name"] for p in rota["parameters"]} >= {"from", "to"}


async def test_without_javascript_plan_accept_swap_and_approve(
    client: httpx.AsyncClient, app: object, org: Org
) -> None:
    channel_id, phones, crew = await crewed(org)
    await sign_in(client, org.phones["organiser_a"])
    crew_page = await client.get(f"/organise/livestreams/{channel_id}/crew")
    assert crew_page.status_code == 200
    assert "主持甲" in crew_page.text and "137****0000" in crew_page.text
    assert "13700000000" not in crew_page.text  # phones masked
    planned = await post_form(
        client, f"/organise/livestreams/{channel_id}/rota", {}, follow_redirects=True
    )
    assert planned.status_code == 200
    assert await Duty.count() == 18
    # The host signs in on their own phone, sees "My activities", accepts one duty and
    # asks a colleague to take the next.
    transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 50001))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as host:
        await sign_in(host, phones["主持甲"])
        mine = await host.get("/me/activities")
        assert 'href="/livestreams/me/duties"' in mine.text
        duties_page = await host.get("/livestreams/me/duties")
        inline = await host.get(
            "/livestreams/me/duties", headers={"HX-Request": "true", "HX-Target": "my-duties"}
        )
        assert inline.status_code == 200
        assert inline.text.lstrip().startswith("{#") or 'id="my-duties"' in inline.text[:400]
        assert "<html" not in inline.text
        ids = [int(x) for x in re.findall(r"/livestreams/me/duties/(\d+)/accept", duties_page.text)]
        assert len(ids) >= 2
        accepted = await post_form(
            host, f"/livestreams/me/duties/{ids[0]}/accept", {}, follow_redirects=True
        )
        assert accepted.status_code == 200
        swap_page = await host.get(f"/livestreams/me/duties/{ids[1]}/swap")
        assert "主持乙" in swap_page.text
        asked = await post_form(
            host,
            f"/livestreams/me/duties/{ids[1]}/swap",
            {"crew_id": str(crew["主持乙"])},
            follow_redirects=True,
        )
        assert asked.status_code == 200
        feed_link = re.search(r'href="(/calendar/duties/[^"]+\.ics)"', duties_page.text)
        assert feed_link
        feed = await host.get(feed_link.group(1))
        assert feed.status_code == 200 and b"BEGIN:VEVENT" in feed.content
        await post_form(host, f"/livestreams/me/crew/{crew['主持甲']}/feed/revoke", {})
        assert (await host.get(feed_link.group(1))).status_code == 404
    crew_page = await client.get(f"/organise/livestreams/{channel_id}/crew")
    assert f"/swaps/{ids[1]}/approve" in crew_page.text
    await post_form(client, f"/organise/livestreams/{channel_id}/swaps/{ids[1]}/approve", {})
    row = await Duty.select(Duty.crew, Duty.reason).where(Duty.id == ids[1]).first()
    assert row == {"crew": crew["主持乙"], "reason": "swapped"}
    row = await Duty.select(Duty.status).where(Duty.id == ids[0]).first()
    assert row == {"status": "accepted"}


async def test_a_bound_without_a_zone_is_read_locally(client: httpx.AsyncClient, org: Org) -> None:
    channel_id, phones, _ = await crewed(org)
    await livestreams.plan_rota(org.organiser_a, channel_id)
    week = await client.get(
        f"/api/v1/channels/{channel_id}/rota",
        params={"from": "2026-03-09T00:00:00", "to": "2026-03-15T23:59:00"},
        headers=await bearer(phones["主持甲"]),
    )
    assert week.status_code == 200
    assert len(week.json()) == 2


async def test_form_numbers_too_large_for_the_database_are_refused(
    client: httpx.AsyncClient, org: Org
) -> None:
    channel_id, _, _ = await crewed(org)
    await sign_in(client, org.phones["organiser_a"])
    answer = await post_form(
        client,
        f"/organise/livestreams/{channel_id}/crew",
        {"member_id": str(2**40), "role": "host"},
    )
    assert answer.status_code in (400, 404)
    assert len(await livestreams.list_crew(channel_id)) == 4
