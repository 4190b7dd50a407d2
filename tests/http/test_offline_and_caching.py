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
    # The camera loop is imported by the scanner pages' modules, at the address without
    # `?v=` (a module's relative import drops the query): that is the one to keep.
    assert '"/static/camera.js",' in SW
    assert (await client.get("/static/camera.js")).status_code == 200
    for page_script in ("scanner.js", "heatrelief-today.js", "booth-device.js"):
        assert 'from "./camera.js";' in (WEB / "static" / page_script).read_text(), page_script


async def test_pages_css_js_and_json_are_gzipped(client: httpx.AsyncClient) -> None:
    gzip = {"accept-encoding": "gzip"}
    for url in (
        "/offline?lang=en",
        f"/static/app.css?v={STATIC_VERSION}",
        "/static/vendor/htmx-2.0.11.min.js",
        "/schema/openapi.json",
    ):
        response = await client.get(url, headers=gzip)
        assert response.status_code == 200, url
        assert response.headers.get("content-encoding") == "gzip", url
        assert len(response.content) > 0  # httpx undid the gzip: the body is intact
    # A client that does not ask for gzip gets plain bytes.
    plain = await client.get(
        f"/static/app.css?v={STATIC_VERSION}", headers={"accept-encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert b"font-size" in plain.content


async def test_versioned_static_files_are_immutable_and_unversioned_are_revalidated(
    client: httpx.AsyncClient,
) -> None:
    versioned = await client.get(f"/static/app.css?v={STATIC_VERSION}")
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    vendored = await client.get("/static/vendor/htmx-2.0.11.min.js")
    assert vendored.headers["cache-control"] == "public, max-age=31536000, immutable"
    bare = await client.get("/static/app.css")
    assert bare.headers["cache-control"] == "no-cache"
    empty_version = await client.get("/static/app.css?v=")
    assert empty_version.headers["cache-control"] == "no-cache"


async def test_a_file_the_browser_holds_is_answered_304_without_its_body(
    client: httpx.AsyncClient,
) -> None:
    for url in (f"/static/boot.js?v={STATIC_VERSION}", "/static/app.css", "/sw.js"):
        first = await client.get(url)
        etag = first.headers["etag"]
        again = await client.get(url, headers={"if-none-match": etag})
        assert again.status_code == 304, url
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert "cache-control" in again.headers
        # A list holding it, and a weak form of it, match too; another tag does not.
        listed = await client.get(url, headers={"if-none-match": f'"other", W/{etag}'})
        assert listed.status_code == 304, url
        stale = await client.get(url, headers={"if-none-match": '"not-this-one"'})
        assert stale.status_code == 200 and stale.content == first.content


async def test_pages_are_never_answered_304(client: httpx.AsyncClient) -> None:
    # Pages are private and change with each sign-up: no ETag, so no 304, even for "*".
    response = await client.get("/signin", headers={"if-none-match": "*"})
    assert response.status_code == 200
    assert "etag" not in response.headers


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


async def test_the_manifest_offers_the_icon_sizes_installers_ask_for(
    client: httpx.AsyncClient,
) -> None:
    manifest = (await client.get("/static/manifest.webmanifest")).json()
    icons = manifest["icons"]
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in icons}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in icons:
        response = await client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        if icon["type"] == "image/png":
            width, height = png_size(response.content)
            assert f"{width}x{height}" == icon["sizes"], icon["src"]
