"""Issue 16, "the CSRF cookie Secure over TLS and its token bound to the session": the token
a page carries is an HMAC of the session cookie once signed in (of a random visitor cookie
before), so a token read from another session's page, or a visitor cookie planted in the
browser, opens nothing. Tokens are read from the pages, as the browser's scripts read them."""

from __future__ import annotations

import re
from typing import Any

import httpx

from service.accounts.tables import SignInCode
from service.orgs.tables import Member
from tests.conftest import Org, sign_in
from tests.http.activity_helpers import bearer
from tests.http.helpers import (
    cookie_attributes,
    count,
    en,
    new_client,
    set_cookie_header,
    zh,
)

RELOAD = "This form has expired. Go back, reload the page and try again."
TOKEN_ON_SCRIPT = re.compile(r'<script src="/static/boot\.js[^"]*"[^>]*data-csrf-token="([^"]*)"')
HIDDEN_FIELD = re.compile(r'name="_csrf_token" value="([^"]*)"')


def page_token(html: str) -> str:
    """The token boot.js sends with htmx requests: on its script tag, inside <body>."""
    match = TOKEN_ON_SCRIPT.search(html)
    assert match and match.group(1), "the page carries no token for boot.js"
    assert html.index("<body") < match.start()
    return match.group(1)


async def token_of(client: httpx.AsyncClient, path: str = "/profile") -> str:
    return page_token((await client.get(path)).text)


async def rename(client: httpx.AsyncClient, name: str, token: str | None) -> httpx.Response:
    data = {"name": name, "group": "other"} | ({"_csrf_token": token} if token else {})
    return await client.post("/profile", data=data)


async def test_a_token_from_another_session_is_refused(app: Any, org: Org) -> None:
    async with (
        new_client(app, ip="203.0.113.21") as alice,
        new_client(app, ip="203.0.113.22") as bob,
    ):
        await sign_in(alice, org.phones["worker_a1"])
        await sign_in(bob, org.phones["staff_a"])
        alices = await token_of(alice)
        bobs = await token_of(bob)
        assert alices != bobs
        # Bob's browser sending a token read from Alice's page: as a form field, as the
        # header htmx sends, and to the API.
        refused = await rename(bob, "借来的令牌", alices)
        assert refused.status_code == 403
        assert zh(RELOAD) in refused.text
        header = await bob.post(
            "/profile",
            data={"name": "借来的令牌", "group": "other"},
            headers={"x-csrftoken": alices},
        )
        assert header.status_code == 403
        api = await bob.post("/api/v1/me/notifications/read-all", headers={"x-csrftoken": alices})
        assert api.status_code == 403
        assert api.json() == {"code": "csrf_failed", "message": zh(RELOAD)}
        assert await count(Member, Member.name == "借来的令牌") == 0
        # Each with its own page's token: both work.
        assert (await rename(bob, "乙本人", bobs)).status_code in (302, 303)
        assert (await rename(alice, "甲本人", alices)).status_code in (302, 303)
        assert await count(Member, Member.name.is_in(["甲本人", "乙本人"])) == 2


async def test_a_missing_token_is_refused_with_a_message_to_reload(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["worker_a1"])
    page = await rename(client, "无令牌", None)
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert zh(RELOAD) in page.text
    api = await client.post("/api/v1/me/notifications/read-all")
    assert api.status_code == 403
    assert api.json() == {"code": "csrf_failed", "message": zh(RELOAD)}
    client.cookies.set("uh_lang", "en", domain="testserver.local")
    english = await client.post("/api/v1/me/notifications/read-all")
    assert english.json()["message"] == en(RELOAD)
    empty = await client.post("/api/v1/me/notifications/read-all", headers={"x-csrftoken": ""})
    assert empty.status_code == 403
    for odd in ("令牌", "\x00" * 64, "x" * 5000):
        assert (await rename(client, "无令牌", odd)).status_code == 403, odd
    assert await count(Member, Member.name == "无令牌") == 0


