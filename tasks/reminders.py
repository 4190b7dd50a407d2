"""Reminder jobs: a cron claims due outbox rows and enqueues a job per batch of them; the
job re-reads its rows and delivers those still held by its claim (service/reminders does
the work)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from service import jobs, kinds
from service.reminders import delivery, services


async def send_due(ctx: dict[str, Any]) -> int:
    """Claim what is due (bounded) and enqueue a job per batch, by deterministic id."""
    batches = await services.claim_batches()
    added = await jobs.enqueue_many(
        [
            ("deliver_batch", (batch.claim, list(batch.message_ids)), batch.job_id)
            for batch in batches
        ],
        redis=ctx.get("redis"),
    )
    if sum(len(batch.message_ids) for batch in batches) == services.CLAIM_BATCH:
        # A full claim: more may be due. Claim again when the worker reaches this job
        # (queued behind this claim's batches, so claims never run far ahead of delivery),
        # not at the next tick: 500 per 15 s is 33/s.
        await jobs.enqueue_many(
            [("send_due", (), f"send_due:after:{batches[0].claim}")], redis=ctx.get("redis")
        )
    return added


async def deliver_batch(ctx: dict[str, Any], claim: str, message_ids: list[int]) -> dict[str, int]:
    """Deliver the rows of `message_ids` still held by `claim`; returns a count per outcome."""
    outcomes = await delivery.deliver_batch(message_ids, claim=claim)
    return dict(Counter(outcomes.values()))


async def kinds_upkeep(ctx: dict[str, Any]) -> dict[str, int]:
    """Each kind's scheduled upkeep (a livestream records the coming week's reminders)."""
    return await kinds.run_upkeep()
