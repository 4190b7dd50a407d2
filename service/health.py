"""/healthz: is the database answering, is Redis answering, is a job worker alive."""

from __future__ import annotations

import time
from typing import Any

from litestar import MediaType, Response, get
from redis.exceptions import RedisError

from service.orgs.tables import Node
from service.redis_client import get_redis

WORKER_HEARTBEAT_KEY = "unionhall:worker:heartbeat"


async def _database_ok() -> bool:
    try:
        await Node.count().run()
    except Exception:
        return False
    return True


async def _redis_state() -> tuple[bool, float | None]:
    try:
        redis = get_redis()
        await redis.ping()
        beat = await redis.get(WORKER_HEARTBEAT_KEY)
    except (RedisError, OSError):
        return False, None
    return True, (time.time() - float(beat)) if beat else None


@get("/healthz", include_in_schema=False, media_type=MediaType.JSON)
async def healthz() -> Response[dict[str, Any]]:
    database, (redis, worker_age) = await _database_ok(), await _redis_state()
    body = {
        "database": "ok" if database else "down",
        "redis": "ok" if redis else "down",
        # The worker is reported, not required: the web keeps serving while jobs wait.
        "worker_heartbeat_age_s": round(worker_age, 1) if worker_age is not None else None,
    }
    return Response(
        body, status_code=200 if database and redis else 503, headers={"Cache-Control": "no-store"}
    )
