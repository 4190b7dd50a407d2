"""Fixed-window rate limits kept in Redis, so they hold across web processes."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from service.errors import DomainError
from service.redis_client import get_redis

log = logging.getLogger(__name__)


async def hit(bucket: str, key: str, *, limit: int, window_seconds: int, unavailable: str) -> None:
    """Count one hit; raise too_many_requests past the limit.

    When Redis cannot be reached the limit fails closed: better a short wait than an
    unmetered action. `unavailable` names what is refused then, in the caller's words
    (a sign-in, a new ticket code): each limited action says its own.
    """
    name = f"ratelimit:{bucket}:{key}"
    try:
        async with get_redis().pipeline(transaction=True) as pipe:
            # SET … NX starts the window once; works on Redis 6.2 (the embedded server) too.
            pipe.set(name, 0, ex=window_seconds, nx=True)
            pipe.incr(name)
            _, count = await pipe.execute()
    except (RedisError, OSError) as error:
        log.warning("rate limit store unreachable: %s", error)
        raise DomainError("service_unavailable", unavailable) from error
    if int(count) > limit:
        raise DomainError(
            "too_many_requests",
            "Too many attempts. Wait %(minutes)s minutes and try again.",
            minutes=max(1, window_seconds // 60),
        )


async def reset(bucket: str, key: str) -> None:
    await get_redis().delete(f"ratelimit:{bucket}:{key}")
