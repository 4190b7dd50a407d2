"""The shared offline queue (web/static/scan-queue.js) on the door scanner, in Chromium at
360 px: a queue written by the scanner before the module existed (items without a point)
is still synced after the upgrade, and a queued admission that lost to an earlier one on
the server is reported after the sync in the "scanned twice" list."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from service import clock
from service.checkin import services as checkin
from service.checkin.tables import Scan
from tests.browser.test_scanner_camera import open_door, ticket
from tests.browser.test_scanner_desk import open_scanner
from tests.browser.test_signin_phone import zh
from tests.conftest import ENGINE, Org, add_member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the browser tests run in the SQLite pass"),
]

# Puts items straight into the scanner's IndexedDB queue, as an older page left them.
QUEUE_ITEMS = """(items) => new Promise((resolve, reject) => {
  const open = indexedDB.open("unionhall-door", 1);
  open.onsuccess = () => {
    const tx = open.result.transaction("queue", "readwrite");
    for (const item of items) tx.objectStore("queue").put(item);
    tx.oncomplete = () => resolve(true);
    tx.onerror = () => reject(tx.error);
  };
  open.onerror = () => reject(open.error);
})"""


async def scan_of(client_id: str) -> dict[str, Any] | None:
    return await Scan.select().where(Scan.client_id == client_id).first().run()


async def test_a_queue_from_before_is_synced_and_a_lost_admission_reported(
    phone_page: Any, org: Org
) -> None:
    page = phone_page
    activity_id = await open_door(org)
    _, first_code = await ticket(org.worker_a1, activity_id)
    rider = await add_member("13800000006", "外卖骑手小李", "ent-a1", ["worker"], "food_delivery")
    _, second_code = await ticket(rider, activity_id)
    await open_scanner(page, org, activity_id)

    # The rider was let in at another phone a moment ago; this phone, offline, let them in
    # too, later. The other ticket waits in a queue item of the old shape (no point).
    now = clock.now()
    standing = await checkin.check_in(org.organiser_a, activity_id, second_code)
    assert standing.result == "admitted"
    old_item = {
        "activity_id": activity_id,
        "code": first_code,
        "client_id": "old-queue-0001",
        "scanned_at": (now - timedelta(minutes=2)).isoformat(),
        "gate": "",
        "local_result": "admitted",
        "name": "",
    }
    lost_item = {
        **old_item,
        "code": second_code,
        "client_id": "lost-queue-0001",
        "scanned_at": (now + timedelta(seconds=1)).isoformat(),
        "name": "外卖骑手小李",
        "point_type": "door",
        "point_id": activity_id,
    }
    await page.evaluate(QUEUE_ITEMS, [old_item, lost_item])
    # Another activity's item stays where it is.
    elsewhere = {**old_item, "activity_id": activity_id + 1000, "client_id": "elsewhere-0001"}
    await page.evaluate(QUEUE_ITEMS, [elsewhere])

    await page.reload()
    await expect(page.locator("body[data-door-ready='1']")).to_be_attached()
    badge = page.locator("#sync-badge")
    await expect(badge).to_be_hidden(timeout=15_000)

    synced = await scan_of("old-queue-0001")
    assert synced is not None and synced["result"] == "admitted"
    assert synced["scanned_at"] == now - timedelta(minutes=2)
    lost = await scan_of("lost-queue-0001")
    assert lost is not None and lost["result"] == "already_checked_in"
    assert await scan_of("elsewhere-0001") is None
    twice = page.locator("#twice-list li")
    await expect(twice).to_have_count(1)
    await expect(twice).to_contain_text("外卖骑手小李")
    await expect(page.locator("#count")).to_have_text(
        zh("%(admitted)s admitted of %(confirmed)s confirmed", admitted=2, confirmed=2)
    )
    left = await page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("unionhall-door", 1);
          open.onsuccess = () => {
            const request = open.result.transaction("queue").objectStore("queue").getAll();
            request.onsuccess = () => resolve(JSON.stringify(request.result));
          };
        })"""
    )
    assert [item["client_id"] for item in json.loads(left)] == ["elsewhere-0001"]
