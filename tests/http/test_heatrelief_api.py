"""The heat-relief JSON API (issue 14) over HTTP: sites, supplies and the ledger, the plan
and offline delivery batches; malformed, oversized, unauthorised and concurrent requests;
the OpenAPI document. The rules themselves: tests/service/test_heatrelief.py."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from tests.conftest import Org, add_member
from tests.http.activity_helpers import bearer

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


async def campaign(org: Org) -> int:
    created = await activities.create_activity(
        org.organiser_a,
        ActivityIn(
            kind="heat_relief",
            title="送清凉",
            starts_at=NOW + timedelta(hours=1),
            ends_at=NOW + timedelta(days=20),
            capacity=None,
        ),
    )
    await activities.publish(org.organiser_a, created.id)
    return created.id


async def day(client: httpx.AsyncClient, org: Org) -> dict[str, Any]:
    """Over the API: a campaign, a site, an item with 40 in stock, a team carrying 10,
    one delivery planned today."""
    boss = await bearer(org.phones["organiser_a"])
    activity_id = await campaign(org)
    await add_member("13900000001", "送水员老李", "ent-a1", ["worker"])
    site = await client.post(
        f"/api/v1/activities/{activity_id}/sites",
        json={
            "name": "城关镇一号工地",
            "kind": "construction",
            "node": "ent-a1",
            "contact_phone": "13812345678",
            "head_count": 80,
        },
        headers=boss,
    )
    assert site.status_code == 201, site.text
    item = await client.post(
        "/api/v1/supplies", json={"name": "矿泉水", "unit": "瓶"}, headers=boss
    )
    assert item.status_code == 201, item.text
    item_id = item.json()["id"]
    received = await client.post(
        f"/api/v1/supplies/{item_id}/movements",
        json={"reason": "received", "quantity": 40},
        headers=boss,
    )
    assert received.status_code == 201, received.text
    team = await client.post(
        f"/api/v1/activities/{activity_id}/teams",
        json={"name": "一队", "member_phones": ["139 0000 0001"]},
        headers=boss,
    )
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    issued = await client.post(
        f"/api/v1/supplies/{item_id}/movements",
        json={"reason": "issued", "quantity": 10, "team_id": team_id},
        headers=boss,
    )
    assert issued.status_code == 201, issued.text
    today = NOW.astimezone(clock_zone()).date().isoformat()
    planned = await client.post(
        f"/api/v1/activities/{activity_id}/deliveries",
        json={
            "site_id": site.json()["id"],
            "team_id": team_id,
            "planned_date": today,
            "items": [{"item_id": item_id, "quantity": 8}],
        },
        headers=boss,
    )
    assert planned.status_code == 201, planned.text
    return {
        "activity_id": activity_id,
        "site": site.json(),
        "item_id": item_id,
        "team_id": team_id,
        "delivery_id": planned.json()["id"],
        "boss": boss,
        "member": await bearer("13900000001"),
    }


def clock_zone() -> Any:
    from service.settings import get_settings

    return get_settings().zone


def record(delivery_id: int, item_id: int, quantity: int, **extra: Any) -> dict[str, Any]:
    return {
        "delivery_id": delivery_id,
        "client_id": uuid.uuid4().hex,
        "recorded_at": clock.now().isoformat(),
        "quantities": {str(item_id): quantity},
        "reached": {"construction": 30},
        "by_hand_reason": "海报不见了",
    } | extra


async def test_sites_are_listed_masked_and_only_to_their_organisers(
    client: httpx.AsyncClient, org: Org
) -> None:
    setup = await day(client, org)
    url = f"/api/v1/activities/{setup['activity_id']}/sites"
    listed = await client.get(url, headers=setup["boss"])
    assert listed.status_code == 200
    assert listed.json()[0]["contact_phone_masked"] == "138****5678"
    assert "13812345678" not in listed.text
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=setup["member"])).status_code == 403
    other = await client.get(url, headers=await bearer(org.phones["organiser_b"]))
    assert other.status_code == 404
    foreign = await client.post(
        url,
        json={"name": "x", "kind": "other", "node": "ent-a1"},
        headers=await bearer(org.phones["organiser_b"]),
    )
    assert foreign.status_code == 404


async def test_malformed_and_oversized_requests_are_refused(
    client: httpx.AsyncClient, org: Org
) -> None:
    setup = await day(client, org)
    url = f"/api/v1/activities/{setup['activity_id']}/sites"
    boss = setup["boss"]
    for body in (
        {"name": "x" * 101, "kind": "other", "node": "ent-a1"},
        {"name": "x", "kind": "other", "node": "ent-a1", "head_count": -1},
        {"name": "x", "kind": "other", "node": "ent-a1", "latitude": 91},
        {"name": "x", "kind": "other", "node": "ent-a1", "surprise": 1},
        {"name": "x", "kind": "castle", "node": "ent-a1"},
    ):
        response = await client.post(url, json=body, headers=boss)
        assert response.status_code == 400, body
        assert response.json()["code"] == "validation_error"
    broken = await client.post(
        url, content=b"{not json", headers=boss | {"content-type": "application/json"}
    )
    assert broken.status_code == 400
    negative = await client.post(
        f"/api/v1/supplies/{setup['item_id']}/movements",
        json={"reason": "received", "quantity": -5},
        headers=boss,
    )
    assert negative.status_code == 400
    too_many = {"scans": [record(setup["delivery_id"], setup["item_id"], 1) for _ in range(501)]}
    batch = await client.post("/api/v1/deliveries/batch", json=too_many, headers=setup["member"])
    assert batch.status_code == 400
    negative_scan = await client.post(
        "/api/v1/deliveries/batch",
        json={"scans": [record(setup["delivery_id"], setup["item_id"], -1)]},
        headers=setup["member"],
    )
    assert negative_scan.status_code == 400


async def test_a_movement_that_would_go_negative_answers_409_with_the_balance(
    client: httpx.AsyncClient, org: Org
) -> None:
    setup = await day(client, org)
    response = await client.post(
        f"/api/v1/supplies/{setup['item_id']}/movements",
        json={"reason": "issued", "quantity": 31, "team_id": setup["team_id"]},
        headers=setup["boss"],
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stock_insufficient"
    assert body["balance"] == 30 and body["item_id"] == setup["item_id"]
    assert "30" in body["message"]
    ledger = await client.get(f"/api/v1/supplies/{setup['item_id']}/ledger", headers=setup["boss"])
    assert [row["reason"] for row in ledger.json()] == ["issued", "received"]
    supplies = await client.get("/api/v1/supplies", headers=setup["boss"])
    balances = {b["team_id"]: b["balance"] for b in supplies.json()[0]["balances"]}
    assert balances == {0: 30, setup["team_id"]: 10}
    assert (await client.get("/api/v1/supplies", headers=setup["member"])).status_code == 403


async def test_an_offline_batch_counts_once_from_two_phones_at_once(
    client: httpx.AsyncClient, org: Org
) -> None:
    setup = await day(client, org)
    await add_member("13900000002", "送水员小赵", "ent-a1", ["worker"])
    await client.post(
        f"/api/v1/heat-relief/teams/{setup['team_id']}/members",
        json={"phone": "13900000002"},
        headers=setup["boss"],
    )
    partner = await bearer("13900000002")
    mine = {"scans": [record(setup["delivery_id"], setup["item_id"], 7)]}
    theirs = {"scans": [record(setup["delivery_id"], setup["item_id"], 7)]}
    first, second, replay = await asyncio.gather(
        client.post("/api/v1/deliveries/batch", json=mine, headers=setup["member"]),
        client.post("/api/v1/deliveries/batch", json=theirs, headers=partner),
        client.post("/api/v1/deliveries/batch", json=mine, headers=setup["member"]),
    )
    results = [r.json()["results"][0] for r in (first, second, replay)]
    # One phone's record counts, the other is flagged, whichever came first.
    assert sorted(r["result"] for r in results[:2]) == ["already_delivered", "delivered"]
    assert results[0]["result"] == results[2]["result"]  # the replay answers the same
    delivery = await client.get(f"/api/v1/deliveries/{setup['delivery_id']}", headers=setup["boss"])
    assert delivery.json()["status"] == "delivered"
    assert delivery.json()["flagged"] == 1
    supply = await client.get(f"/api/v1/supplies/{setup['item_id']}", headers=setup["boss"])
    team = {b["team_id"]: b["balance"] for b in supply.json()["balances"]}[setup["team_id"]]
    assert team == 3  # 10 carried, 7 handed over once


async def test_delivering_more_than_carried_is_a_clear_answer(
    client: httpx.AsyncClient, org: Org
) -> None:
    setup = await day(client, org)
    scans = {
        "scans": [
            record(setup["delivery_id"], setup["item_id"], 11),
            record(setup["delivery_id"], setup["item_id"], 1, site_code="HRFORGED0000"),
        ]
    }
    response = await client.post("/api/v1/deliveries/batch", json=scans, headers=setup["member"])
    assert response.status_code == 200
    short, forged = response.json()["results"]
    assert (short["result"], short["balance"]) == ("stock_insufficient", 10)
    assert "10" in short["message"]
    assert forged["result"] == "invalid_code"
    strangers = {"scans": [record(setup["delivery_id"], setup["item_id"], 1)]}
    stranger = await client.post(
        "/api/v1/deliveries/batch", json=strangers, headers=await bearer(org.phones["worker_a1"])
    )
    assert {r["result"] for r in stranger.json()["results"]} == {"forbidden"}
    fail = await client.post(
        f"/api/v1/deliveries/{setup['delivery_id']}/fail",
        json={"reason": "工地停工"},
        headers=setup["member"],
    )
    assert fail.json()["status"] == "failed"


async def test_openapi_documents_the_json_endpoints(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path in (
        "/api/v1/activities/{activity_id}/sites",
        "/api/v1/supplies",
        "/api/v1/supplies/{item_id}/ledger",
        "/api/v1/activities/{activity_id}/deliveries",
        "/api/v1/deliveries/batch",
    ):
        assert path in schema["paths"], path


async def test_the_report_counts_coverage_reach_and_supplies(
    client: httpx.AsyncClient, org: Org
) -> None:
    setup = await day(client, org)
    scans = {"scans": [record(setup["delivery_id"], setup["item_id"], 6)]}
    await client.post("/api/v1/deliveries/batch", json=scans, headers=setup["member"])
    await client.post(
        f"/api/v1/supplies/{setup['item_id']}/movements",
        json={"reason": "counted", "quantity": 3, "team_id": setup["team_id"]},
        headers=setup["boss"],
    )
    url = f"/api/v1/activities/{setup['activity_id']}/heat-relief-report"
    assert (await client.get(url, headers=setup["member"])).status_code == 403
    response = await client.get(url, headers=setup["boss"])
    assert response.status_code == 200
    report = response.json()
    assert (report["sites"], report["sites_planned"], report["sites_covered"]) == (1, 1, 1)
    assert report["reached"] == 30 and report["reached_by_group"] == {"construction": 30}
    assert report["by_kind"][0]["key"] == "construction"
    assert report["by_node"][0]["covered"] == 1
    assert report["supplies"] == [
        {"item_id": setup["item_id"], "name": "矿泉水", "unit": "瓶", "planned": 8, "handed": 6}
    ]
    assert report["not_served"] == []
    # 10 carried, 6 handed over: 4 left, 3 found.
    assert [(c["counted"], c["expected"]) for c in report["counts"]] == [(3, 4)]


async def test_a_team_is_not_told_the_code_its_poster_proves(
    client: httpx.AsyncClient, org: Org
) -> None:
    """The short code printed on a site's poster is what shows the team was there: the
    team's phone gets only its hash (to check a typed code offline), the organiser's plan
    the code itself, and the code typed at the site still records the delivery."""
    setup = await day(client, org)
    code = setup["site"]["code"]
    assert code.startswith("HR")
    today = await client.get("/api/v1/deliveries/today", headers=setup["member"])
    assert today.status_code == 200
    (delivery,) = today.json()
    assert code not in today.text
    assert delivery["site_code_hash"] == hashlib.sha256(code.encode()).hexdigest()
    one = await client.get(f"/api/v1/deliveries/{setup['delivery_id']}", headers=setup["member"])
    assert code not in one.text
    plan = await client.get(
        f"/api/v1/activities/{setup['activity_id']}/deliveries", headers=setup["boss"]
    )
    assert plan.json()[0]["site"]["code"] == code
    typed = record(setup["delivery_id"], setup["item_id"], 2, site_code=code.lower())
    del typed["by_hand_reason"]
    done = await client.post(
        "/api/v1/deliveries/batch", json={"scans": [typed]}, headers=setup["member"]
    )
    assert done.json()["results"][0]["result"] == "delivered"
