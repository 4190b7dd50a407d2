"""The job-fair JSON API over HTTP: employers, booths, postings and booth scans; bad,
malformed, oversized, unauthorised and concurrent requests; OpenAPI lists the paths."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from service.activities import services as activities
from service.jobfairs.tables import Lead, Posting, StageScan
from tests.conftest import Org
from tests.http.activity_helpers import bearer, new_published, workers, zh
from tests.http.helpers import count, full_phones


async def fair(client: httpx.AsyncClient, org: Org) -> dict[str, Any]:
    """A published fair with one employer, its booth and one posting, through the API."""
    activity_id = await new_published(org, capacity=20)
    headers = await bearer(org.phones["organiser_a"])
    employer = await client.post(
        f"/api/v1/activities/{activity_id}/employers",
        json={
            "name": "顺达物流",
            "industry": "物流",
            "contact_name": "刘经理",
            "contact_phone": "13912345678",
        },
        headers=headers,
    )
    assert employer.status_code == 201, employer.text
    booth = await client.post(
        f"/api/v1/activities/{activity_id}/booths",
        json={"number": "A1", "employer_id": employer.json()["id"]},
        headers=headers,
    )
    assert booth.status_code == 201, booth.text
    posting = await client.post(
        f"/api/v1/activities/{activity_id}/postings",
        json={
            "employer_id": employer.json()["id"],
            "title": "仓库分拣员",
            "headcount": 10,
            "pay_min": 5000,
            "pay_max": 6500,
            "worker_groups": ["courier"],
        },
        headers=headers,
    )
    assert posting.status_code == 201, posting.text
    return {
        "activity_id": activity_id,
        "headers": headers,
        "employer": employer.json(),
        "booth": booth.json(),
        "posting": posting.json(),
    }


async def test_employer_phone_is_masked_and_bad_postings_are_refused(
    client: httpx.AsyncClient, org: Org
) -> None:
    made = await fair(client, org)
    listed = await client.get(
        f"/api/v1/activities/{made['activity_id']}/employers", headers=made["headers"]
    )
    assert listed.status_code == 200
    assert full_phones(listed.text) == []
    assert listed.json()[0]["contact_phone_masked"] == "139****5678"
    url = f"/api/v1/activities/{made['activity_id']}/postings"
    base = {
        "employer_id": made["employer"]["id"],
        "title": "司机",
        "headcount": 1,
        "pay_min": 6000,
        "pay_max": 8000,
    }
    zh_headers = {**made["headers"], "Accept-Language": "zh-CN"}
    for change, field in (({"pay_min": 9000}, "pay_min"), ({"headcount": 0}, "headcount")):
        response = await client.post(url, json={**base, **change}, headers=zh_headers)
        assert response.status_code == 400, response.text
        assert response.json()["field"] == field
    too_high = await client.post(url, json={**base, "pay_min": 9000}, headers=zh_headers)
    assert zh("The lowest pay cannot be above the highest.") in too_high.text
    malformed = await client.post(url, content=b"{not json", headers=made["headers"])
    assert malformed.status_code == 400
    oversized = await client.post(
        url, json={**base, "requirements": "很" * 5000}, headers=made["headers"]
    )
    assert oversized.status_code == 400
    assert await count(Posting) == 1
    edited = await client.put(
        f"/api/v1/postings/{made['posting']['id']}",
        json={**base, "title": "夜班司机"},
        headers=made["headers"],
    )
    assert edited.status_code == 200 and edited.json()["title"] == "夜班司机"


async def test_who_may_call_what(client: httpx.AsyncClient, org: Org) -> None:
    made = await fair(client, org)
    path = f"/api/v1/activities/{made['activity_id']}/employers"
    assert (await client.get(path)).status_code == 401
    worker = await bearer(org.phones["worker_a1"])
    assert (await client.get(path, headers=worker)).status_code == 403
    other = await bearer(org.phones["organiser_b"])
    assert (await client.get(path, headers=other)).status_code == 404
    report = f"/api/v1/activities/{made['activity_id']}/jobfair-report"
    assert (await client.get(report, headers=worker)).status_code == 403
    assert (await client.get(report, headers=made["headers"])).status_code == 200


async def test_booth_scans_single_batch_backwards_and_concurrent(
    client: httpx.AsyncClient, org: Org
) -> None:
    made = await fair(client, org)
    (person,) = await workers(1)
    registration, _ = await activities.register(person.actor, made["activity_id"])
    code = registration.ticket_code
    scan = {
        "booth_id": made["booth"]["id"],
        "code": code,
        "stage": "interview",
        "posting_id": made["posting"]["id"],
        "client_id": "api-scan-0001",
    }
    answers = await asyncio.gather(
        *(client.post("/api/v1/booth-scans", json=scan, headers=made["headers"]) for _ in range(4))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["scan_id"] for a in answers}) == 1
    body = answers[0].json()
    assert body["result"] == "recorded" and body["phone_masked"] == "137****0000"
    assert body["checked_in"] is False
    assert full_phones(answers[0].text) == []
    backwards = await client.post(
        "/api/v1/booth-scans",
        json={**scan, "stage": "consulted", "client_id": "api-scan-0002"},
        headers={**made["headers"], "Accept-Language": "zh-CN"},
    )
    assert backwards.status_code == 409 and backwards.json()["code"] == "stage_backwards"
    batch = await client.post(
        "/api/v1/booth-scans/batch",
        json={
            "booth_id": made["booth"]["id"],
            "scans": [
                {
                    "code": code,
                    "stage": "resume",
                    "client_id": "api-batch-001",
                    "scanned_at": "2020-01-01T08:00:00+08:00",
                },
                {"code": "JUNK", "stage": "intent", "client_id": "api-batch-002"},
                {"code": code, "stage": "intent", "client_id": "api-batch-003"},
            ],
        },
        headers=made["headers"],
    )
    assert batch.status_code == 200, batch.text
    assert [r["result"] for r in batch.json()["results"]] == [
        "superseded",
        "invalid_ticket",
        "recorded",
    ]
    assert await count(Lead) == 1
    assert await count(StageScan) == 3
    too_many = await client.post(
        "/api/v1/booth-scans/batch",
        json={
            "booth_id": made["booth"]["id"],
            "scans": [
                {"code": code, "stage": "intent", "client_id": f"many-{i:06d}"} for i in range(501)
            ],
        },
        headers=made["headers"],
    )
    assert too_many.status_code == 400
    worker = await bearer(person.phone)
    refused = await client.post(
        "/api/v1/booth-scans", json={**scan, "client_id": "api-scan-0009"}, headers=worker
    )
    assert refused.status_code == 403
    report = await client.get(
        f"/api/v1/activities/{made['activity_id']}/jobfair-report", headers=made["headers"]
    )
    assert report.json()["intent_or_above"] == 1
    assert report.json()["not_checked_in"] == 1


async def test_openapi_lists_the_job_fair_paths(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/activities/{activity_id}/employers",
        "/api/v1/activities/{activity_id}/booths",
        "/api/v1/activities/{activity_id}/postings",
        "/api/v1/booth-scans",
        "/api/v1/booth-scans/batch",
        "/api/v1/activities/{activity_id}/jobfair-report",
        "/api/v1/booths/{booth_id}/device-links",
        "/api/v1/booths/{booth_id}/device-links/revoke",
    ):
        assert path in paths, path


async def test_report_csv_carries_the_funnel_as_on_the_page(
    client: httpx.AsyncClient, org: Org
) -> None:
    made = await fair(client, org)
    (person,) = await workers(1)
    registration, _ = await activities.register(person.actor, made["activity_id"])
    await client.post(
        "/api/v1/booth-scans",
        json={
            "booth_id": made["booth"]["id"],
            "code": registration.ticket_code,
            "stage": "intent",
            "client_id": "csv-scan-0001",
        },
        headers=made["headers"],
    )
    exported = await client.get(
        f"/api/v1/activities/{made['activity_id']}/report.csv",
        headers={**made["headers"], "Accept-Language": "zh-CN"},
    )
    assert exported.status_code == 200, exported.text
    text = exported.content.decode("utf-8-sig")
    assert f"{zh('Workers at or beyond preliminary intent')},1" in text
    assert "顺达物流" in text and full_phones(text) == []


async def test_workers_read_open_postings_of_approved_employers(
    client: httpx.AsyncClient, org: Org
) -> None:
    made = await fair(client, org)
    hidden = await client.post(
        f"/api/v1/activities/{made['activity_id']}/employers",
        json={"name": "待审核单位", "approved": False},
        headers=made["headers"],
    )
    await client.post(
        f"/api/v1/activities/{made['activity_id']}/postings",
        json={
            "employer_id": hidden.json()["id"],
            "title": "未审核岗位",
            "headcount": 1,
            "pay_min": 1,
            "pay_max": 2,
        },
        headers=made["headers"],
    )
    worker = await bearer(org.phones["worker_a1"])
    seen = await client.get(f"/api/v1/activities/{made['activity_id']}/postings", headers=worker)
    assert seen.status_code == 200
    assert [p["title"] for p in seen.json()] == ["仓库分拣员"]
    organiser = await client.get(
        f"/api/v1/activities/{made['activity_id']}/postings", headers=made["headers"]
    )
    assert len(organiser.json()) == 2
