"""Render web/static/icon.svg to the PNG icons installers ask for (the manifest's 192 and
512, a maskable 512 whose mark stays inside the safe circle, and a 180 apple-touch-icon).

Run by hand when icon.svg changes: `.venv/bin/python web/make_icons.py`. It drives Debian's
chromium through Playwright (already needed by the browser tests), so nothing new is
installed; the PNG files are committed and nothing renders at run time."""

from __future__ import annotations

import asyncio
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
CHROMIUM = "/usr/bin/chromium"
BACKGROUND = "#b3261e"
# (file, size, share of the square the mark fills): a maskable icon may be cut to a
# circle of 80 % of its width, so its mark is drawn smaller on a full-bleed background.
ICONS = (
    ("icon-192.png", 192, 1.0),
    ("icon-512.png", 512, 1.0),
    ("icon-maskable-512.png", 512, 0.7),
    ("apple-touch-icon.png", 180, 1.0),
)


def page_for(svg: str, size: int, share: float) -> str:
    mark = round(size * share)
    # Full-bleed colour only where the mark is inset (maskable); else the SVG's own
    # rounded corners stay transparent.
    background = BACKGROUND if share < 1 else "transparent"
    return (
        "<!doctype html><html><body style='margin:0;background:transparent'>"
        f"<div style='width:{size}px;height:{size}px;background:{background};display:flex;"
        "align-items:center;justify-content:center'>"
        f"<img style='width:{mark}px;height:{mark}px' src='data:image/svg+xml;utf8,"
        f"{svg.replace(chr(39), '%27').replace('#', '%23')}'></div></body></html>"
    )


async def main() -> None:
    from playwright.async_api import async_playwright

    svg = (STATIC / "icon.svg").read_text().strip()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        for name, size, share in ICONS:
            page = await browser.new_page(viewport={"width": size, "height": size})
            await page.set_content(page_for(svg, size, share))
            await page.screenshot(path=str(STATIC / name), omit_background=True)
            await page.close()
            print("wrote", STATIC / name)
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
