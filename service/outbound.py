"""Requests to services outside (the SMS gateway, push services): one HTTP client, one
TLS context, one way to post."""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

# Connections the shared session keeps alive: enough to hide a remote gateway's latency.
MAX_CONNECTIONS = 20

_shared_session: aiohttp.ClientSession | None = None


class Unreachable(Exception):
    """No answer: the connection failed or timed out (str: which)."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every request: building one loads the CA bundle (~28 ms of CPU,
    blocking the loop), which per message capped the reminder fan-out at ~18 messages/s."""
    return ssl.create_default_context()


def _new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, ssl=tls_context())
    )


async def open_shared_session() -> None:
    """A keep-alive session for a process that posts a lot (the worker): a new client and
    connection per message cost about 4 ms of the worker's time."""
    global _shared_session
    _shared_session = _new_session()


async def close_shared_session() -> None:
    global _shared_session
    session, _shared_session = _shared_session, None
    if session is not None:
        await session.close()


@asynccontextmanager
async def _session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared session, or one for this request. aiohttp, not httpx: measured on
    loopback, httpx spent ~0.8 ms of CPU per request at one connection and ~1.8 ms at 20
    (its pool re-scans every connection for every request), aiohttp ~0.1-0.17 ms."""
    if _shared_session is not None:
        yield _shared_session
        return
    async with _new_session() as session:
        yield session


async def post(url: str, body: bytes, headers: dict[str, str], *, within: float) -> int:
    """POST, giving up after `within` seconds, and read the answer to its end (so the
    connection is kept): its status."""
    try:
        async with (
            _session() as session,
            session.post(
                url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=within)
            ) as response,
        ):
            await response.read()
            return response.status
    except TimeoutError as error:
        raise Unreachable("Timeout") from error
    except aiohttp.ClientConnectorError as error:
        raise Unreachable("ConnectError") from error
    except (aiohttp.ClientError, OSError) as error:
        raise Unreachable(type(error).__name__) from error
