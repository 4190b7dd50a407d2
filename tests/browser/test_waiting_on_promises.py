"""Why the browser tests wait on the service worker's caches with wait_for_promise:
page.wait_for_function tests the value its function returns, and a Promise is always
truthy, so a wait on a cache returned at once (the offline tests then went offline before
the worker had kept the ticket, and failed about one run in three)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import wait_for_promise
from tests.conftest import ENGINE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

# Resolves to false for the first 0.8 s, true after: what a cache looks like to a page
# while the worker is still fetching what it will keep.
TRUE_LATER = "() => new Promise((done) => setTimeout(() => done(performance.now() > 800), 50))"


async def test_wait_for_function_does_not_wait_on_a_promise_and_wait_for_promise_does(
    phone_page: Any,
) -> None:
    page = phone_page
    await page.goto("/offline?lang=en")
    assert await page.evaluate("performance.now()") < 800

    await page.wait_for_function(TRUE_LATER)
    assert await page.evaluate("performance.now()") < 800  # it returned at once

    started = time.monotonic()
    assert await wait_for_promise(page, TRUE_LATER) is True
    assert await page.evaluate("performance.now()") > 800
    assert time.monotonic() - started < 5
