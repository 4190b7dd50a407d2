"""Background exports run by a real arq burst worker (as tests/tasks/test_worker.py runs
the heartbeat): queued over HTTP, written under data_dir/exports/, progress reaching
100 %, the file downloadable only by the member who asked, and the progress page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.orgs import services as orgs
from service.orgs.schemas import SYSTEM, MemberIn
from service.reports import exports
from service.reports.tables import ExportAudit
from tasks.worker import create_worker
from tests.conftest import Org, add_member
from tests.http.activity_helpers import bearer
from tests.http.helpers import full_phones
from tests.service.test_exports import csv_rows, door_fixture, xlsx_rows

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


async def run_jobs(queue: str, expected: int = 1) -> None:
    # The export alone: no reminder crons in this worker.
    worker = create_worker(burst=True, poll_delay=0.05, queue_name=queue, cron_jobs=[])
    try:
        assert await worker.run_check() == expected  # raises FailedJobs if a job failed
    finally:
        await worker.close()


async def start(
    client: httpx.AsyncClient, activity_id: int, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/activities/{activity_id}/registrations/export", json=body, headers=headers
    )
    assert response.status_code == 202, response.text
    return response.json()


async def test_a_job_writes_a_downloadable_file_with_progress_to_100(
    client: httpx.AsyncClient, org: Org, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    door = await door_fixture(org)
    monkeypatch.setattr(exports, "BATCH", 2)  # progress over three batches
    organiser = await bearer(org.phones["organiser_a"])
    job = await start(client, door.activity_id, organiser, format="xlsx")
    job_id = job["job_id"]
    assert job["status_url"] == f"/api/v1/exports/{job_id}"

    before = (await client.get(job["status_url"], headers=organiser)).json()
    assert before["status"] == "queued" and before["progress"] == 0
    assert before["download_url"] is None
    early = await client.get(f"{job['status_url']}/download", headers=organiser)
    assert early.status_code == 409

    seen: list[int] = []
    real_hset = exports.get_redis().hset

    async def spy(key: str, *args: Any, mapping: dict[str, Any] | None = None) -> Any:
        if mapping and "done" in mapping:
            seen.append(int(mapping["done"]))
        return await real_hset(key, *args, mapping=mapping)

    monkeypatch.setattr(exports.get_redis(), "hset", spy)
    await run_jobs(queue)
    monkeypatch.undo()
    assert seen == [0, 2, 4, 5, 5]  # start, each batch, done

    after = (await client.get(job["status_url"], headers=organiser)).json()
    assert after == {
        "job_id": job_id,
        "status": "done",
        "progress": 100,
        "done": 5,
        "total": 5,
        "download_url": f"/api/v1/exports/{job_id}/download",
        "message": None,
    }
    assert (exports.exports_dir() / f"{job_id}.xlsx").is_file()
    download = await client.get(after["download_url"], headers=organiser)
    assert download.status_code == 200
    rows = xlsx_rows(download.content)
    assert len(rows) == 6 and rows[0][0] == "报名编号"
    assert full_phones("\n".join(",".join(row) for row in rows)) == []
    # Only the member who asked: another organiser, even the admin, gets a 404.
    for phone in ("admin", "organiser_b"):
        other = await bearer(org.phones[phone])
        assert (await client.get(after["download_url"], headers=other)).status_code == 404
        assert (await client.get(job["status_url"], headers=other)).status_code == 404

    # The progress page: the whole page, then just the bar for htmx, with the link.
    page = await client.get(f"/organise/exports/{job_id}", headers=organiser)
    assert page.status_code == 200
    assert 'id="export-progress"' in page.text and "<html" in page.text
    assert after["download_url"] in page.text
    assert "hx-trigger" not in page.text.split('id="export-progress"')[1].split(">")[0]
    fragment = await client.get(
        f"/organise/exports/{job_id}",
        headers={**organiser, "HX-Request": "true", "HX-Target": "export-progress"},
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert after["download_url"] in fragment.text


async def test_progress_page_polls_while_queued(
    client: httpx.AsyncClient, org: Org, queue: str
) -> None:
    door = await door_fixture(org)
    organiser = await bearer(org.phones["organiser_a"])
    job = await start(client, door.activity_id, organiser, format="csv")
    page = await client.get(job["page_url"], headers=organiser)
    assert page.status_code == 200
    assert f'hx-get="/organise/exports/{job["job_id"]}"' in page.text
    assert 'hx-trigger="every 1s"' in page.text
    assert "<progress" in page.text
    other = await client.get(job["page_url"], headers=await bearer(org.phones["organiser_b"]))
    assert other.status_code == 404
    await run_jobs(queue)  # leave the queue empty


async def test_an_unmasked_job_is_audited_and_has_full_numbers(
    client: httpx.AsyncClient, org: Org, queue: str
) -> None:
    door = await door_fixture(org)
    admin = await bearer(org.phones["admin"])
    job = await start(
        client, door.activity_id, admin, format="csv", unmasked=True, reason="年度核对"
    )
    assert await ExportAudit.count().run() == 0  # written by the job, with its row count
    await run_jobs(queue)
    status = (await client.get(job["status_url"], headers=admin)).json()
    assert status["status"] == "done"
    download = await client.get(status["download_url"], headers=admin)
    assert download.headers["content-type"].startswith("text/csv")
    rows = csv_rows(download.content)
    assert sorted(row[2] for row in rows[1:]) == sorted(door.phones)
    audits = await ExportAudit.select().run()
    assert len(audits) == 1
    assert (audits[0]["member_id"], audits[0]["reason"], audits[0]["row_count"]) == (
        org.admin.member_id,
        "年度核对",
        5,
    )
    assert job["job_id"] in audits[0]["what"]


async def test_the_job_rechecks_who_asked(client: httpx.AsyncClient, org: Org, queue: str) -> None:
    """Roles can change between the request and the job: the job re-reads them."""
    door = await door_fixture(org)
    admin = await bearer(org.phones["admin"])
    job = await start(client, door.activity_id, admin, format="csv", unmasked=True, reason="核对")
    assert org.admin.member_id is not None
    # Another admin first: the federation's last admin cannot be demoted.
    await add_member("13912340009", "副管理员", "fed", ["admin"])
    await orgs.update_member(
        SYSTEM,
        org.admin.member_id,
        MemberIn(phone=org.phones["admin"], name="管理员", node="fed", roles=["organiser"]),
    )
    await run_jobs(queue)
    status = (await client.get(job["status_url"], headers=admin)).json()
    assert status["status"] == "failed"
    assert status["download_url"] is None
    assert status["message"] == "只有管理员可以导出完整手机号。"
    assert await ExportAudit.count().run() == 0
    assert not list(exports.exports_dir().glob(f"{job['job_id']}*"))
