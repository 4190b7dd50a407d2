"""Issue 16: re-issuing one's own ticket had no limit, and each re-issue added a row to the
revocation list every scanner downloads (300 re-issues: 23 B → 30 KB). Now a ticket gets
a few new codes an hour, and the list keeps only each ticket's newest revocation."""

from __future__ import annotations

import socket

import httpx
import pytest
from redis.asyncio import Redis

from service import db, ratelimit
from service.activities import services as activities
from service.tickets import services as tickets
from service.tickets import tokens
from service.tickets.tables import Revocation
from tests.conftest import Org
from tests.http.activity_helpers import bearer, new_published, workers
from tests.http.helpers import count

LIMIT = activities.REISSUES_PER_TICKET[0]


async def test_a_ticket_is_reissued_a_few_times_an_hour_then_429(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    person, other = await workers(2)
    registration, _ = await activities.register(person.actor, activity_id)
    holder = await bearer(person.phone)
    url = f"/api/v1/registrations/{registration.id}/reissue"
    for _ in range(LIMIT):
        assert (await client.post(url, headers=holder)).status_code == 200
    refused = await client.post(url, headers=holder)
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "too_many_requests"
    code = (await client.get(f"/api/v1/registrations/{registration.id}", headers=holder)).json()[
        "ticket_code"
    ]
    assert tokens.verify_ticket(code).reissue == LIMIT  # the refused one changed nothing

    # Another ticket is not affected.
    second, _ = await activities.register(other.actor, activity_id)
    response = await client.post(
        f"/api/v1/registrations/{second.id}/reissue", headers=await bearer(other.phone)
    )
    assert response.status_code == 200


async def test_the_revocation_list_keeps_one_row_per_ticket(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    people = await workers(2)
    first, _ = await activities.register(people[0].actor, activity_id)
    second, _ = await activities.register(people[1].actor, activity_id)
    door = await bearer(org.phones["organiser_a"])
    url = f"/api/v1/revocations?activity_id={activity_id}"

    async with db.write_transaction():
        await tickets.revoke(first.id, activity_id, "reissued")
    one = await client.get(url, headers=door)
    cursor = one.json()["cursor"]
    for _ in range(300):  # what the issue did, below the HTTP limit
        async with db.write_transaction():
            await tickets.revoke(first.id, activity_id, "reissued")
    async with db.write_transaction():
        await tickets.revoke(second.id, activity_id, "cancelled")

    fresh = await client.get(url, headers=door)
    items = fresh.json()["items"]
    assert sorted((item["ticket_id"], item["below_reissue"]) for item in items) == [
        (first.id, 301),
        (second.id, 1),
    ]
    assert len(fresh.content) < 2 * len(one.content) + 200, len(fresh.content)
    assert await count(Revocation) == 2
    # A scanner that had synced before still receives the newest counter past its cursor.
    later = await client.get(f"{url}&since={cursor}", headers=door)
    assert (first.id, 301) in [
        (item["ticket_id"], item["below_reissue"]) for item in later.json()["items"]
    ]


async def test_a_reissue_refused_while_redis_is_down_says_so_not_sign_in(
    client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity_id = await new_published(org)
    (person,) = await workers(1)
    registration, _ = await activities.register(person.actor, activity_id)
    holder = await bearer(person.phone)
    url = f"/api/v1/registrations/{registration.id}/reissue"
    before = (await client.get(f"/api/v1/registrations/{registration.id}", headers=holder)).json()
    with socket.socket() as probe:  # a port nothing listens on: the limit's store is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=1)
    monkeypatch.setattr(ratelimit, "get_redis", lambda: unreachable)
    try:
        refused = await client.post(url, headers=holder)  # the member reads zh-CN
    finally:
        await unreachable.aclose()
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "service_unavailable"
    assert (
        refused.json()["message"]
        == "暂时无法生成新的入场码。您当前的入场码仍然有效，请一分钟后再试。"
    )
    assert "登录" not in refused.text  # not the sign-in wording it had
    # Nothing was re-issued: the code the member holds is the one they had.
    after = (await client.get(f"/api/v1/registrations/{registration.id}", headers=holder)).json()
    assert after["ticket_code"] == before["ticket_code"]
