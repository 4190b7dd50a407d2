"""The installable app over HTTP (issue 15, QUALITY.md B7): the offline page the service
worker keeps, in each language, and a service worker whose precache names real files at
the version the pages ask for."""

from __future__ import annotations

import re

import httpx

from service.app import STATIC_VERSION, WEB

SW = (WEB / "static" / "sw.js").read_text()


async def test_the_offline_page_is_in_the_language_asked_for(client: httpx.AsyncClient) -> None:
    english = await client.get("/offline?lang=en")
    chinese = await client.get("/offline?lang=zh-CN")
    assert english.status_code == chinese.status_code == 200
    assert "You are offline" in english.text and 'lang="en"' in english.text
    assert "现在没有网络" in chinese.text and 'lang="zh-CN"' in chinese.text
    # Kept by the worker: it shows nobody's data and does not make boot.js forget pages.
    assert 'data-signed-out="0"' in english.text
    assert "<script>" not in english.text  # the CSP forbids inline scripts
    bogus = await client.get("/offline?lang=xx")
    assert bogus.status_code == 200


async def test_the_service_worker_precaches_real_files_at_the_current_version(
    client: httpx.AsyncClient,
) -> None:
    version = re.search(r'const VERSION = "v(\w+)"', SW)
    assert version and version.group(1) == STATIC_VERSION
    page = await client.get("/offline?lang=en")
    for name in ("app.css", "boot.js", "offline.js"):
        assert f"`/static/{name}${{q}}`" in SW
        response = await client.get(f"/static/{name}?v={STATIC_VERSION}")
        assert response.status_code == 200, name
        assert f"/static/{name}?v={STATIC_VERSION}" in page.text, name
    assert (await client.get("/static/vendor/htmx-2.0.11.min.js")).status_code == 200