async def test_a_planted_visitor_cookie_does_not_help_once_signed_in(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    """An attacker who can set a cookie for the site (a sibling subdomain) plants their
    own visitor cookie and sends their own visitor token: bound to the session, it fails."""
    async with new_client(app, ip="203.0.113.23") as attacker:
        attackers_token = await token_of(attacker, "/signin")
        planted = attacker.cookies["uh_csrf"]
    await sign_in(client, org.phones["worker_a1"])
    client.cookies.set("uh_csrf", planted, domain="testserver.local")
    response = await rename(client, "种下的", attackers_token)
    assert response.status_code == 403
    assert await count(Member, Member.name == "种下的") == 0


async def test_the_visitor_token_signs_in_and_the_token_changes_with_the_session(
    client: httpx.AsyncClient, org: Org
) -> None:
    form = await client.get("/signin")
    visitor = page_token(form.text)
    assert HIDDEN_FIELD.findall(form.text) == [visitor] * len(HIDDEN_FIELD.findall(form.text))
    cookie = set_cookie_header(form, "uh_csrf")
    assert cookie is not None
    attributes = cookie_attributes(cookie)
    assert "httponly" in attributes and attributes.get("samesite", "").lower() == "lax"
    assert visitor not in cookie  # the cookie holds the visitor id, the page its HMAC

    asked = await client.post(
        "/signin", data={"phone": org.phones["worker_a1"], "next": "/", "_csrf_token": visitor}
    )
    assert asked.status_code == 200
    assert await count(SignInCode) == 1
    code = re.search(r'class="demo-code">(\d{6})<', asked.text)
    assert code
    signed_in = await client.post(
        "/signin/verify",
        data={
            "phone": org.phones["worker_a1"],
            "code": code.group(1),
            "next": "/profile",
            "_csrf_token": page_token(asked.text),
        },
    )
    assert signed_in.status_code in (302, 303)
    assert set_cookie_header(signed_in, "uh_csrf") is None

    session_token = await token_of(client)
    assert session_token != visitor
    assert (await rename(client, "旧令牌", visitor)).status_code == 403
    assert (await rename(client, "新令牌", session_token)).status_code in (302, 303)
    assert await count(Member, Member.name == "新令牌") == 1


async def test_a_bearer_call_needs_no_token_even_beside_a_session_cookie(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["worker_a1"])
    response = await client.post(
        "/api/v1/me/notifications/read-all", headers=await bearer(org.phones["worker_a1"])
    )
    assert response.status_code == 200, response.text


async def test_an_unsafe_page_request_with_no_cookie_at_all_is_refused(
    client: httpx.AsyncClient, org: Org
) -> None:
    """No visitor cookie yet means no page was shown: a forged sign-in (login CSRF) gets
    nothing, whatever token it invents."""
    response = await client.post(
        "/signin", data={"phone": org.phones["worker_a1"], "_csrf_token": "0" * 64}
    )
    assert response.status_code == 403
    assert await count(SignInCode) == 0


async def test_static_files_and_the_api_set_no_visitor_cookie(client: httpx.AsyncClient) -> None:
    """A static file is kept a year by any cache on the way: a cookie with it could be
    handed to every visitor behind that cache."""
    for path in ("/static/app.css?v=1", "/api/v1/ticket-keys", "/sw.js", "/healthz"):
        assert set_cookie_header(await client.get(path), "uh_csrf") is None, path
    assert set_cookie_header(await client.get("/signin"), "uh_csrf") is not None


async def test_the_visitor_cookie_is_secure_over_tls_only(app: Any) -> None:
    async with new_client(app, base_url="https://testserver.local") as tls:
        cookie = set_cookie_header(await tls.get("/signin"), "uh_csrf")
        assert cookie is not None and "secure" in cookie_attributes(cookie)
    async with new_client(app) as plain:
        cookie = set_cookie_header(await plain.get("/signin"), "uh_csrf")
        assert cookie is not None and "secure" not in cookie_attributes(cookie)
