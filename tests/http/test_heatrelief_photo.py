"""A delivery's optional photo (issue 14): a team member sends one from "today's
deliveries" (a plain multipart form); it is checked to be an image, stored shrunk to a
1280 px JPEG under the data dir without its metadata, and shown to the organiser. A file
that is not an image, or is over 5 MB, gets a clear 400/413 and nothing is stored."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from service.heatrelief import services as relief
from service.heatrelief.tables import DeliveryPhoto
from tests.conftest import Org, csrf_token, sign_in
from tests.http.helpers import count, new_client
from tests.http.test_heatrelief_api import day, record


def picture(width: int, height: int, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, kind)
    return out.getvalue()


async def send(client: httpx.AsyncClient, delivery_id: int, raw: bytes, name: str) -> Any:
    return await client.post(
        f"/heat-relief/deliveries/{delivery_id}/photo",
        data={"_csrf_token": csrf_token(client)},
        files={"photo": (name, raw, "image/png")},
        follow_redirects=False,
    )


def stored_files() -> list[Any]:
    folder = relief._photos_dir()
    return sorted(folder.iterdir())


async def test_a_photo_is_checked_shrunk_and_shown_to_the_organiser(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    setup = await day(client, org)
    delivery_id = setup["delivery_id"]
    scans = {"scans": [record(delivery_id, setup["item_id"], 6)]}
    await client.post("/api/v1/deliveries/batch", json=scans, headers=setup["member"])
    before = stored_files()
    await sign_in(client, "13900000001")

    # Refused, nothing stored: not an image, a truncated image, over 5 MB.
    not_image = await send(client, delivery_id, b"%PDF-1.7 not a photo", "a.png")
    assert not_image.status_code == 400 and "不是照片" in not_image.text
    truncated = await send(client, delivery_id, picture(300, 200)[:200], "b.png")
    assert truncated.status_code == 400
    huge = await send(client, delivery_id, b"\x89PNG" + b"0" * (5 * 1024 * 1024), "c.png")
    assert huge.status_code == 413 and "5 MB" in huge.text
    assert await count(DeliveryPhoto) == 0 and stored_files() == before

    # A real 4000 × 3000 photo: kept as a JPEG of 1280 × 960.
    done = await send(client, delivery_id, picture(4000, 3000), "site.png")
    assert done.status_code in (302, 303)
    rows = await DeliveryPhoto.select().run()
    assert [(r["width"], r["height"]) for r in rows] == [(1280, 960)]
    kept = relief._photos_dir() / rows[0]["file"]
    with Image.open(kept) as image:
        assert image.format == "JPEG" and image.size == (1280, 960)
    today = await client.get("/heat-relief/today")
    assert f'href="/heat-relief/deliveries/{delivery_id}/photo"' in today.text

    # A second photo replaces the first (its file is gone too).
    await send(client, delivery_id, picture(800, 600, "JPEG"), "again.jpg")
    assert await count(DeliveryPhoto) == 1 and not kept.exists()

    # Another worker may neither send nor see it; the organiser sees it from the plan.
    async with new_client(app) as stranger:
        await sign_in(stranger, org.phones["worker_a1"])
        refused = await send(stranger, delivery_id, picture(100, 100), "x.png")
        assert refused.status_code == 403
        assert (
            await stranger.get(f"/heat-relief/deliveries/{delivery_id}/photo")
        ).status_code == 403
    async with new_client(app) as boss:
        await sign_in(boss, org.phones["organiser_a"])
        plan = await boss.get(f"/organise/activities/{setup['activity_id']}/heat-relief")
        assert f'href="/heat-relief/deliveries/{delivery_id}/photo"' in plan.text
        shown = await boss.get(f"/heat-relief/deliveries/{delivery_id}/photo")
        assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
        assert shown.content[:3] == b"\xff\xd8\xff"


def test_shrinking_refuses_a_decompression_bomb_and_drops_metadata() -> None:
    import pytest

    from service.errors import DomainError

    with pytest.raises(DomainError):
        relief.shrink_photo(picture(1, 1)[:-20])
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")  # 100 Mpx in a few KB
    with pytest.raises(DomainError) as refused:
        relief.shrink_photo(bomb.getvalue())
    assert refused.value.status_code == 400
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    tagged = io.BytesIO()
    Image.new("RGB", (50, 40)).save(tagged, "JPEG", exif=exif)
    jpeg, width, height = relief.shrink_photo(tagged.getvalue())
    with Image.open(io.BytesIO(jpeg)) as image:
        assert (width, height) == (50, 40) and not image.getexif()
