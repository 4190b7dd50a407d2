"""arq worker settings. Jobs take ids, re-read the database and re-check their work."""

from __future__ import annotations

import time
from typing import Any

from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.worker import Worker

from service import db
from service.health import WORKER_HEARTBEAT_KEY
from service.redis_client import redis_url
from service.reminders import channels
from tasks.exports import export_registrations
from tasks.reminders import deliver_batch, kinds_upkeep, send_due

HEARTBEAT_TTL_SECONDS = 120


async def heartbeat(ctx: dict[str, Any]) -> float:
    """Tell /healthz this worker is alive."""
    now = time.time()
    await ctx["redis"].set(WORKER_HEARTBEAT_KEY, now, ex=HEARTBEAT_TTL_SECONDS)
    return now


async def startup(ctx: dict[str, Any]) -> None:
    await db.open_pool()
    await channels.open_shared_client()
    await heartbeat(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    await channels.close_shared_client()
    await db.close_pool()


def cron_jobs() -> list[CronJob]:
    # New objects for each worker: arq keeps each cron's next run time on the object.
    return [
        cron(heartbeat, second={0, 30}, run_at_startup=False),
        # Due reminders are claimed every 15 s, and once at start-up.
        cron(send_due, second={0, 15, 30, 45}, run_at_startup=True, unique=True),
        # The kinds' upkeep, hourly and at start-up (a worker that was down catches up).
        cron(kinds_upkeep, minute=7, second=0, run_at_startup=True, unique=True),
    ]


class WorkerSettings:
    """arq's settings class (`arq tasks.worker.WorkerSettings` runs it too)."""

    functions = (heartbeat, export_registrations, deliver_batch, send_due, kinds_upkeep)
    cron_jobs = cron_jobs()
    on_startup = startup
    on_shutdown = shutdown


def create_worker(*, burst: bool = False, **overrides: Any) -> Worker:
    """The worker `unionhall worker` runs; tests override settings (queue, crons)."""
    settings: dict[str, Any] = {
        "functions": list(WorkerSettings.functions),
        "cron_jobs": cron_jobs(),
        "redis_settings": RedisSettings.from_dsn(redis_url()),
        "on_startup": WorkerSettings.on_startup,
        "on_shutdown": WorkerSettings.on_shutdown,
        "burst": burst,
        "handle_signals": not burst,
    }
    return Worker(**{**settings, **overrides})
