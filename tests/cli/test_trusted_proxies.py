"""Issue 16: the per-address sign-in limits trusted `X-Forwarded-For` from any loopback
peer (uvicorn's default). `unionhall run` now believes it only from the proxies named in
UNIONHALL_TRUSTED_PROXIES. Checked on the real server: the address it records for a
request (its access log, the same address the rate limits count) is the forwarded one
only when the peer is a named proxy."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import free_port
from tests.cli.test_cli import UNIONHALL

pytestmark = pytest.mark.skipif(
    os.environ.get("UNIONHALL_TEST_ENGINE", "sqlite") != "sqlite",
    reason="the command line runs in the SQLite pass",
)

FORWARDED = "198.51.100.23"


@contextmanager
def running(tmp_path: Path, trusted: str | None) -> Iterator[tuple[str, Path]]:
    """`unionhall run` with UNIONHALL_TRUSTED_PROXIES set to `trusted` (or unset): its base
    URL and its log."""
    port = free_port()
    env = {
        **os.environ,
        "UNIONHALL_DATABASE_URL": f"sqlite:///{tmp_path / 'proxy.sqlite'}",
        "UNIONHALL_DATA_DIR": str(tmp_path / "data"),
        "UNIONHALL_PORT": str(port),
    }
    env.pop("UNIONHALL_TRUSTED_PROXIES", None)
    if trusted is not None:
        env["UNIONHALL_TRUSTED_PROXIES"] = trusted
    log = tmp_path / f"run-{port}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [UNIONHALL, "run", "--no-worker"], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/static/app.css")
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        yield base, log
    finally:
        server.terminate()
        server.wait(timeout=30)


def address_seen(tmp_path: Path, trusted: str | None) -> str:
    with running(tmp_path, trusted) as (base, log):
        httpx.get(f"{base}/static/app.css", headers={"X-Forwarded-For": FORWARDED})
    lines = [line for line in log.read_text().splitlines() if "GET /static/app.css" in line]
    assert lines, log.read_text()
    return lines[-1]


def test_x_forwarded_for_is_ignored_from_an_unnamed_loopback_peer(tmp_path: Path) -> None:
    seen = address_seen(tmp_path, trusted=None)
    assert FORWARDED not in seen and "127.0.0.1" in seen, seen


def test_x_forwarded_for_is_believed_from_a_named_proxy(tmp_path: Path) -> None:
    seen = address_seen(tmp_path, trusted="127.0.0.1")
    assert FORWARDED in seen, seen


def test_a_proxy_in_another_network_does_not_make_loopback_trusted(tmp_path: Path) -> None:
    seen = address_seen(tmp_path, trusted="10.0.0.0/8")
    assert FORWARDED not in seen, seen


def test_behind_a_named_tls_proxy_the_csrf_cookie_is_secure(tmp_path: Path) -> None:
    """The CSRF visitor cookie (and HSTS) follow the scheme the named proxy reports; a
    client that merely claims TLS gets neither."""
    tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": FORWARDED}
    with running(tmp_path, trusted="127.0.0.1") as (base, _):
        proxied = httpx.get(f"{base}/signin", headers=tls)
    cookie = next(c for c in proxied.headers.get_list("set-cookie") if c.startswith("uh_csrf="))
    assert "secure" in cookie.lower().split("; ")
    assert "strict-transport-security" in proxied.headers
    with running(tmp_path, trusted=None) as (base, _):
        claimed = httpx.get(f"{base}/signin", headers=tls)
    cookie = next(c for c in claimed.headers.get_list("set-cookie") if c.startswith("uh_csrf="))
    assert "secure" not in cookie.lower().split("; ")
    assert "strict-transport-security" not in claimed.headers
