"""The browser's verifier (web/static/door-verify.js) checks a code's type: a genuine code
of another type (a site poster, registered here only) whose fields are a real ticket's
ids is refused offline, never admitted as that ticket; forgeries read "invalid", not
"wrong_code_type". In Debian's chromium, with WebCrypto and with the noble fallback.

No server: Playwright routes serve the module and a small harness page (as the B4
benchmark does), so this runs in a second and needs no database.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service import signing
from service.tickets import services as tickets
from service.tickets import tokens
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE

pytestmark = [pytest.mark.browser]

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
ORIGIN = "http://localhost:8778"  # loopback: a secure context, so WebCrypto is there
TICKET, ACTIVITY = 31, 8

HARNESS = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<script type="module">
import { CODE_TYPES, decideOffline, makeVerifier, verifyCode } from "/static/door-verify.js";
window.check = async ({ keys, engine, codes, posterTag, ticket, activity }) => {
  const verifier = await makeVerifier(keys, "/static/vendor/noble-ed25519-3.2.0.js", { engine });
  const door = {
    activityId: activity, opensAt: Date.now() - 3600e3, closesAt: Date.now() + 3600e3,
    roster: new Map([[ticket, { ticket_id: ticket, status: "confirmed", reissue: 0,
      admitted_at: null }]]),
    revoked: new Map(), mine: new Map(), verifier,
  };
  const out = { engine: verifier.engine, verified: {}, door: {} };
  for (const [name, code] of Object.entries(codes)) {
    const read = await verifyCode(verifier, code, CODE_TYPES.ticket);
    out.verified[name] = read.error ? { error: read.error } : { fields: read.fields };
    const decided = await decideOffline(door, code);
    out.door[name] = { result: decided.result, reason: decided.reason || null };
  }
  // Control: the poster read with the ticket's layout but its own tag, as a verifier
  // without the type check would read it.
  const asTicket = { ...CODE_TYPES.ticket, tag: posterTag };
  const unchecked = await verifyCode(verifier, codes.poster, asTicket);
  out.posterWithoutTypeCheck = unchecked.fields || null;
  return out;
};
window.ready = true;
</script></body></html>"""


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def raw(code: str) -> bytes:
    return base64.b32decode(code + "=" * (-len(code) % 8))


def codes(poster: signing.CodeType) -> dict[str, str]:
    ticket = tokens.ticket_code(TICKET, ACTIVITY, 0)
    poster_code = signing.sign(poster.name, site_id=TICKET, campaign_id=ACTIVITY, version=0)
    body = raw(poster_code)[: -signing.SIGNATURE_BYTES]
    retagged = bytearray(raw(ticket))
    retagged[0] = signing.FORMAT_VERSION << 4 | poster.tag
    return {
        "ticket": ticket,
        "poster": poster_code,
        "poster_lower_case": poster_code.lower(),
        "forged_poster": b32(body + Ed25519PrivateKey.generate().sign(body)),
        "ticket_retagged_as_poster": b32(bytes(retagged)),
        "truncated": ticket[:-7],
        "empty": "",
        "junk_4kb": "A7" * 2048,
        "non_ascii": "票" * 60,
    }


async def serve(route: Any, harness: str) -> None:
    path = route.request.url.removeprefix(ORIGIN).split("?")[0]
    if path == "/harness":
        await route.fulfill(body=harness, content_type="text/html; charset=utf-8")
        return
    file = (STATIC / path.removeprefix("/static/")).resolve()
    if not path.startswith("/static/") or STATIC not in file.parents or not file.is_file():
        await route.fulfill(status=404, body="")
        return
    await route.fulfill(path=str(file), content_type="text/javascript; charset=utf-8")


@pytest.mark.parametrize("engine", ["webcrypto", "noble"])
async def test_a_poster_code_is_never_read_as_a_ticket_offline(
    poster: signing.CodeType, engine: str
) -> None:
    from playwright.async_api import async_playwright

    keys = [
        {"key_id": key.key_id, "alg": key.alg, "public_key": key.public_key}
        for key in tickets.keys().keys
    ]
    payload = {
        "keys": keys,
        "engine": engine,
        "codes": codes(poster),
        "posterTag": poster.tag,
        "ticket": TICKET,
        "activity": ACTIVITY,
    }
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await (await browser.new_context(**PHONE)).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.route(f"{ORIGIN}/**", lambda route: serve(route, HARNESS))
            await page.goto(f"{ORIGIN}/harness")
            await page.wait_for_function("window.ready === true")
            out = await page.evaluate("(payload) => window.check(payload)", payload)
        finally:
            await browser.close()

    assert errors == []
    assert out["engine"] == engine
    ticket_fields = {"ticket_id": TICKET, "activity_id": ACTIVITY, "reissue": 0}
    assert out["verified"]["ticket"] == {"fields": ticket_fields}
    assert out["door"]["ticket"] == {"result": "admitted", "reason": None}
    # Control: the poster's fields are that very ticket's; only the type check refuses it.
    assert out["posterWithoutTypeCheck"] == ticket_fields
    for name in ("poster", "poster_lower_case"):
        assert out["verified"][name] == {"error": "wrong_code_type"}, name
        assert out["door"][name] == {"result": "invalid", "reason": "wrong_code_type"}, name
    for name in ("forged_poster", "ticket_retagged_as_poster", "truncated", "empty", "junk_4kb"):
        assert out["verified"][name] == {"error": "invalid"}, name
        assert out["door"][name] == {"result": "invalid", "reason": "invalid"}, name
    assert out["verified"]["non_ascii"] == {"error": "invalid"}
