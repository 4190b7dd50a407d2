"""Where a message goes besides the inbox: SMS through the gateway, email over SMTP. Each
channel raises ChannelError on a failure worth retrying; each passes an idempotency key
derived from (message, channel), so a resend after a crash is recognisable downstream."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import urlsplit

from service import outbound
from service.settings import get_settings

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10.0


# Sends in flight in one worker, shared by all its jobs.
_send_slots: asyncio.Semaphore | None = None


async def open_shared_client() -> None:
    """A worker's keep-alive HTTP session for every channel (its start-up calls this)."""
    global _send_slots
    await outbound.open_shared_session()
    _send_slots = asyncio.Semaphore(outbound.MAX_CONNECTIONS)


async def close_shared_client() -> None:
    global _send_slots
    _send_slots = None
    await outbound.close_shared_session()


def send_slots() -> asyncio.Semaphore:
    """What bounds concurrent sends: the worker's, shared by all its jobs, or (outside a
    worker) a new one for the caller's batch."""
    return _send_slots if _send_slots is not None else asyncio.Semaphore(outbound.MAX_CONNECTIONS)


class ChannelError(Exception):
    """The channel could not deliver now; the message is retried with backoff."""


@dataclass(frozen=True)
class Outgoing:
    message_id: int
    member_id: int
    phone: str
    email: str
    title: str
    body: str

    def key(self, channel: str) -> str:
        return f"unionhall-{self.message_id}-{channel}"


class Channel(Protocol):
    name: str

    async def send(self, outgoing: Outgoing) -> None: ...


class SmsChannel:
    """POSTs {"phone", "message", "key"} to the same gateway as sign-in codes."""

    name = "sms"

    def __init__(self, url: str) -> None:
        self.url = url

    async def send(self, outgoing: Outgoing) -> None:
        key = outgoing.key(self.name)
        body = {
            "phone": outgoing.phone,
            "message": f"{outgoing.title}\n{outgoing.body}",
            "key": key,
        }
        try:
            status = await outbound.post(
                self.url,
                json.dumps(body, ensure_ascii=False).encode(),
                {"Idempotency-Key": key, "Content-Type": "application/json"},
                within=TIMEOUT_SECONDS,
            )
        except outbound.Unreachable as error:
            raise ChannelError(f"gateway unreachable: {error}") from error
        if not 200 <= status < 300:
            raise ChannelError(f"gateway answered {status}")


class EmailChannel:
    """Plain-text email over SMTP; the Message-ID is the idempotency key."""

    name = "email"

    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 25
        self.username = parts.username
        self.password = parts.password
        self.tls = parts.scheme == "smtps"
        self.sender = sender

    async def send(self, outgoing: Outgoing) -> None:
        import aiosmtplib

        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = outgoing.email
        mail["Subject"] = outgoing.title
        mail["Message-ID"] = f"<{outgoing.key(self.name)}@unionhall>"
        mail.set_content(outgoing.body)
        try:
            await aiosmtplib.send(
                mail,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.tls,
                timeout=TIMEOUT_SECONDS,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            raise ChannelError(f"SMTP: {type(error).__name__}") from error


def sms_channel() -> SmsChannel | None:
    url = get_settings().sms_gateway_url
    return SmsChannel(url) if url else None


def email_channel() -> EmailChannel | None:
    settings = get_settings()
    if not settings.smtp_url:
        return None
    return EmailChannel(settings.smtp_url, settings.mail_from)


class PushChannel:
    """Web Push (RFC 8030/8291/8292): the payload encrypted to each of the member's
    subscriptions (aes128gcm, pywebpush), signed with the VAPID key, POSTed with a TTL and a
    Topic from the message key, so a resend replaces an undelivered copy instead of adding
    one. A subscription the push service no longer knows (404/410) is dropped, not failed."""

    name = "push"
    TTL_SECONDS = 24 * 3600
    CLAIM_SECONDS = 12 * 3600

    async def send(self, outgoing: Outgoing) -> None:
        import time

        from py_vapid import Vapid02
        from pywebpush import WebPusher

        from service.reminders import services, vapid

        signer = Vapid02.from_pem(vapid.private_pem())
        payload = json.dumps(
            {
                "title": outgoing.title,
                "body": outgoing.body,
                "url": "/me/notifications",
                "tag": outgoing.key(self.name),
            },
            ensure_ascii=False,
        ).encode()
        errors: list[str] = []
        for subscription in await services.push_subscriptions(outgoing.member_id):
            endpoint = subscription["endpoint"]
            parts = urlsplit(endpoint)
            try:
                keys = {"p256dh": subscription["p256dh"], "auth": subscription["auth"]}
                body = WebPusher({"endpoint": endpoint, "keys": keys}).encode(
                    payload, "aes128gcm"
                )["body"]
            except Exception as error:  # a stored key the library cannot use
                log.warning("push subscription %s unusable: %s", subscription["id"], error)
                await services.drop_push_subscription(subscription["id"])
                continue
            headers = signer.sign(
                {
                    "aud": f"{parts.scheme}://{parts.netloc}",
                    "exp": int(time.time()) + self.CLAIM_SECONDS,
                    "sub": _vapid_subject(),
                }
            )
            headers |= {
                "TTL": str(self.TTL_SECONDS),
                "Topic": outgoing.key(self.name)[:32],
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
                "Urgency": "high",
            }
            try:
                status = await outbound.post(
                    endpoint, body, headers, within=TIMEOUT_SECONDS, public_only=True
                )
            except outbound.Unreachable as error:
                errors.append(f"push service unreachable: {error}")
                continue
            if status in (404, 410):
                await services.drop_push_subscription(subscription["id"])
            elif not 200 <= status < 300:
                errors.append(f"push service answered {status}")
        if errors:
            raise ChannelError("; ".join(sorted(set(errors))))


def _vapid_subject() -> str:
    """A contact for push services (RFC 8292): the sender address of reminder email."""
    sender = get_settings().mail_from
    address = sender.rpartition("<")[2].rstrip(">").strip()
    return f"mailto:{address}"


def push_channel() -> PushChannel:
    return PushChannel()
