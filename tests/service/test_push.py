"""Web Push against a real loopback push service (an asyncio HTTP server this test starts):
the payload is decrypted here with http_ece and the subscriber's own keys, the VAPID
signature is checked, and the push service's answers are handled (410 → subscription
dropped; 500 or no answer → a failure to retry). Also the subscription API's checks."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import http_ece
import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from service import clock
from service.activities import services as activities
from service.db import write_transaction
from service.reminders import channels, delivery, services, vapid
from service.reminders.channels import ChannelError, Outgoing, PushChannel
from service.reminders.tables import DeliveryAttempt, Notification, OutboxMessage, PushSubscription
from service.settings import get_settings
from tests.conftest import Org
from tests.http.activity_helpers import bearer, new_published
from tests.http.test_notifications import DAYTIME


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """A loopback HTTP/1.1 server: records every POST, answers `status[path]` (201)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                _, path, _ = request_line.split(" ", 2)
                headers = {}
                for line in lines:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.received.append(Received(path, headers, body))
                code = self.status.get(path, 201)
                writer.write(f"HTTP/1.1 {code} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    service = PushService()
    server = await asyncio.start_server(service.handle, "127.0.0.1", 0)
    service.port = server.sockets[0].getsockname()[1]
    try:
        yield service
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class Browser:
    """What a browser keeps of one subscription: its private key and auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": b64(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


def new_browser(endpoint: str) -> Browser:
    return Browser(endpoint, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


async def subscribe(client: httpx.AsyncClient, phone: str, browser: Browser) -> httpx.Response:
    return await client.post(
        "/api/v1/me/push-subscriptions", json=browser.json(), headers=await bearer(phone)
    )


def check_vapid(received: Received, audience: str) -> dict[str, Any]:
    """RFC 8292: `vapid t=<JWT>, k=<public key>`; the JWT is ES256 over the claims."""
    scheme, _, rest = received.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    parts = dict(item.strip().split("=", 1) for item in rest.split(","))
    assert parts["k"] == vapid.public_key()
    header, claims, signature = parts["t"].split(".")
    raw = unb64(signature)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(parts["k"]))
    der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    try:
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:  # pragma: no cover - the assertion message is the point
        raise AssertionError("the VAPID signature does not verify") from None
    decoded = json.loads(unb64(claims))
    assert decoded["aud"] == audience
    assert decoded["sub"].startswith("mailto:")
    return decoded


def outgoing(member_id: int, message_id: int = 7) -> Outgoing:
    return Outgoing(
        message_id=message_id,
        member_id=member_id,
        phone="",
        email="",
        title="明天:春风行动招聘会",
        body="6月4日 周四 10:00,县人力资源市场。",
    )


# --- the channel ------------------------------------------------------------------------


async def test_a_reminder_reaches_the_push_service_encrypted_and_signed(
    client: httpx.AsyncClient, org: Org, push_service: PushService
) -> None:
    worker = org.worker_a1
    browser = new_browser(push_service.url("/push/abc"))
    assert (await subscribe(client, org.phones["worker_a1"], browser)).status_code == 204

    activity_id = await new_published(org)
    with clock.frozen_at(DAYTIME):
        await activities.register(worker, activity_id)
        (claimed,) = await services.claim_due()
        assert await delivery.deliver(claimed[0]) == "sent"

    (received,) = push_service.received
    assert received.path == "/push/abc"
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.headers["ttl"] == str(PushChannel.TTL_SECONDS)
    assert received.headers["topic"] == f"unionhall-{claimed[0]}-push"
    check_vapid(received, f"http://127.0.0.1:{push_service.port}")
    message = browser.decrypt(received.body)
    inbox = await Notification.select().where(Notification.member_id == worker.member_id).run()
    assert message["title"] == inbox[0]["title"]
    assert message["body"] == inbox[0]["body"]
    assert message["title"].startswith("报名成功")  # the member's language
    assert message["url"] == "/me/notifications"
    attempts = await DeliveryAttempt.select().where(DeliveryAttempt.channel == "push").run()
    assert [row["ok"] for row in attempts] == [True]


async def test_every_subscribed_browser_gets_a_copy(
    client: httpx.AsyncClient, org: Org, push_service: PushService
) -> None:
    phone, tablet = new_browser(push_service.url("/a")), new_browser(push_service.url("/b"))
    for browser in (phone, tablet):
        await subscribe(client, org.phones["worker_a1"], browser)
    await PushChannel().send(outgoing(org.worker_a1.member_id))
    by_path = {received.path: received for received in push_service.received}
    assert phone.decrypt(by_path["/a"].body)["title"] == "明天:春风行动招聘会"
    assert tablet.decrypt(by_path["/b"].body)["body"] == "6月4日 周四 10:00,县人力资源市场。"


async def test_gone_410_or_404_drops_the_subscription_and_is_not_a_failure(
    client: httpx.AsyncClient, org: Org, push_service: PushService
) -> None:
    gone, missing, fine = (new_browser(push_service.url(p)) for p in ("/gone", "/missing", "/ok"))
    for browser in (gone, missing, fine):
        await subscribe(client, org.phones["worker_a1"], browser)
    push_service.status.update({"/gone": 410, "/missing": 404})
    await PushChannel().send(outgoing(org.worker_a1.member_id))  # no ChannelError
    left = await PushSubscription.select(PushSubscription.endpoint).run()
    assert [row["endpoint"] for row in left] == [fine.endpoint]
    assert len(push_service.received) == 3


async def test_the_last_subscription_gone_means_a_sent_message_and_no_more_push(
    client: httpx.AsyncClient, org: Org, push_service: PushService
) -> None:
    await subscribe(client, org.phones["worker_a1"], new_browser(push_service.url("/gone")))
    push_service.status["/gone"] = 410
    activity_id = await new_published(org)
    with clock.frozen_at(DAYTIME):
        await activities.register(org.worker_a1, activity_id)
        async with write_transaction():
            await services.record(
                "activity_changed", [org.worker_a1.member_id], activity_id=activity_id
            )
        claimed = await services.claim_due()
        assert [await delivery.deliver(message_id) for message_id, _ in claimed] == [
            "sent",
            "sent",
        ]
    assert len(push_service.received) == 1  # the second message found no subscription
    assert await PushSubscription.count().run() == 0


async def test_a_push_service_error_is_retried_and_keeps_the_subscription(
    client: httpx.AsyncClient, org: Org, push_service: PushService
) -> None:
    browser = new_browser(push_service.url("/busy"))
    await subscribe(client, org.phones["worker_a1"], browser)
    push_service.status["/busy"] = 500
    with pytest.raises(ChannelError, match="500"):
        await PushChannel().send(outgoing(org.worker_a1.member_id))
    assert await PushSubscription.count().run() == 1

    activity_id = await new_published(org)
    with clock.frozen_at(DAYTIME):
        await activities.register(org.worker_a1, activity_id)
        (claimed,) = await services.claim_due()
        assert await delivery.deliver(claimed[0]) == "pending"
    row = await OutboxMessage.select().where(OutboxMessage.id == claimed[0]).first().run()
    assert row["last_error"] == "push: push service answered 500"
    assert row["attempts"] == 1
    # The inbox has it already; the retry only tries push again.
    assert await Notification.count().run() == 1


async def test_an_unreachable_push_service_is_a_channel_error(
    client: httpx.AsyncClient, org: Org
) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # nothing listens on this port now
    await subscribe(client, org.phones["worker_a1"], new_browser(f"http://127.0.0.1:{port}/x"))
    with pytest.raises(ChannelError, match="unreachable"):
        await PushChannel().send(outgoing(org.worker_a1.member_id))


async def test_push_goes_only_to_members_who_want_it_and_have_a_browser(org: Org) -> None:
    prefs = services.Prefs(sms=False, push=True, email="", email_on=False)
    assert [c.name for c in delivery._channels(prefs, has_push=True)] == ["push"]
    assert delivery._channels(prefs, has_push=False) == []
    off = services.Prefs(sms=False, push=False, email="", email_on=False)
    assert delivery._channels(off, has_push=True) == []
    assert isinstance(channels.push_channel(), PushChannel)


async def test_a_member_who_turned_push_off_gets_none(
    client: httpx.AsyncClient, org: Org, push_service: PushService
) -> None:
    await subscribe(client, org.phones["worker_a1"], new_browser(push_service.url("/p")))
    await services.update_channel_prefs(
        org.worker_a1, sms=False, push=False, email="", email_on=False
    )
    activity_id = await new_published(org)
    with clock.frozen_at(DAYTIME):
        await activities.register(org.worker_a1, activity_id)
        (claimed,) = await services.claim_due()
        assert await delivery.deliver(claimed[0]) == "sent"
    assert push_service.received == []
    assert await Notification.count().run() == 1


# --- the key and the subscription API -----------------------------------------------------


async def test_the_vapid_key_is_made_once_and_kept_private(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/v1/push/key")).json()
    second = (await client.get("/api/v1/push/key")).json()
    assert first == second
    point = unb64(first["public_key"])
    assert len(point) == 65 and point[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)  # on the curve
    path = get_settings().data_dir / "secrets" / vapid.FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()


async def test_subscribing_again_moves_the_browser_and_unsubscribing_removes_it(
    client: httpx.AsyncClient, org: Org
) -> None:
    browser = new_browser("https://push.example.cn/send/abc")
    assert (await subscribe(client, org.phones["worker_a1"], browser)).status_code == 204
    assert (await subscribe(client, org.phones["worker_a1"], browser)).status_code == 204
    assert (await subscribe(client, org.phones["staff_a"], browser)).status_code == 204
    rows = await PushSubscription.select().run()
    assert [row["member_id"] for row in rows] == [org.staff_a.member_id]

    # Someone else cannot remove it; its owner can.
    other = await client.request(
        "DELETE",
        "/api/v1/me/push-subscriptions",
        json={"endpoint": browser.endpoint},
        headers=await bearer(org.phones["worker_a1"]),
    )
    assert other.status_code == 204
    assert await PushSubscription.count().run() == 1
    mine = await client.request(
        "DELETE",
        "/api/v1/me/push-subscriptions",
        json={"endpoint": browser.endpoint},
        headers=await bearer(org.phones["staff_a"]),
    )
    assert mine.status_code == 204
    assert await PushSubscription.count().run() == 0


async def test_a_member_keeps_at_most_ten_browsers(client: httpx.AsyncClient, org: Org) -> None:
    for n in range(services.MAX_PUSH_SUBSCRIPTIONS + 2):
        browser = new_browser(f"https://push.example.cn/send/{n}")
        await subscribe(client, org.phones["worker_a1"], browser)
    rows = (
        await PushSubscription.select(PushSubscription.endpoint).order_by(PushSubscription.id).run()
    )
    assert len(rows) == services.MAX_PUSH_SUBSCRIPTIONS
    assert rows[0]["endpoint"].endswith("/2")  # the oldest two went


@pytest.mark.parametrize(
    ("endpoint", "field_name"),
    [
        ("http://push.example.cn/send/abc", "endpoint"),  # not https
        ("ftp://push.example.cn/x", "endpoint"),
        ("https:///nohost", "endpoint"),
        ("https://push.example.cn/" + "a" * 1000, "endpoint"),
        ("https://push.example.cn/a b", "endpoint"),
        ("", "endpoint"),
        # internal addresses: the server must not be made to post into its own network
        ("https://10.0.0.8/push", "endpoint"),
        ("https://192.168.1.1/push", "endpoint"),
        ("https://169.254.169.254/latest/meta-data", "endpoint"),
        ("https://[fd00::1]/push", "endpoint"),
    ],
)
async def test_a_bad_endpoint_is_refused(
    client: httpx.AsyncClient, org: Org, endpoint: str, field_name: str
) -> None:
    response = await subscribe(client, org.phones["worker_a1"], new_browser(endpoint))
    assert response.status_code == 400
    assert response.json()["field"] == field_name
    assert await PushSubscription.count().run() == 0


async def test_loopback_http_is_allowed_only_in_demo_mode(
    client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback = new_browser("http://127.0.0.1:9/push")
    assert (await subscribe(client, org.phones["worker_a1"], loopback)).status_code == 204
    monkeypatch.setenv("UNIONHALL_DEMO", "0")
    get_settings.cache_clear()
    try:
        for endpoint in ("http://127.0.0.1:9/push2", "https://localhost/push", "http://[::1]/p"):
            response = await subscribe(client, org.phones["worker_a1"], new_browser(endpoint))
            assert response.status_code == 400, endpoint
        ok = await subscribe(client, org.phones["worker_a1"], new_browser("https://fcm.example/x"))
        assert ok.status_code == 204
    finally:
        monkeypatch.setenv("UNIONHALL_DEMO", "1")
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("keys", "field_name"),
    [
        ({"p256dh": "not base64!", "auth": b64(os.urandom(16))}, "p256dh"),
        ({"p256dh": b64(b"\x04" + os.urandom(10)), "auth": b64(os.urandom(16))}, "p256dh"),
        (
            {"p256dh": b64(b"\x04" + b"\x01" * 64), "auth": b64(os.urandom(16))},
            "p256dh",
        ),  # off the curve
        ({"p256dh": "A" * 300, "auth": b64(os.urandom(16))}, "p256dh"),
        ({"auth": b64(os.urandom(8))}, "auth"),
        ({"auth": "%%%"}, "auth"),
    ],
)
async def test_bad_keys_are_refused(
    client: httpx.AsyncClient, org: Org, keys: dict[str, str], field_name: str
) -> None:
    browser = new_browser("https://push.example.cn/send/abc")
    body = browser.json()
    body["keys"].update(keys)
    response = await client.post(
        "/api/v1/me/push-subscriptions", json=body, headers=await bearer(org.phones["worker_a1"])
    )
    assert response.status_code == 400
    assert response.json()["field"] == field_name


async def test_a_malformed_body_is_a_400_and_no_one_signed_in_a_401(
    client: httpx.AsyncClient, org: Org
) -> None:
    auth = await bearer(org.phones["worker_a1"])
    for body in ({}, {"endpoint": "https://x.cn/a"}, {"endpoint": 5, "keys": {}}, []):
        response = await client.post("/api/v1/me/push-subscriptions", json=body, headers=auth)
        assert response.status_code == 400, body
    browser = new_browser("https://push.example.cn/send/abc")
    assert (
        await client.post("/api/v1/me/push-subscriptions", json=browser.json())
    ).status_code == 401
    response = await client.request(
        "DELETE", "/api/v1/me/push-subscriptions", json={"endpoint": browser.endpoint}
    )
    assert response.status_code == 401
    assert (await client.get("/api/v1/push/key")).status_code == 200  # public by design
