"""Shared by the activity API and page tests: activities a few days ahead of the real
clock, members with API tokens, more browsers on the same app, and the texts users read."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from service.accounts.services import create_api_token
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.i18n import gettext, language
from service.orgs.schemas import Actor
from tests.conftest import Org, add_member

# Real time, cut to the minute (the service keeps minutes): activities start in 3 days,
# so they can be published and joined without freezing the clock.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
START = NOW + timedelta(days=3)
END = START + timedelta(hours=3)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def zh(message: str, **params: Any) -> str:
    """The zh-CN text for an English msgid; it must really be translated."""
    with language("zh-CN"):
        text = gettext(message, **params)
    assert text != (message % params if params else message), f"untranslated: {message}"
    return text


def en(message: str, **params: Any) -> str:
    with language("en"):
        return gettext(message, **params)


def draft(**overrides: Any) -> ActivityIn:
    values: dict[str, Any] = {
        "kind": "job_fair",
        "title": "春风行动招聘会",
        "starts_at": START,
        "ends_at": END,
        "capacity": 5,
        "venue": VenueIn(name="县人力资源市场", address="城关镇人民路 1 号"),
    }
    values.update(overrides)
    return ActivityIn(**values)


async def new_draft(org: Org, by: str = "organiser_a", **overrides: Any) -> int:
    return (await activities.create_activity(getattr(org, by), draft(**overrides))).id


async def new_published(org: Org, by: str = "organiser_a", **overrides: Any) -> int:
    activity_id = await new_draft(org, by, **overrides)
    await activities.publish(getattr(org, by), activity_id)
    return activity_id


@dataclass(frozen=True)
class Person:
    actor: Actor
    phone: str
    name: str


async def workers(count: int, node: str = "ent-a1", group: str = "courier") -> list[Person]:
    people = []
    for index in range(count):
        phone, name = f"1370000{index:04d}", f"职工{index}"
        people.append(Person(await add_member(phone, name, node, ["worker"], group), phone, name))
    return people


async def bearer(phone: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(phone)}"}


@asynccontextmanager
async def browser(app: Any, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another phone on the same app: its own cookie jar and address."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


def field_error(html: str, field: str) -> str | None:
    """The message shown beside a form field, or None."""
    match = re.search(rf'<p class="field-error" id="{field}-error"[^>]*>(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else None
