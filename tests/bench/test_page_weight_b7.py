"""Page weight and speed, first visit (QUALITY.md B7): the activity list and an activity
page in Debian's chromium at phone size, against the real server (`unionhall run`).

Measured per page, each in a fresh browser context (empty cache, no service worker), with
the network throttled through CDP to 400 kbit/s down and up and 400 ms round trip:
bytes transferred (compressed, as on the wire: CDP's encodedDataLength), JavaScript
bytes, LCP; then the repeat visit in the same context once the service worker controls
it (load time). The baseline, in the same run: a page holding only htmx (the page itself
served by a Playwright route, htmx by the server).

Targets: ≤ 60 KB total, ≤ 20 KB JS, LCP < 2.5 s, repeat visit < 1 s. They are printed
and written to tests/bench/results/page-weight-b7-<timestamp>.json; asserted: only that
each page rendered and was measured.

    .venv/bin/python -m pytest tests/bench/test_page_weight_b7.py -p no:cacheprovider -s
"""

from __future__ import annotations

import json
import platform
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.redis_client import get_redis
from tests.browser.conftest import PHONE, browser, server  # noqa: F401  (fixtures)
from tests.browser.test_offline_app import signed_in_cookies
from tests.browser.test_signin_phone import zh
from tests.conftest import ENGINE, Org, empty_tables

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the server shares the SQLite file"),
]

RESULTS = Path(__file__).resolve().parent / "results"
KBIT = 1000 / 8  # bytes a second in one kbit/s
THROTTLE = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * KBIT,
    "uploadThroughput": 400 * KBIT,
}
TARGET_TOTAL_KB = 60
TARGET_JS_KB = 20
TARGET_LCP_MS = 2500
TARGET_REPEAT_MS = 1000
HTMX_ALONE = "/bench/htmx-alone"
HTMX_ALONE_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<meta name='viewport' content='width=device-width, initial-scale=1'><title>htmx</title>"
    "<script src='/static/vendor/htmx-2.0.11.min.js' defer></script></head>"
    "<body><h1>htmx alone</h1><p>The baseline page: nothing but htmx.</p></body></html>"
)
LCP = """() => new Promise((resolve) => {
  new PerformanceObserver((list) => {
    const entries = list.getEntries();
    resolve(entries[entries.length - 1].startTime);
  }).observe({ type: "largest-contentful-paint", buffered: true });
  setTimeout(() => resolve(null), 5000);
})"""
LOAD_MS = "() => performance.getEntriesByType('navigation')[0].loadEventEnd"


@pytest.fixture
async def org_for_bench() -> AsyncIterator[Org]:
    from tests.conftest import org as make_org

    await empty_tables()
    await get_redis().flushdb()
    yield await make_org.__wrapped__()  # type: ignore[attr-defined]


async def seed(org: Org) -> int:
    """Eight published activities, as a county federation's week might hold."""
    first = 0
    for day in range(8):
        starts = clock.now() + timedelta(days=day + 1, hours=2)
        created = await activities.create_activity(
            org.organiser_a,
            ActivityIn(
                kind="job_fair",
                title=f"春风行动招聘会 第{day + 1}场",
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                capacity=200,
                description="县人力资源市场，五十家企业现场招聘，带身份证。" * 3,
                venue=VenueIn(name="县人力资源市场", address="人民路 88 号"),
            ),
        )
        await activities.publish(org.organiser_a, created.id)
        first = first or created.id
    return first


async def measure(browser: Any, server: str, state: Any, path: str) -> dict[str, Any]:  # noqa: F811
    context = await browser.new_context(base_url=server, storage_state=state, **PHONE)
    context.set_default_timeout(30_000)
    if path == HTMX_ALONE:
        await context.route(
            f"**{HTMX_ALONE}",
            lambda route: route.fulfill(body=HTMX_ALONE_PAGE, content_type="text/html"),
        )
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    kinds: dict[str, str] = {}
    sizes: dict[str, float] = {}
    cdp.on("Network.responseReceived", lambda e: kinds.__setitem__(e["requestId"], e["type"]))
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    await cdp.send("Network.emulateNetworkConditions", THROTTLE)
    try:
        response = await page.goto(path, wait_until="load")
        assert response is not None and response.ok, path
        lcp = await page.evaluate(LCP)
        total = sum(sizes.values())
        js = sum(size for rid, size in sizes.items() if kinds.get(rid) == "Script")
        first_bytes = dict(sizes)
        repeat_ms = None
        if path != HTMX_ALONE:
            await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            await page.wait_for_timeout(500)  # the worker's precache settles
            await page.goto(path, wait_until="load")
            repeat_ms = await page.evaluate(LOAD_MS)
        return {
            "path": path,
            "requests": len(first_bytes),
            "total_kb": round(total / 1024, 1),
            "js_kb": round(js / 1024, 1),
            "lcp_ms": round(lcp) if lcp is not None else None,
            "repeat_ms": round(repeat_ms) if repeat_ms is not None else None,
        }
    finally:
        await context.close()


async def test_page_weight_b7(browser: Any, server: str, org_for_bench: Org) -> None:  # noqa: F811
    activity_id = await seed(org_for_bench)
    state = await signed_in_cookies(browser, server, org_for_bench.phones["worker_a1"], zh)
    rows = [
        await measure(browser, server, state, HTMX_ALONE),
        await measure(browser, server, state, "/"),
        await measure(browser, server, state, f"/activities/{activity_id}"),
    ]
    print("\nB7 page weight, first visit, 400 kbit/s and 400 ms RTT (chromium, 360 px):")
    print(f"{'page':<24}{'requests':>9}{'total KB':>10}{'JS KB':>8}{'LCP ms':>8}{'repeat ms':>10}")
    for row in rows:
        print(
            f"{row['path']:<24}{row['requests']:>9}{row['total_kb']:>10}{row['js_kb']:>8}"
            f"{row['lcp_ms']!s:>8}{row['repeat_ms']!s:>10}"
        )
    print(
        f"targets: total <= {TARGET_TOTAL_KB} KB, JS <= {TARGET_JS_KB} KB, "
        f"LCP < {TARGET_LCP_MS} ms, repeat < {TARGET_REPEAT_MS} ms"
    )
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"page-weight-b7-{stamp}.json").write_text(
        json.dumps({"machine": platform.platform(), "pages": rows}, indent=2)
    )
    for row in rows:
        assert row["total_kb"] > 0 and row["lcp_ms"] is not None, row
