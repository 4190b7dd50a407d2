"""B5 seed, no-op baseline and check, run as subprocesses bound to the benchmark database
(UNIONHALL_DATABASE_URL) and the embedded Redis (UNIONHALL_REDIS_URL=unix://…).

    python -m tests.bench.reminder_b5 seed OUT.json ROWS
    python -m tests.bench.reminder_b5 noop OUT.json JOBS QUEUE
    python -m tests.bench.reminder_b5 check OUT.json

Seed: one node, one organiser and one published job fair through the services; ROWS
members (one per reminder, as the county's membership), each with SMS on, and ROWS due
`reminder_1h` outbox rows, inserted as multi-row INSERTs of 1,000 rows (Piccolo's
insert(*rows), one statement per chunk) in one transaction per table.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

CHUNK = 1000


async def seed(rows: int) -> dict[str, Any]:
    from service import clock, db
    from service.activities import services as activities
    from service.activities.schemas import ActivityIn, VenueIn
    from service.orgs import services as orgs
    from service.orgs.schemas import SYSTEM, MemberIn, NodeIn
    from service.orgs.tables import Member
    from service.reminders.tables import ChannelPrefs, OutboxMessage

    started = time.perf_counter()
    await orgs.create_node(SYSTEM, NodeIn(code="b5", name="压测县总工会", kind="federation"))
    organiser_out = await orgs.create_member(
        SYSTEM, MemberIn(phone="13700000000", name="压测组织者", node="b5", roles=["organiser"])
    )
    organiser = await orgs.actor_for_member(organiser_out.id)
    assert organiser is not None
    node = await orgs.node_by_code("b5")
    starts = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=50)
    activity = await activities.create_activity(
        organiser,
        ActivityIn(
            kind="job_fair",
            title="压测招聘会",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            capacity=rows,
            venue=VenueIn(name="县人力资源市场", address="城关镇人民路 1 号"),
        ),
    )
    await activities.publish(organiser, activity.id)
    async with db.write_transaction():
        for start in range(0, rows, CHUNK):
            await Member.insert(
                *(
                    Member(phone=f"139{i:08d}", name=f"职工{i}", node=node.id, roles="worker")
                    for i in range(start, min(rows, start + CHUNK))
                )
            ).run()
    ids = [
        row["id"] for row in await Member.select(Member.id).where(Member.phone.like("139%")).run()
    ]
    assert len(ids) == rows
    due = clock.now() - timedelta(minutes=1)
    async with db.write_transaction():
        for start in range(0, rows, CHUNK):
            chunk = ids[start : start + CHUNK]
            await ChannelPrefs.insert(
                *(ChannelPrefs(member_id=i, sms=True, push=False) for i in chunk)
            ).run()
    async with db.write_transaction():
        for start in range(0, rows, CHUNK):
            chunk = ids[start : start + CHUNK]
            await OutboxMessage.insert(
                *(
                    OutboxMessage(
                        kind="reminder_1h",
                        member=i,
                        activity_id=activity.id,
                        payload="{}",
                        due_at=due,
                        created_at=due,
                    )
                    for i in chunk
                )
            ).run()
    return {"rows": rows, "activity_id": activity.id, "seed_s": time.perf_counter() - started}


async def noop(ctx: dict[str, Any]) -> None:
    return None


def noop_rate(jobs: int, queue: str) -> dict[str, Any]:
    """arq's own ceiling here: JOBS no-op jobs through a burst worker with the same
    settings as ours (max_jobs 10, the same Redis), enqueue excluded from the timing."""
    from arq import create_pool
    from arq.connections import RedisSettings
    from arq.worker import Worker

    from service.redis_client import redis_url

    settings = RedisSettings.from_dsn(redis_url())

    async def enqueue() -> None:
        pool = await create_pool(settings, default_queue_name=queue)
        for index in range(jobs):
            await pool.enqueue_job("noop", _job_id=f"noop:{index}")
        await pool.aclose()

    asyncio.run(enqueue())
    worker = Worker(
        functions=[noop],
        redis_settings=settings,
        queue_name=queue,
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
    )
    started = time.perf_counter()
    worker.loop.run_until_complete(worker.async_run())
    wall = time.perf_counter() - started
    worker.loop.run_until_complete(worker.close())
    return {
        "jobs": jobs,
        "complete": worker.jobs_complete,
        "wall_s": round(wall, 3),
        "jobs_per_s": round(worker.jobs_complete / wall, 1),
    }


async def check() -> dict[str, Any]:
    from service.reminders.tables import DeliveryAttempt, Notification, OutboxMessage

    statuses = await OutboxMessage.raw(
        "SELECT status, count(*) AS n FROM reminder_outbox GROUP BY status"
    ).run()
    times = await OutboxMessage.raw(
        "SELECT min(claimed_at) AS first_claim, max(sent_at) AS last_sent, "
        "max(attempts) AS max_attempts FROM reminder_outbox"
    ).run()
    attempts = await DeliveryAttempt.raw(
        "SELECT channel, ok, count(*) AS n FROM reminder_delivery GROUP BY channel, ok"
    ).run()
    inbox = await Notification.count().run()
    first, last = times[0]["first_claim"], times[0]["last_sent"]
    span = None
    if first is not None and last is not None:
        from datetime import datetime

        def parse(value: Any) -> datetime:
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

        span = (parse(last) - parse(first)).total_seconds()
    return {
        "statuses": {row["status"]: int(row["n"]) for row in statuses},
        "attempts": [
            {"channel": row["channel"], "ok": bool(row["ok"]), "n": int(row["n"])}
            for row in attempts
        ],
        "inbox": int(inbox),
        "max_attempts": times[0]["max_attempts"],
        "first_claim_to_last_sent_s": span,
    }


def main() -> None:
    mode, out = sys.argv[1], Path(sys.argv[2])
    if mode == "noop":
        result = noop_rate(int(sys.argv[3]), sys.argv[4])
    else:

        async def go() -> dict[str, Any]:
            from service import db

            await db.open_pool()
            try:
                return await (seed(int(sys.argv[3])) if mode == "seed" else check())
            finally:
                await db.close_pool()

        result = asyncio.run(go())
    out.write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
