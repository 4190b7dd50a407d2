"""Issue 16, "Headers and cookies": a Content-Security-Policy that runs no inline script and
lets no one frame a page, on every response (errors included); HSTS and a Secure CSRF
cookie over TLS, neither over plain HTTP (where a Secure cookie would be dropped)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Org, sign_in
from tests.http.helpers import cookie_attributes, new_client, set_cookie_header

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"

# (method, path): a page, the API, static files, and answers that never reach a handler.
RESPONSES = [
    ("GET", "/signin"),
    ("GET", "/"),
    ("GET", "/api/v1/ticket-keys"),
    ("GET", "/api/v1/me"),  # 401
    ("GET", "/static/app.css"),
    ("GET", "/no/such/page"),  # 404 from routing
    ("GET", "/api/v1/no-such-thing"),
    ("DELETE", "/signin"),  # 405
    ("GET", "/api/v1/members?limit=abc"),  # 400
    ("GET", f"/activities/{2**63}"),  # 404 from the integer guard
    ("POST", "/signin"),  # 403: no CSRF token
    ("GET", "/healthz"),
]


def assert_policy(response: httpx.Response) -> None:
    policy = response.headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], (response.url, policy)
    script = directives.get("script-src", directives.get("default-src"))
    assert script is not None and "'unsafe-inline'" not in script, policy
    assert "'unsafe-eval'" not in script
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("x-frame-options") == "DENY"


@pytest.mark.parametrize(("method", "path"), RESPONSES)
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert_policy(response)
    assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_a_server_error_carries_them_too(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.tickets import services as tickets

    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(tickets, "keys", broken)
    async with new_client(app) as client:
        response = await client.get("/api/v1/ticket-keys")
    assert response.status_code == 500
    assert_policy(response)


async def test_over_tls_hsts_and_a_secure_csrf_cookie(app: Any, org: Org) -> None:
    async with new_client(app, base_url="https://testserver.local") as client:
        page = await client.get("/signin")
        assert page.headers["strict-transport-security"].startswith("max-age=")
        csrf = set_cookie_header(page, "uh_csrf")
        assert csrf is not None and "secure" in cookie_attributes(csrf)
        missing = await client.get("/no/such/page")
        assert "strict-transport-security" in missing.headers
        assert_policy(missing)


async def test_over_plain_http_the_csrf_cookie_is_not_secure(client: httpx.AsyncClient) -> None:
    page = await client.get("/signin")
    csrf = set_cookie_header(page, "uh_csrf")
    assert csrf is not None and "secure" not in cookie_attributes(csrf)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=|hx-on|javascript:", re.I)


def test_no_template_has_an_inline_script_or_handler() -> None:
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        found += [f"{template.name}: {m.group(0)}" for m in INLINE_SCRIPT.finditer(text)]
        found += [f"{template.name}: {m.group(0)}" for m in INLINE_HANDLER.finditer(text)]
    assert not found, found


async def test_rendered_pages_load_only_scripts_from_static(
    client: httpx.AsyncClient, org: Org
) -> None:
    pages = [(await client.get("/signin")).text]
    await sign_in(client, org.phones["admin"])
    for path in ("/", "/profile", "/admin/members", "/organise/activities"):
        response = await client.get(path)
        assert response.status_code == 200, path
        pages.append(response.text)
    for html in pages:
        assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
        sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
        assert sources and all(source.startswith("/static/") for source in sources), sources
