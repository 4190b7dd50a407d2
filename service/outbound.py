"""Requests to services outside (the SMS gateway, push services): one HTTP client, one
TLS context, one way to post. Addresses that members hand over (push endpoints) are posted
to with `public_only`: a host that resolves to a private, loopback, link-local or reserved
address is refused at connection time, so a name cannot smuggle a request inside."""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from service.settings import get_settings

# Connections the shared session keeps alive: enough to hide a remote gateway's latency.
MAX_CONNECTIONS = 20

_shared_session: aiohttp.ClientSession | None = None
_shared_public_session: aiohttp.ClientSession | None = None


class Unreachable(Exception):
    """No answer: the connection failed or timed out (str: which)."""


class InternalAddress(OSError):
    """The host is, or resolves only to, an address inside a private network."""


def may_reach(address: str) -> bool:
    """A public address; loopback too in demo mode (UNIONHALL_DEMO, which the tests set),
    where the test push service listens."""
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.is_global or (ip.is_loopback and get_settings().demo)


class _PublicResolver(AbstractResolver):
    """The system resolver, keeping only the addresses may_reach() allows. The connection
    goes to what this returns, so a name cannot resolve one way for a check and another for
    the request."""

    def __init__(self) -> None:
        self._system = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._system.resolve(host, port, family)
        allowed = [entry for entry in found if may_reach(entry["host"])]
        if not allowed:
            raise InternalAddress(f"{host} resolves only to internal addresses")
        return allowed

    async def close(self) -> None:
        await self._system.close()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every request: building one loads the CA bundle (~28 ms of CPU,
    blocking the loop), which per message capped the reminder fan-out at ~18 messages/s."""
    return ssl.create_default_context()


def _new_session(*, public_only: bool = False) -> aiohttp.ClientSession:
    extra: dict[str, Any] = {"resolver": _PublicResolver()} if public_only else {}
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, ssl=tls_context(), **extra)
    )


async def open_shared_session() -> None:
    """Keep-alive sessions for a process that posts a lot (the worker): a new client and
    connection per message cost about 4 ms of the worker's time."""
    global _shared_session, _shared_public_session
    _shared_session = _new_session()
    _shared_public_session = _new_session(public_only=True)


async def close_shared_session() -> None:
    global _shared_session, _shared_public_session
    sessions = (_shared_session, _shared_public_session)
    _shared_session = _shared_public_session = None
    for session in sessions:
        if session is not None:
            await session.close()


@asynccontextmanager
async def _session(*, public_only: bool) -> AsyncIterator[aiohttp.ClientSession]:
    """The shared session, or one for this request. aiohttp, not httpx: measured on
    loopback, httpx spent ~0.8 ms of CPU per request at one connection and ~1.8 ms at 20
    (its pool re-scans every connection for every request), aiohttp ~0.1-0.17 ms."""
    shared = _shared_public_session if public_only else _shared_session
    if shared is not None:
        yield shared
        return
    async with _new_session(public_only=public_only) as session:
        yield session


def _literal_refused(url: str) -> bool:
    """An IP-literal host that may_reach() refuses (aiohttp skips the resolver for them)."""
    host = urlsplit(url).hostname or ""
    try:
        return not may_reach(host)
    except ValueError:
        return False  # a name: the resolver decides


async def post(
    url: str, body: bytes, headers: dict[str, str], *, within: float, public_only: bool = False
) -> int:
    """POST, giving up after `within` seconds, and read the answer to its end (so the
    connection is kept): its status. `public_only` for addresses members hand over."""
    if public_only and _literal_refused(url):
        raise Unreachable("internal address refused")
    try:
        async with (
            _session(public_only=public_only) as session,
            # No redirects: a member's endpoint could otherwise answer 307 to an internal
            # address, which the resolver never sees (IP literals skip it).
            session.post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=within),
                allow_redirects=False,
            ) as response,
        ):
            await response.read()
            return response.status
    except TimeoutError as error:
        raise Unreachable("Timeout") from error
    except aiohttp.ClientConnectorError as error:
        if isinstance(error.os_error, InternalAddress):
            raise Unreachable("internal address refused") from error
        raise Unreachable("ConnectError") from error
    except (aiohttp.ClientError, OSError) as error:
        raise Unreachable(type(error).__name__) from error
