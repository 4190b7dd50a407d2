"""Where one-time codes go: the screen and the log in demo mode, an SMS gateway otherwise."""

from __future__ import annotations

import json
import logging
from typing import Protocol

from service import outbound
from service.errors import DomainError
from service.i18n import gettext
from service.settings import get_settings

log = logging.getLogger(__name__)
GATEWAY_TIMEOUT_SECONDS = 5.0


class CodeSender(Protocol):
    async def send(self, phone: str, code: str) -> str | None:
        """Deliver the code; return it only when it may be shown on the screen (demo)."""


class DemoCodeSender:
    async def send(self, phone: str, code: str) -> str | None:
        log.warning("demo sign-in code for %s: %s", phone, code)
        return code


class GatewayCodeSender:
    """Posts {"phone", "code", "message"} as JSON to the configured SMS gateway."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def send(self, phone: str, code: str) -> str | None:
        message = gettext(
            "Your Unionhall sign-in code is %(code)s. It is valid for 5 minutes.", code=code
        )
        body = json.dumps({"phone": phone, "code": code, "message": message}, ensure_ascii=False)
        try:
            status = await outbound.post(
                self.url,
                body.encode(),
                {"Content-Type": "application/json"},
                within=GATEWAY_TIMEOUT_SECONDS,
            )
        except outbound.Unreachable as error:
            status = None
            log.error("SMS gateway unreachable: %s", error)
        if status is None or not 200 <= status < 300:
            if status is not None:
                log.error("SMS gateway answered %s", status)
            raise DomainError(
                "sms_failed", "We could not send the code just now. Try again in a minute."
            )
        return None


class UnconfiguredCodeSender:
    async def send(self, phone: str, code: str) -> str | None:
        log.error("no SMS gateway configured (UNIONHALL_SMS_GATEWAY_URL); code not sent")
        raise DomainError(
            "sms_failed", "Sign-in by SMS is not set up yet. Ask your union's administrator."
        )


def code_sender() -> CodeSender:
    settings = get_settings()
    if settings.sms_gateway_url:
        return GatewayCodeSender(settings.sms_gateway_url)
    if settings.demo:
        return DemoCodeSender()
    return UnconfiguredCodeSender()
