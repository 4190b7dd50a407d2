"""Where a message goes besides the inbox: SMS through the gateway, email over SMTP. Each
channel raises ChannelError on a failure worth retrying; each passes an idempotency key
derived from (message, channel), so a resend after a crash is recognisable downstream."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from service.settings import get_settings

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10.0


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
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
                response = await client.post(
                    self.url,
                    json={
                        "phone": outgoing.phone,
                        "message": f"{outgoing.title}\n{outgoing.body}",
                        "key": key,
                    },
                    headers={"Idempotency-Key": key},
                )
        except httpx.HTTPError as error:
            raise ChannelError(f"gateway unreachable: {type(error).__name__}") from error
        if response.status_code >= 400:
            raise ChannelError(f"gateway answered {response.status_code}")


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
