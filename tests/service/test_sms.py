"""Where sign-in codes go: a loopback SMS gateway, failures, and the sender choice."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from service.accounts import services as accounts
from service.accounts import sms
from service.errors import DomainError
from service.settings import get_settings

PHONE = "13912345678"
IP = "198.51.100.30"


@dataclass
class Gateway:
    """A tiny HTTP/1.1 receiver on 127.0.0.1 that records what it was sent."""

    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(
            {
                "method": request_line.split()[0],
                "path": request_line.split()[1],
                "content_type": headers.get("content-type", ""),
                "json": json.loads(body),
            }
        )
        reply = b"{}"
        writer.write(
            f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(reply)}\r\nConnection: close\r\n\r\n".encode()
            + reply
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    receiver = Gateway()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/sms"


def use_settings(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    settings = dataclasses.replace(get_settings(), **changes)
    monkeypatch.setattr(sms, "get_settings", lambda: settings)


# --- the gateway sender -----------------------------------------------------------------


async def test_gateway_sender_posts_phone_code_and_message(gateway: Gateway) -> None:
    shown = await sms.GatewayCodeSender(gateway.url).send(PHONE, "123456")
    assert shown is None  # a real SMS is never echoed to the screen
    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert (request["method"], request["path"]) == ("POST", "/sms")
    assert request["content_type"].startswith("application/json")
    assert set(request["json"]) == {"phone", "code", "message"}
    assert request["json"]["phone"] == PHONE
    assert request["json"]["code"] == "123456"
    assert "123456" in request["json"]["message"]


async def test_gateway_error_status_is_sms_failed(gateway: Gateway) -> None:
    gateway.status = 500
    with pytest.raises(DomainError) as caught:
        await sms.GatewayCodeSender(gateway.url).send(PHONE, "123456")
    assert caught.value.code == "sms_failed"
    assert caught.value.status_code == 503
    assert len(gateway.requests) == 1


async def test_unreachable_gateway_is_sms_failed() -> None:
    with pytest.raises(DomainError) as caught:
        await sms.GatewayCodeSender(closed_port_url()).send(PHONE, "123456")
    assert caught.value.code == "sms_failed"


# --- which sender request_code uses -----------------------------------------------------


async def test_configured_gateway_wins_over_demo_mode(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, sms_gateway_url=gateway.url, demo=True)
    assert isinstance(sms.code_sender(), sms.GatewayCodeSender)
    requested = await accounts.request_code("+86 139 1234 5678", IP)
    assert requested.demo_code is None  # not shown on screen
    assert [r["json"]["phone"] for r in gateway.requests] == [PHONE]
    sent_code = gateway.requests[0]["json"]["code"]
    assert await accounts.verify_code(PHONE, sent_code, IP) == PHONE


async def test_demo_mode_without_a_gateway_shows_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, sms_gateway_url=None, demo=True)
    assert isinstance(sms.code_sender(), sms.DemoCodeSender)
    requested = await accounts.request_code(PHONE, IP)
    assert requested.demo_code is not None
    assert await accounts.verify_code(PHONE, requested.demo_code, IP) == PHONE


async def test_no_gateway_and_no_demo_refuses_to_pretend(monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, sms_gateway_url=None, demo=False)
    assert isinstance(sms.code_sender(), sms.UnconfiguredCodeSender)
    with pytest.raises(DomainError) as caught:
        await accounts.request_code(PHONE, IP)
    assert caught.value.code == "sms_failed"


async def test_after_a_gateway_failure_asking_again_works(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, sms_gateway_url=closed_port_url(), demo=True)
    with pytest.raises(DomainError) as caught:
        await accounts.request_code(PHONE, IP)
    assert caught.value.code == "sms_failed"

    use_settings(monkeypatch, sms_gateway_url=gateway.url, demo=True)
    await accounts.request_code(PHONE, IP)
    sent_code = gateway.requests[-1]["json"]["code"]
    assert await accounts.verify_code(PHONE, sent_code, IP) == PHONE
