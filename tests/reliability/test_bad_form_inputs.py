"""Bad input on every form and search box: empty, 4 KB of random bytes or text, bytes that
are not UTF-8, injection-like strings, NUL bytes. Never a 5xx, never a stray write."""

from __future__ import annotations

import random
import string
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from service.accounts import services as accounts
from service.orgs.tables import Member, Node
from tests.conftest import Org
from tests.http.helpers import (
    SESSION_COOKIE,
    csrf_headers,
)

FIELDS = (
    "phone",
    "code",
    "next",
    "name",
    "node",
    "group",
    "roles",
    "kind",
    "parent",
    "language",
)
INJECTIONS = (
    "' OR '1'='1",
    "'; DROP TABLE org_member; --",
    '" OR ""="',
    "1) UNION SELECT phone FROM org_member --",
    "%_\\%",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "../../etc/passwd",
    "小\x00王",
)

# (who is posting, path); {own} is worker_a1's member id.
FORMS = (
    ("anonymous", "/signin"),
    ("anonymous", "/signin/verify"),
    ("anonymous", "/language"),
    ("anonymous", "/signout"),
    ("verified", "/signup"),
    ("worker", "/profile"),
    ("worker", "/signout/everywhere"),
    ("admin", "/admin/nodes"),
    ("admin", "/admin/members"),
    ("admin", "/admin/members/{own}"),
)


def _random_text(seed: int, size: int) -> str:
    rng = random.Random(seed)
    alphabet = string.printable + "中文工会快递员éß€𝄞"
    return "".join(rng.choice(alphabet) for _ in range(size))


def _payloads() -> dict[str, bytes]:
    rng = random.Random(2026)
    payloads = {
        "empty": b"",
        "4KB random bytes": rng.randbytes(4096),
        "4KB random text in every field": urlencode(
            {field: _random_text(n, 4096) for n, field in enumerate(FIELDS)}
        ).encode(),
        "raw non-UTF-8 bytes": (
            b"phone=\xff\xfe\xfd&name=\xc3\x28\xa0\xa1&code=\x80\x81&node=\xfe&next=\xff"
            b"&group=\xed\xa0\x80&roles=\xc0\xaf&kind=\xf8&parent=\xfc&language=\xfe"
        ),
        "percent-encoded non-UTF-8": "&".join(
            f"{field}=%FF%FE%C3%28%ED%A0%80" for field in FIELDS
        ).encode(),
        "broken form syntax": b"name&&==&phone=%&code=%%&roles=%zz&=&next=%2",
    }
    for text in INJECTIONS:
        payloads[f"injection {text!r}"] = urlencode(dict.fromkeys(FIELDS, text)).encode()
    return payloads


PAYLOADS = _payloads()


async def _as(client: httpx.AsyncClient, org: Org, who: str) -> None:
    """A browser for `who`, with a CSRF cookie; sessions come from the service (the sign-in
    pages are rate limited per phone, and these tests sign in again after each sign-out)."""
    if who == "anonymous":
        token = None
    elif who == "verified":
        token = await accounts.start_session(member_id=None, verified_phone="13912349999")
    else:
        phone = org.phones[{"worker": "worker_a1", "admin": "admin"}[who]]
        token = await accounts.start_session(member_id=await _member_id(phone))
    if token is not None:
        client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
    if token is None and "uh_csrf" not in client.cookies:
        await client.get("/signin")


async def _member_id(phone: str) -> int:
    row = await Member.select(Member.id).where(Member.phone == phone).first()
    return int(row["id"])


async def _snapshot() -> tuple[Any, ...]:
    members = await Member.select(Member.phone, Member.name, Member.roles).order_by(Member.id)
    nodes = await Node.select(Node.code, Node.name, Node.parent).order_by(Node.id)
    return (members, nodes)


async def _post_raw(client: httpx.AsyncClient, path: str, body: bytes) -> httpx.Response:
    return await client.post(
        path,
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **csrf_headers(client)},
    )


@pytest.mark.parametrize(("who", "path"), FORMS, ids=[path for _, path in FORMS])
async def test_bad_form_bodies_never_cause_a_server_error(
    client: httpx.AsyncClient, org: Org, who: str, path: str
) -> None:
    """Every payload in PAYLOADS against one form; all failures are reported together."""
    path = path.format(own=await _member_id(org.phones["worker_a1"]))
    await _as(client, org, who)
    before = await _snapshot()
    failures = []
    for name, body in PAYLOADS.items():
        if path.startswith("/signout"):
            await _as(client, org, who)  # the previous payload may have signed us out
        response = await _post_raw(client, path, body)
        if response.status_code >= 500:
            failures.append(f"{name}: {response.status_code}")
        elif response.status_code >= 400 and "<html" not in response.text:
            failures.append(f"{name}: {response.status_code} without a page to read")
        elif await _snapshot() != before:
            failures.append(f"{name}: wrote to the database")
            before = await _snapshot()
    assert not failures, "\n".join(failures)


# Forms that are otherwise valid, with one NUL byte in a name: stored or refused, never 5xx.
NUL_CASES = (
    ("verified", "/signup", {"name": "小\x00王", "node": "ent-a1", "group": "courier"}),
    ("worker", "/profile", {"name": "小\x00王", "group": "courier"}),
    (
        "admin",
        "/admin/members",
        {"phone": "13912348888", "name": "小\x00王", "node": "ent-a1", "group": "courier"},
    ),
    (
        "admin",
        "/admin/nodes",
        {"code": "nul-node", "name": "甲\x00站", "kind": "enterprise", "parent": "union-a"},
    ),
)


@pytest.mark.parametrize(("who", "path", "form"), NUL_CASES, ids=[c[1] for c in NUL_CASES])
async def test_nul_byte_in_an_otherwise_valid_form_is_not_a_server_error(
    client: httpx.AsyncClient, org: Org, who: str, path: str, form: dict[str, str]
) -> None:
    await _as(client, org, who)
    response = await client.post(
        path,
        content=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **csrf_headers(client)},
    )
    assert response.status_code < 500, response.text[:500]


SEARCHES = (*INJECTIONS, "", " ", "%", "_", "0" * 4, "1" * 11, "长" * 50, "长" * 51)
QUERIES = (
    "q=%FF%FE",
    "q=%C3%28",
    "q=%00",
    "offset=-5",
    "offset=abc",
    "offset=99999999999999999999",
    "node=%27%20OR%201%3D1",
    "node=nowhere",
    "q=" + quote("长" * 200),
)


@pytest.mark.parametrize("path", ["/admin/members", "/api/v1/members"])
async def test_bad_searches_never_cause_a_server_error(
    client: httpx.AsyncClient, org: Org, path: str
) -> None:
    await _as(client, org, "admin")
    before = await _snapshot()
    failures = []
    for q in SEARCHES:
        response = await client.get(path, params={"q": q})
        if response.status_code not in {200, 400}:
            failures.append(f"q={q!r}: {response.status_code}")
        elif path.startswith("/api/") and response.status_code == 200:
            total = response.json()["total"]
            if total > 5:  # nothing beyond the members that exist
                failures.append(f"q={q!r}: {total} members")
    for query in QUERIES:
        response = await client.get(f"{path}?{query}")
        if response.status_code >= 500:
            failures.append(f"?{query}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert await _snapshot() == before
