"""Seed one door check-in benchmark database (run as a subprocess with
UNIONHALL_DATABASE_URL and UNIONHALL_DATA_DIR set, after `unionhall migrate`).

    python -m tests.bench.door_seed OUT.json [--tickets 5000] [--activities 3]

The org tree, the organiser and the members come from tests/bench/rush_seed.py (its
first activity is the first door); every further activity is created and published
through the services the same way. Each activity's door is opened now through the
organiser's door settings (check-in from an hour ago, four gates), then gets one
confirmed registration for each of the first N members (bulk insert, `taken` = N), and
each registration's ticket code is signed with the server's key in the data dir (made
here on first use, as the server would).

Writes {"organiser_token", "gates", "public_key" (hex), "activities": [{"id",
"tickets": [[registration_id, code, name, phone], ...]}]} to OUT.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta
from pathlib import Path

from service import clock, db, signing
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.activities.tables import Activity, Registration
from service.checkin import services as checkin
from service.checkin.schemas import DoorSettingsIn
from service.orgs import services as orgs
from service.orgs.tables import Member
from service.tickets import tokens
from tests.bench.rush_seed import CHUNK
from tests.bench.rush_seed import seed as seed_members

GATES = ["A", "B", "C", "D"]
ORGANISER_PHONE = "13700000000"  # rush_seed's organiser


async def open_door(activity_id: int, tickets: int) -> list[list[object]]:
    organiser = await orgs.actor_for_member(await orgs.member_id_for_phone(ORGANISER_PHONE) or 0)
    assert organiser is not None
    await checkin.update_settings(
        organiser,
        activity_id,
        DoorSettingsIn(opens_at=clock.now() - timedelta(hours=1), gates=GATES),
    )
    members = (
        await Member.select(Member.id, Member.name, Member.phone)
        .where(Member.roles == "worker")
        .order_by(Member.id)
        .limit(tickets)
        .run()
    )
    async with db.write_transaction():
        for start in range(0, len(members), CHUNK):
            await Registration.insert(
                *(
                    Registration(activity=activity_id, member=row["id"], status="confirmed")
                    for row in members[start : start + CHUNK]
                )
            ).run()
        await (
            Activity.update({Activity.taken: len(members)}).where(Activity.id == activity_id).run()
        )
    by_member = {row["id"]: row for row in members}
    rows = (
        await Registration.select(Registration.id, Registration.member)
        .where(Registration.activity == activity_id)
        .order_by(Registration.id)
        .run()
    )
    return [
        [
            row["id"],
            tokens.ticket_code(row["id"], activity_id, 0),
            by_member[row["member"]]["name"],
            by_member[row["member"]]["phone"],
        ]
        for row in rows
    ]


async def seed(tickets: int, count: int) -> dict[str, object]:
    seeded = await seed_members(tickets, tickets)
    organiser = await orgs.actor_for_member(await orgs.member_id_for_phone(ORGANISER_PHONE) or 0)
    assert organiser is not None
    ids = [int(seeded["activity_id"])]  # type: ignore[call-overload]
    first = await activities.door_activity(ids[0])
    for number in range(1, count):
        created = await activities.create_activity(
            organiser,
            ActivityIn(
                kind="job_fair",
                title=f"压测入场 {number + 1}",
                starts_at=first.starts_at,
                ends_at=first.ends_at,
                capacity=tickets,
                venue=None,
            ),
        )
        await activities.publish(organiser, created.id)
        ids.append(created.id)
    doors = [
        {"id": activity_id, "tickets": await open_door(activity_id, tickets)} for activity_id in ids
    ]
    return {
        "organiser_token": seeded["organiser_token"],
        "gates": GATES,
        "public_key": signing.public_bytes(signing.public_keys()[-1]).hex(),
        "activities": doors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--activities", type=int, default=1)
    args = parser.parse_args()

    async def go() -> dict[str, object]:
        await db.open_pool()
        try:
            return await seed(args.tickets, args.activities)
        finally:
            await db.close_pool()

    Path(args.out).write_text(json.dumps(asyncio.run(go()), ensure_ascii=False))


if __name__ == "__main__":
    main()
