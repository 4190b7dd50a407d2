"""Loopback receivers for the reminder channels, each on its own thread so that a worker in
this process, in a subprocess, or one that is killed mid-request can talk to them:

- SmsSink: an HTTP SMS gateway (POST {phone, message, key} with an Idempotency-Key
  header) that counts raw requests and deliveries deduplicated by that key, as a real
  gateway with idempotency does. A request it accepts counts as delivered on arrival
  (the worst case for duplicates: the SMS went out even if the answer never reaches the
  sender). It can answer an error status (to all, or to some phones), answer late, or hang
  on the first request.
- SmtpSink: an aiosmtpd server that counts raw messages and messages by Message-ID.

Also `channel_env`: point the service's SMS and SMTP settings at them for one test.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from service.settings import get_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmsRequest:
    key: str  # the Idempotency-Key header
    phone: str
    message: str
    body_key: str  # the "key" field of the JSON body


@dataclass
class SmsSink:
    status: int = 200
    delay: float = 0.0  # seconds before answering (a slow gateway)
    redirect_to: str | None = None  # sent as Location (with a 3xx status)
    hang_first: bool = False  # the first request never gets an answer
    failing_phones: set[str] = field(default_factory=set)  # answered 500, not delivered
    requests: list[SmsRequest] = field(default_factory=list)
    delivered: dict[str, SmsRequest] = field(default_factory=dict)  # by idempotency key
    first_request: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"

    @property
    def raw_count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def delivered_count(self) -> int:
        with self._lock:
            return len(self.delivered)

    def keys(self) -> Counter[str]:
        """Raw requests per idempotency key."""
        with self._lock:
            return Counter(request.key for request in self.requests)

    def messages(self) -> list[str]:
        """The delivered texts, in arrival order."""
        with self._lock:
            return [request.message for request in self.delivered.values()]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.delivered.clear()

    # --- the server ---------------------------------------------------------------------

    def start(self) -> SmsSink:
        self._thread = threading.Thread(target=self._run, name="sms-sink", daemon=True)
        self._thread.start()
        assert self._started.wait(10), "the SMS sink did not start"
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._started.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: several requests on one connection
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = await self._answer(headers, body)
                if status is None:
                    await asyncio.Event().wait()  # hang until the client goes away
                payload = b'{"ok": true}' if status < 400 else b'{"ok": false}'
                location = f"Location: {self.redirect_to}\r\n" if self.redirect_to else ""
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{location}"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _answer(self, headers: dict[str, str], body: bytes) -> int | None:
        data: dict[str, Any] = json.loads(body or b"{}")
        request = SmsRequest(
            key=headers.get("idempotency-key", ""),
            phone=str(data.get("phone", "")),
            message=str(data.get("message", "")),
            body_key=str(data.get("key", "")),
        )
        with self._lock:
            first = not self.requests
            self.requests.append(request)
            status = 500 if request.phone in self.failing_phones else self.status
            if status < 400:
                self.delivered.setdefault(request.key, request)
        self.first_request.set()
        if first and self.hang_first:
            return None
        if self.delay:
            await asyncio.sleep(self.delay)
        return status


class SmtpSink:
    """aiosmtpd on loopback: raw messages, and messages by Message-ID."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()
        self._controller: Any = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def by_message_id(self) -> Counter[str]:
        with self._lock:
            return Counter(str(message["Message-ID"]) for message in self.messages)

    @property
    def raw_count(self) -> int:
        with self._lock:
            return len(self.messages)

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextlib.contextmanager
def channel_env(
    sms_url: str | None, smtp_url: str | None, **extra: str
) -> Iterator[dict[str, str]]:
    """The service's SMS gateway and SMTP server for one test (settings are cached, so the
    cache is cleared on the way in and out); yields the environment for subprocesses."""
    names = {"UNIONHALL_SMS_GATEWAY_URL": sms_url, "UNIONHALL_SMTP_URL": smtp_url, **extra}
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name, value in names.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        yield dict(os.environ)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
