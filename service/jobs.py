"""The job queue behind one small interface: arq today (in maintenance mode upstream), so
rooms enqueue through here and only this module and tasks/ know it is arq."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.redis_client import redis_url

QUEUE_NAME = "arq:queue"


async def enqueue(function: str, *args: Any, job_id: str) -> None:
    """Enqueue one job; a job id already queued or running is not enqueued again."""
    await enqueue_many([(function, args, job_id)])


async def enqueue_many(jobs: Sequence[tuple[str, Sequence[Any], str]], *, redis: Any = None) -> int:
    """Enqueue (function, args, job id) jobs on an open connection (a worker's ctx["redis"])
    or a new one; returns how many were new."""
    from arq import create_pool
    from arq.connections import RedisSettings

    pool = redis or await create_pool(
        RedisSettings.from_dsn(redis_url()), default_queue_name=QUEUE_NAME
    )
    try:
        added = 0
        for function, args, job_id in jobs:
            if await pool.enqueue_job(function, *args, _job_id=job_id) is not None:
                added += 1
        return added
    finally:
        if redis is None:
            await pool.aclose()
