"""Shared by the HTTP and reliability tests: more clients on the same app, translated
messages as the user reads them, cookies as the browser receives them, row counts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from service.i18n import gettext, language
from tests.conftest import DEMO_CODE, csrf_token, post_form

SESSION_COOKIE = "uh_session"
BASE_URL = "http://testserver.local"
CLIENT_IP = "203.0.113.7"


@asynccontextmanager
async def new_client(
    app: Any, *, base_url: str = BASE_URL, ip: str = CLIENT_IP, **kwargs: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser on the same app (its own cookie jar)."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50001))
    async with httpx.AsyncClient(transport=transport, base_url=base_url, **kwargs) as client:
        yield client


def zh(message: str, **params: Any) -> str:
    """The zh-CN text a user reads for an English msgid (and it must be translated)."""
    with language("zh-CN"):
        text = gettext(message, **params)
    assert text != (message % params if params else message), f"untranslated: {message}"
    return text


def en(message: str, **params: Any) -> str:
    with language("en"):
        return gettext(message, **params)


def field_error(html: str, field: str) -> str | None:
    """The message shown beside a form field, or None."""
    match = re.search(rf'<p class="field-error" id="{field}-error"[^>]*>(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else None


def form_error(html: str) -> str | None:
    match = re.search(r'<p class="form-error"[^>]*>(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else None


def set_cookie_header(response: httpx.Response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


def cookie_attributes(header: str) -> dict[str, str]:
    """`a=b; HttpOnly; SameSite=Lax` → {"httponly": "", "samesite": "lax", ...}."""
    attributes: dict[str, str] = {}
    for part in header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        attributes[key.lower()] = value.lower()
    return attributes


def lang_of(html: str) -> str | None:
    match = re.search(r'<html lang="([^"]+)"', html)
    return match.group(1) if match else None


async def request_code(client: httpx.AsyncClient, phone: str) -> str:
    """Ask for a sign-in code through the page and read it (demo mode)."""
    page = await post_form(client, "/signin", {"phone": phone, "next": "/"})
    match = DEMO_CODE.search(page.text)
    assert match, page.text
    return match.group(1)


async def verify(
    client: httpx.AsyncClient, phone: str, code: str, next_url: str = "/"
) -> httpx.Response:
    return await post_form(
        client, "/signin/verify", {"phone": phone, "code": code, "next": next_url}
    )


def csrf_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """What htmx sends for a cookie-authenticated request (boot.js, from the page's
    data-csrf-token)."""
    return {"x-csrftoken": csrf_token(client)}


async def count(table: Any, where: Any = None) -> int:
    query = table.count()
    if where is not None:
        query = query.where(where)
    return int(await query.run())


_FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_HEX_TOKEN = re.compile(r"[0-9a-f]{32,}")


def full_phones(text: str) -> list[str]:
    """Unmasked mainland numbers in a response. CSRF tokens (long hex strings) are removed
    first: their random digits can look like a phone number."""
    return _FULL_PHONE.findall(_HEX_TOKEN.sub("", text))
