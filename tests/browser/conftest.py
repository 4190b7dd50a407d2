"""A real `unionhall run --no-worker` on a free loopback port, and Debian's chromium
driven by Playwright at a phone's size.

The server shares the test process's database file (SQLite only: the server reads what
the `org` fixture writes) and its Redis (so `clean_state` also resets the server's
rate limits between tests).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.redis_client import redis_url
from service.settings import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
STARTUP_TIMEOUT_SECONDS = 30.0
PROMISE_POLL_SECONDS = 0.05


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unionhall_command() -> list[str]:
    """The installed console script next to this interpreter (.venv/bin/unionhall)."""
    script = Path(sys.executable).parent / "unionhall"
    if script.exists():
        return [str(script), "run", "--no-worker"]
    return [sys.executable, "-m", "service.cli", "run", "--no-worker"]


@pytest.fixture(scope="session")
def server(database: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running server; fails with the server's log if it never answers."""
    port = free_port()
    env = {
        **os.environ,
        "UNIONHALL_HOST": "127.0.0.1",
        "UNIONHALL_PORT": str(port),
        # The test process's Redis: the loopback server, or its embedded one (unix socket).
        "UNIONHALL_REDIS_URL": os.environ.get("UNIONHALL_REDIS_URL") or redis_url(),
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            unionhall_command(),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_until_healthy(base_url, process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    last = "no answer"
    with httpx.Client(base_url=base_url, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(
                    f"`unionhall run` exited with {process.returncode}; "
                    f"server log:\n{log.read_text()}",
                    pytrace=False,
                )
            try:
                response = http.get("/healthz")
            except httpx.TransportError as error:
                last = repr(error)
            else:
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            time.sleep(0.1)
    pytest.fail(
        f"/healthz did not answer 200 within {STARTUP_TIMEOUT_SECONDS:.0f} s ({last}); "
        f"server log:\n{log.read_text()}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def phone_page(browser: Any, server: str) -> AsyncIterator[Any]:
    """A fresh phone-sized browser context (its own cookies) on the running server."""
    async for page in _phone(browser, server):
        yield page


@pytest.fixture
async def second_phone_page(browser: Any, server: str) -> AsyncIterator[Any]:
    """Another person's phone: its own context and cookies."""
    async for page in _phone(browser, server):
        yield page


async def _phone(browser: Any, server: str) -> AsyncIterator[Any]:
    context = await browser.new_context(base_url=server, **PHONE)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    # Printed as it happens: pytest shows it beside a failing test.
    page.on("response", lambda r: print(f"{r.request.method} {r.url} -> {r.status}"))
    page.on("console", lambda m: print(f"console.{m.type}: {m.text}"))
    page.on("pageerror", lambda error: print(f"page error: {error}"))
    try:
        yield page
    finally:
        await context.close()


async def wait_for_promise(
    page: Any, function: str, arg: Any = None, within_seconds: float = 10.0
) -> Any:
    """Wait until `function` (JavaScript, may return a Promise) gives a truthy value.

    page.wait_for_function cannot wait on a Promise: it tests the Promise object itself,
    which is always truthy, so it returns at its first poll whatever the Promise would
    resolve to. page.evaluate awaits the Promise, so it is polled here instead."""
    deadline = asyncio.get_running_loop().time() + within_seconds
    while True:
        value = await page.evaluate(function, arg)
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still falsy ({value!r}) after {within_seconds} s: {function}")
        await asyncio.sleep(PROMISE_POLL_SECONDS)
