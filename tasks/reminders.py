"""Reminder jobs: a cron claims due outbox rows and enqueues one job per message; the job
re-reads the row and delivers it (service/reminders does the work)."""

from __future__ import annotations

from typing import Any

from service import jobs
from service.reminders import delivery, services


async def send_due(ctx: dict[str, Any]) -> int:
    """Claim what is due (bounded) and enqueue a job per message, by deterministic id."""
    claimed = await services.claim_due()
    added = await jobs.enqueue_many(
        [
            ("deliver_message", (message_id,), services.job_id(message_id, attempts))
            for message_id, attempts in claimed
        ],
        redis=ctx.get("redis"),
    )
    if len(claimed) == services.CLAIM_BATCH:
        # A full batch: more may be due. Claim the next batch when the worker reaches this
        # job (queued behind this batch's), not at the next tick: 500 per 15 s is 33/s.
        message_id, attempts = claimed[-1]
        await jobs.enqueue_many(
            [("send_due", (), f"send_due:after:{message_id}:{attempts}")], redis=ctx.get("redis")
        )
    return added


async def deliver_message(ctx: dict[str, Any], message_id: int) -> str:
    return await delivery.deliver(message_id)
