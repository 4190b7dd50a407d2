"""The printed site poster decodes with an ordinary QR reader: the posters page rendered by
Chromium at A4 print size, then read by zbar (`zbarimg`, installed by .ci/run), gives back
exactly the signed site code the server verifies."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from service import signing
from service.heatrelief import services as relief
from service.heatrelief.schemas import SiteIn
from tests.browser.test_signin_phone import sign_in
from tests.conftest import ENGINE, Org
from tests.http.test_heatrelief_api import campaign

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
    # make test says so at the end; CI installs zbar and requires it (tests/run_suite.py).
    pytest.mark.skipif(
        os.environ.get("UNIONHALL_TEST_NO_ZBAR") == "1", reason="zbar (zbarimg) is not installed"
    ),
]


def read_qr(picture: Path) -> str:
    """What an ordinary QR reader (zbar) reads in a picture."""
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbarimg is missing: .ci/run installs zbar-tools"
    result = subprocess.run(
        [zbarimg, "--quiet", "--raw", str(picture)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


async def test_the_printed_poster_decodes_to_the_signed_site_code(
    phone_page: Any, org: Org, tmp_path: Path
) -> None:
    activity_id = await campaign(org)
    site = await relief.create_site(
        org.organiser_a,
        activity_id,
        SiteIn(name="城南一号工地", kind="construction", node="ent-a1"),
    )
    page = phone_page
    await page.goto("/")
    await sign_in(page, org.phones["organiser_a"])
    await page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    await page.goto(f"/organise/activities/{activity_id}/posters?site={site.id}")
    picture = tmp_path / "poster.png"
    await page.locator(".poster").first.screenshot(path=str(picture))

    decoded = await asyncio.to_thread(read_qr, picture)
    assert decoded == relief.poster_code(site)
    assert signing.verify(decoded, "site_poster").fields["site_id"] == site.id
