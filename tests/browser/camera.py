"""A fake camera for Chromium: a ticket's QR drawn into a YUV4MPEG2 (.y4m) video that
`--use-file-for-fake-video-capture` plays in a loop, and a browser launched with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import qrcode
import qrcode.util
from qrcode.constants import ERROR_CORRECT_M

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

WIDTH, HEIGHT = 640, 480
WHITE, BLACK = 235, 16  # studio-range luma, as cameras give it


def qr_matrix(code: str) -> list[list[bool]]:
    """The code's modules (with the quiet zone), as the ticket page draws them."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(qrcode.util.QRData(code, mode=qrcode.util.MODE_ALPHA_NUM))
    qr.make(fit=True)
    return qr.get_matrix()


def luma_plane(code: str, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A grey frame with the QR centred on white, as big as fits with a margin."""
    matrix = qr_matrix(code)
    size = len(matrix)
    scale = (min(width, height) - 40) // size
    side = size * scale
    left, top = (width - side) // 2, (height - side) // 2
    rows = []
    background = bytes([200]) * width
    for y in range(height):
        qy = (y - top) // scale
        if not 0 <= y - top < side:
            rows.append(background)
            continue
        row = bytearray(background)
        line = matrix[qy]
        for qx in range(size):
            value = BLACK if line[qx] else WHITE
            start = left + qx * scale
            row[start : start + scale] = bytes([value]) * scale
        rows.append(bytes(row))
    return b"".join(rows)


def write_y4m(path: Path, code: str, *, frames: int = 10, fps: int = 10) -> Path:
    """A 4:2:0 video of `frames` identical frames showing the code's QR."""
    luma = luma_plane(code)
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(luma)
            out.write(chroma)
            out.write(chroma)
    return path


@asynccontextmanager
async def camera_browser(video: Path, *, allow: bool = True) -> AsyncIterator[Any]:
    """Chromium whose camera films `video`. The permission prompt is answered yes, or with
    `allow=False` no (getUserMedia then fails with NotAllowedError, as when a person taps
    "Block" or the site's camera setting is off)."""
    from playwright.async_api import async_playwright

    answer = "--use-fake-ui-for-media-stream" if allow else "--deny-permission-prompts"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                answer,
                f"--use-file-for-fake-video-capture={video}",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            yield browser
        finally:
            await browser.close()
