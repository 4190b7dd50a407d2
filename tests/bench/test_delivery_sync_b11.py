"""Heat-relief delivery sync (QUALITY.md B11): 3 teams, each syncing a day of 100 offline
deliveries at once over the JSON API (POST /api/v1/deliveries/batch, in-process ASGI),
plus a second phone of each team re-sending 20 of the same deliveries under its own
client ids, then every batch replayed. Asserted: every delivery counted once (0
duplicates), the second phones' records flagged, every balance exact and never below 0.
Printed and written to tests/bench/results/b11-<timestamp>.json: the sync time.

    make bench  (SQLite)
    UNIONHALL_TEST_ENGINE=postgres .venv/bin/python -m pytest \
        tests/bench/test_delivery_sync_b11.py -p no:cacheprovider -s
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx

from service import clock
from service.heatrelief import services as relief
from service.heatrelief.schemas import DeliveryIn, ItemIn, MovementIn, PlannedLine, SiteIn, TeamIn
from service.heatrelief.tables import Delivery, DeliveryScan, LedgerEntry, Stock
from service.settings import get_settings
from tests.bench import test_rush as bench
from tests.conftest import ENGINE, Org, add_member
from tests.http.activity_helpers import bearer
from tests.http.test_heatrelief_api import campaign

TEAMS = 3
PER_TEAM = 100
SECOND_PHONE = 20
WATER_EACH, TOWELS_EACH = 3, 2


async def seed(org: Org) -> dict[str, Any]:
    activity_id = await campaign(org)
    water = await relief.create_item(org.organiser_a, ItemIn(name="矿泉水", unit="箱"))
    towels = await relief.create_item(org.organiser_a, ItemIn(name="毛巾", unit="条"))
    for item, each in ((water, WATER_EACH), (towels, TOWELS_EACH)):
        await relief.record_movement(
            org.organiser_a,
            item.id,
            MovementIn(reason="received", quantity=TEAMS * PER_TEAM * each),
        )
    today = clock.now().astimezone(get_settings().zone).date()
    teams = []
    for t in range(TEAMS):
        phones = [f"1390000{t}{n:03d}" for n in range(2)]
        for phone in phones:
            await add_member(phone, f"队员{t}-{phone[-1]}", "ent-a1", ["worker"])
        team = await relief.create_team(
            org.organiser_a, activity_id, TeamIn(name=f"{t + 1}队", member_phones=phones)
        )
        for item, each in ((water, WATER_EACH), (towels, TOWELS_EACH)):
            await relief.record_movement(
                org.organiser_a,
                item.id,
                MovementIn(reason="issued", quantity=PER_TEAM * each, team_id=team.id),
            )
        deliveries = []
        for n in range(PER_TEAM):
            site = await relief.create_site(
                org.organiser_a,
                activity_id,
                SiteIn(name=f"{t + 1}队站点{n}", kind="construction", node="ent-a1"),
            )
            planned = await relief.plan_delivery(
                org.organiser_a,
                activity_id,
                DeliveryIn(
                    site_id=site.id,
                    team_id=team.id,
                    planned_date=today,
                    items=[PlannedLine(item_id=water.id, quantity=WATER_EACH)],
                ),
            )
            deliveries.append(planned.id)
        teams.append({"id": team.id, "phones": phones, "deliveries": deliveries})
    return {"activity_id": activity_id, "water": water.id, "towels": towels.id, "teams": teams}


def day_of_scans(deliveries: list[int], water: int, towels: int) -> dict[str, Any]:
    start = clock.now() - timedelta(hours=9)
    return {
        "scans": [
            {
                "delivery_id": delivery_id,
                "client_id": uuid.uuid4().hex,
                "recorded_at": (start + timedelta(minutes=5 * n)).isoformat(),
                "quantities": {str(water): WATER_EACH, str(towels): TOWELS_EACH},
                "reached": {"construction": 10},
                "by_hand_reason": "离线手动确认",
            }
            for n, delivery_id in enumerate(deliveries)
        ]
    }


async def test_b11_three_teams_sync_a_day_of_offline_deliveries(app: Any, org: Org) -> None:
    # The suite's own database, fresh for this session (no other benchmark uses `org`).
    seeded = await seed(org)
    batches = []
    for team in seeded["teams"]:
        first, second = [await bearer(phone) for phone in team["phones"]]
        batches.append((first, day_of_scans(team["deliveries"], seeded["water"], seeded["towels"])))
        overlap = team["deliveries"][:SECOND_PHONE]
        batches.append((second, day_of_scans(overlap, seeded["water"], seeded["towels"])))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.50", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:

        async def sync(headers: dict[str, str], body: dict[str, Any]) -> list[dict[str, Any]]:
            response = await http.post("/api/v1/deliveries/batch", json=body, headers=headers)
            assert response.status_code == 200, response.text
            return list(response.json()["results"])

        started = time.perf_counter()
        answers = await asyncio.gather(*(sync(h, b) for h, b in batches))
        sync_s = time.perf_counter() - started
        started = time.perf_counter()
        replayed = await asyncio.gather(*(sync(h, b) for h, b in batches))
        replay_s = time.perf_counter() - started

    results = [r["result"] for batch in answers for r in batch]
    delivered = results.count("delivered")
    flagged = sum(1 for batch in answers for r in batch if r["flagged"])
    assert replayed == answers  # a replay answers the same and writes nothing
    assert delivered == TEAMS * PER_TEAM
    assert flagged == TEAMS * SECOND_PHONE
    statuses = {row["status"] for row in await Delivery.select(Delivery.status)}
    assert statuses == {"delivered"}
    ledger = await LedgerEntry.select().where(LedgerEntry.reason == "delivered")
    duplicates = len(ledger) - TEAMS * PER_TEAM * 2
    assert duplicates == 0
    balances = {(r["item_id"], r["team_id"]): r["balance"] for r in await Stock.select()}
    assert min(balances.values()) >= 0
    for team in seeded["teams"]:
        assert balances[(seeded["water"], team["id"])] == 0
        assert balances[(seeded["towels"], team["id"])] == 0
    scans = await DeliveryScan.count()
    assert scans == TEAMS * (PER_TEAM + SECOND_PHONE)

    figures = {
        "engine": ENGINE,
        "teams": TEAMS,
        "deliveries_per_team": PER_TEAM,
        "second_phone_records_per_team": SECOND_PHONE,
        "records_sent": TEAMS * (PER_TEAM + SECOND_PHONE),
        "sync_s": round(sync_s, 3),
        "records_per_s": round(TEAMS * (PER_TEAM + SECOND_PHONE) / sync_s, 1),
        "replay_s": round(replay_s, 3),
        "duplicates": duplicates,
        "flagged": flagged,
        "min_balance": min(balances.values()),
    }
    bench.RESULTS.mkdir(exist_ok=True)
    path = bench.RESULTS / f"b11-{ENGINE}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(figures, indent=2))
    print(f"\nB11 delivery sync ({ENGINE}): {json.dumps(figures)}")
