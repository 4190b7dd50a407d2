"""Why the browser tests wait on the service worker's caches with wait_for_promise:
page.wait_for_function tests the value its function returns, and a Promise is always
truthy, so a wait on a cache returned at once (the offline tests then went offline before
the worker had kept the ticket, and failed about one run in three)."""

from __future__ import annotations

import re
import time
from pathlib import Path
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


PROMISE_SIGNS = ("caches.", ".then(", "Promise", "async ", "await ", "fetch(")


def test_no_test_waits_on_a_promise_with_wait_for_function() -> None:
    """The mistake cannot come back unnoticed: no call of wait_for_function in the tests
    is given JavaScript that makes a Promise (it would return at once)."""
    tests = Path(__file__).resolve().parents[1]
    wrong = []
    for path in sorted(tests.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for call in re.finditer(r"\.wait_for_function\(", source):
            # The call's arguments: up to the next statement of the test.
            arguments = re.split(
                r"\n\s*(?:await |assert |return |[A-Za-z_]+ = )", source[call.end() :]
            )[0]
            if any(sign in arguments for sign in PROMISE_SIGNS):
                wrong.append(
                    f"{path.relative_to(tests)}:{source.count(chr(10), 0, call.start()) + 1}"
                )
    assert not wrong, f"use wait_for_promise for a Promise: {wrong}"
