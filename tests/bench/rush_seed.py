"""Seed one benchmark database (run as a subprocess with UNIONHALL_DATABASE_URL set, after
`unionhall migrate`): an org tree, one organiser, N worker members with one API token
each, and one published job_fair activity whose registration is open now.

    python -m tests.bench.rush_seed OUT.json [--members 5000] [--capacity 1000]

Writes {"activity_id", "organiser_token", "members": [[member_id, token], ...]} to OUT.json.
Members and tokens go in with bulk inserts; the nodes, the organiser and the activity go
through the services, so the activity is exactly what an organiser would publish.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta
from pathlib import Path

from service import clock, db
from service.accounts.services import new_token, token_hash
from service.accounts.tables import ApiToken
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.orgs import services as orgs
from service.orgs.schemas import SYSTEM, MemberIn, NodeIn
from service.orgs.tables import Member

CHUNK = 1000
MEMBER_PHONE_PREFIX = "139"


async def seed(members: int, capacity: int) -> dict[str, object]:
    for code, name, kind, parent in (
        ("bench-fed", "压测县总工会", "federation", None),
        ("bench-union", "压测镇总工会", "union", "bench-fed"),
        ("bench-ent", "压测快递站", "enterprise", "bench-union"),
    ):
        await orgs.create_node(SYSTEM, NodeIn(code=code, name=name, kind=kind, parent=parent))
    ent = await orgs.node_by_code("bench-ent")
    organiser_out = await orgs.create_member(
        SYSTEM,
        MemberIn(phone="13700000000", name="压测组织者", node="bench-union", roles=["organiser"]),
    )
    organiser = await orgs.actor_for_member(organiser_out.id)
    assert organiser is not None

    async with db.write_transaction():
        for start in range(0, members, CHUNK):
            await Member.insert(
                *(
                    Member(
                        phone=f"{MEMBER_PHONE_PREFIX}{index:08d}",
                        name=f"职工{index}",
                        node=ent.id,
                        worker_group="courier",
                        roles="worker",
                    )
                    for index in range(start, min(members, start + CHUNK))
                )
            ).run()
    rows = (
        await Member.select(Member.id)
        .where(Member.phone.like(f"{MEMBER_PHONE_PREFIX}%"))
        .order_by(Member.phone)
        .run()
    )
    pairs = [(row["id"], new_token()) for row in rows]
    organiser_token = new_token()
    tokens = [*pairs, (organiser.member_id, organiser_token)]
    async with db.write_transaction():
        for start in range(0, len(tokens), CHUNK):
            await ApiToken.insert(
                *(
                    ApiToken(token_hash=token_hash(token), member=member_id)
                    for member_id, token in tokens[start : start + CHUNK]
                )
            ).run()

    starts = clock.now().replace(second=0, microsecond=0) + timedelta(days=1)
    created = await activities.create_activity(
        organiser,
        ActivityIn(
            kind="job_fair",
            title="压测招聘会",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            capacity=capacity,
            venue=None,
        ),
    )
    await activities.publish(organiser, created.id)
    return {"activity_id": created.id, "organiser_token": organiser_token, "members": pairs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--capacity", type=int, default=1000)
    args = parser.parse_args()

    async def go() -> dict[str, object]:
        await db.open_pool()
        try:
            return await seed(args.members, args.capacity)
        finally:
            await db.close_pool()

    Path(args.out).write_text(json.dumps(asyncio.run(go())))


if __name__ == "__main__":
    main()
