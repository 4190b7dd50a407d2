"""Concurrency at the HTTP edge: one code, one phone, one member — however many requests
arrive at once. Run on both engines (UNIONHALL_TEST_ENGINE=sqlite | postgres)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest

from service.accounts import services as accounts
from service.accounts.tables import Session, SignInCode
from service.orgs import services as orgs
from service.orgs.tables import Member
from tests.conftest import DEMO_CODE, Org, post_form
from tests.http.helpers import (
    SESSION_COOKIE,
    count,
    field_error,
    new_client,
    request_code,
)

ATTEMPTS = 20
NEW_PHONE = "13912340000"


def slow_commits(monkeypatch: pytest.MonkeyPatch, module: Any, seconds: float = 0.05) -> None:
    """Make `module`'s write transactions wait before they commit, so concurrent requests
    really overlap on PostgreSQL (on SQLite the single writer still serialises them). The
    work done is unchanged: only the race window is wider."""
    real = module.write_transaction

    @asynccontextmanager
    async def slow_commit() -> AsyncIterator[None]:
        async with real():
            yield
            await asyncio.sleep(seconds)

    monkeypatch.setattr(module, "write_transaction", slow_commit)


async def _clients(stack: AsyncExitStack, app: Any, n: int) -> list[httpx.AsyncClient]:
    clients = [await stack.enter_async_context(new_client(app)) for _ in range(n)]
    await asyncio.gather(*(client.get("/signin") for client in clients))  # CSRF cookies
    return clients


async def test_one_code_opens_exactly_one_session(
    app: Any, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = org.phones["worker_a1"]
    code = await request_code(client, phone)
    slow_commits(monkeypatch, accounts)
    async with AsyncExitStack() as stack:
        clients = await _clients(stack, app, ATTEMPTS)
        responses = await asyncio.gather(
            *(
                post_form(c, "/signin/verify", {"phone": phone, "code": code, "next": "/"})
                for c in clients
            )
        )
    statuses = sorted(response.status_code for response in responses)
    winners = [r for r in responses if r.status_code == 302]
    assert len(winners) == 1, statuses
    assert winners[0].headers["location"] == "/"
    losers = [r for r in responses if r.status_code != 302]
    assert all(400 <= r.status_code < 500 for r in losers), statuses
    assert all(field_error(r.text, "code") for r in losers)
    assert all(SESSION_COOKIE not in r.cookies for r in losers)
    assert await count(Session) == 1


async def test_concurrent_api_creates_of_one_phone_make_one_member(
    client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {"Authorization": f"Bearer {await accounts.create_api_token(org.phones['admin'])}"}
    slow_commits(monkeypatch, orgs)
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/members",
                json={"phone": NEW_PHONE, "name": f"并发{n}", "node": "ent-a1"},
                headers=headers,
            )
            for n in range(ATTEMPTS)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (ATTEMPTS - 1), statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"duplicate_phone"}
    assert await count(Member, Member.phone == NEW_PHONE) == 1


async def test_concurrent_self_signups_for_one_phone_make_one_member(
    app: Any, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ten browsers that each verified the same new phone (as if it asked for several codes).
    tokens = [
        await accounts.start_session(member_id=None, verified_phone=NEW_PHONE) for _ in range(10)
    ]
    async with AsyncExitStack() as stack:
        clients = await _clients(stack, app, len(tokens))
        slow_commits(monkeypatch, orgs)
        for client, token in zip(clients, tokens, strict=True):
            client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
        responses = await asyncio.gather(
            *(
                post_form(c, "/signup", {"name": f"新人{n}", "node": "ent-a1", "group": "courier"})
                for n, c in enumerate(clients)
            )
        )
        statuses = sorted(response.status_code for response in responses)
        assert all(status < 500 for status in statuses), statuses
        assert await count(Member, Member.phone == NEW_PHONE) == 1
        # Every browser that proved the phone ends up signed in as that one member.
        assert statuses == [302] * len(tokens), statuses
        assert {r.headers["location"] for r in responses} == {"/"}
        member_ids = set()
        for c in clients:
            me = await c.get("/api/v1/me")
            assert me.status_code == 200
            member_ids.add(me.json()["member"]["id"])
        assert len(member_ids) == 1


async def test_concurrent_code_requests_leave_one_live_code_per_phone(
    app: Any, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five code requests at once (the per-phone limit) for each of three phones. "A new
    code spends every earlier one" must hold under concurrency: one live code per phone,
    and of the five codes a phone was shown, exactly one signs in.

    Each sign-in write transaction waits 50 ms before it commits, so the requests really
    overlap on PostgreSQL; on SQLite the single writer still serialises them."""
    slow_commits(monkeypatch, accounts)
    phones = [org.phones[name] for name in ("worker_a1", "staff_a", "organiser_a")]
    async with AsyncExitStack() as stack:
        clients = await _clients(stack, app, 5 * len(phones))
        assignments = [(c, phones[n % len(phones)]) for n, c in enumerate(clients)]
        pages = await asyncio.gather(
            *(post_form(c, "/signin", {"phone": p, "next": "/"}) for c, p in assignments)
        )
        assert [page.status_code for page in pages] == [200] * len(pages)
        live = {
            phone: await count(
                SignInCode, (SignInCode.phone == phone) & SignInCode.spent_at.is_null()
            )
            for phone in phones
        }
        signed_in = dict.fromkeys(phones, 0)
        for (c, phone), page in zip(assignments, pages, strict=True):
            code = DEMO_CODE.search(page.text).group(1)  # type: ignore[union-attr]
            result = await post_form(
                c, "/signin/verify", {"phone": phone, "code": code, "next": "/"}
            )
            signed_in[phone] += result.status_code == 302
    assert live == dict.fromkeys(phones, 1)
    assert signed_in == dict.fromkeys(phones, 1)
    sixth = await post_form(client, "/signin", {"phone": phones[0], "next": "/"})
    assert sixth.status_code == 429
