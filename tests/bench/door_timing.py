"""Server-side latency for the door benchmark: both apps wrapped in one ASGI shim that
adds `X-Server-Ms` (time from the app being called to its response head) to every HTTP
answer. Run under uvicorn exactly as `unionhall run --no-worker` runs Unionhall (one
process, factory, proxy headers, log level info, access log on):

    uvicorn tests.bench.door_timing:unionhall --factory …   # UNIONHALL_… env as the CLI
    uvicorn tests.bench.door_timing:floor --factory …       # FLOOR_… env, see floor_app.py

The time includes waiting for the event loop and the database while other requests
run, not uvicorn's own HTTP parsing or the socket; the load generator's latency
(rush_load.py) includes everything.
"""

from __future__ import annotations

import time
from typing import Any

TIMING_HEADER = "X-Server-Ms"
_HEADER = TIMING_HEADER.lower().encode()

Scope = dict[str, Any]


def timed(app: Any) -> Any:
    async def wrapper(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        began = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                spent = f"{(time.perf_counter() - began) * 1000:.3f}".encode()
                message = {**message, "headers": [*message.get("headers", ()), (_HEADER, spent)]}
            await send(message)

        await app(scope, receive, timed_send)

    return wrapper


def unionhall() -> Any:
    from service.app import create_app

    return timed(create_app())


def floor() -> Any:
    from tests.bench.floor_app import create_app

    return timed(create_app())
