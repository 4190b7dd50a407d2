"""Issue 16: the CSRF cookie was independent of the session, so a token lifted from one
browser worked in any other. The token is now bound to the session: another session's
token is refused, and signing in or out sets a fresh one."""

from __future__ import annotations

from typing import Any

import httpx

from service.orgs.tables import Member
from tests.conftest import Org, sign_in
from tests.http.activity_helpers import browser


async def _name(phone: str) -> str:
    row = await Member.select(Member.name).where(Member.phone == phone).first().run()
    assert row is not None
    return str(row["name"])


async def _rename(client: httpx.AsyncClient, token: str, name: str) -> httpx.Response:
    """The profile form, posted with `token` in both the cookie and the form field (what
    an attacker holding a stolen token can send)."""
    client.cookies.set("uh_csrf", token, domain="testserver.local")
    return await client.post(
        "/profile", data={"name": name, "group": "courier", "_csrf_token": token}
    )


async def test_a_token_from_one_session_is_refused_in_another(app: Any, org: Org) -> None:
    worker, organiser = org.phones["worker_a1"], org.phones["organiser_a"]
    async with browser(app, "198.51.100.1") as theirs, browser(app, "198.51.100.2") as mine:
        await sign_in(theirs, organiser)
        await sign_in(mine, worker)
        stolen = theirs.cookies["uh_csrf"]
        own = mine.cookies["uh_csrf"]

        refused = await _rename(mine, stolen, "被改的名字")
        assert refused.status_code == 403, refused.text
        assert await _name(worker) == "快递员小王"

        # Control: the same form with this session's own token goes through.
        accepted = await _rename(mine, own, "小王")
        assert accepted.status_code in (302, 303), accepted.text
        assert await _name(worker) == "小王"


async def test_signing_in_and_out_sets_a_fresh_token(app: Any, org: Org) -> None:
    phone = org.phones["worker_a1"]
    async with browser(app, "198.51.100.3") as phone_browser:
        await phone_browser.get("/signin")
        before = phone_browser.cookies["uh_csrf"]
        await sign_in(phone_browser, phone)
        signed_in = phone_browser.cookies["uh_csrf"]
        assert signed_in != before

        # The token from before the sign-in no longer works with the new session.
        refused = await _rename(phone_browser, before, "被改的名字")
        assert refused.status_code == 403, refused.text
        assert await _name(phone) == "快递员小王"

        phone_browser.cookies.set("uh_csrf", signed_in, domain="testserver.local")
        out = await phone_browser.post("/signout", data={"_csrf_token": signed_in})
        assert out.status_code in (302, 303), out.text
        assert phone_browser.cookies["uh_csrf"] not in (signed_in, before)
