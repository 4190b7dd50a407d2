"""A worker says "received" at a site (issue 14): over the API (bad, oversized,
unauthorised and concurrent requests) and through the plain page without JavaScript;
the report shows these apart from the teams' counts."""

from __future__ import annotations

import asyncio

import httpx

from service.heatrelief import services as relief
from service.tickets import tokens
from tests.conftest import Org, post_form, sign_in
from tests.http.activity_helpers import bearer
from tests.http.test_heatrelief_api import day, record

URL = "/api/v1/heat-relief/acknowledgements"


async def poster(org: Org, activity_id: int) -> str:
    site = (await relief.list_sites(org.organiser_a, activity_id))[0]
    return relief.poster_code(site)


async def test_a_worker_counts_once_a_day_and_the_report_keeps_it_apart(
    client: httpx.AsyncClient, org: Org
) -> None:
    setup = await day(client, org)
    code = await poster(org, setup["activity_id"])
    worker = await bearer(org.phones["worker_a1"])
    answers = await asyncio.gather(
        *(client.post(URL, json={"code": code}, headers=worker) for _ in range(6))
    )
    assert all(a.status_code == 200 for a in answers)
    results = sorted(a.json()["result"] for a in answers)
    assert results == ["already_received"] * 5 + ["received"]
    assert "城关镇一号工地" in answers[0].json()["message"]  # zh-CN by default

    # The team's own count is not changed by it, nor the other way round.
    scans = {"scans": [record(setup["delivery_id"], setup["item_id"], 6)]}
    await client.post("/api/v1/deliveries/batch", json=scans, headers=setup["member"])
    report = (
        await client.get(
            f"/api/v1/activities/{setup['activity_id']}/heat-relief-report",
            headers=setup["boss"],
        )
    ).json()
    assert report["reached"] == 30 and report["acknowledged"] == 1
    assert report["acknowledged_by_site"] == {"城关镇一号工地": 1}


async def test_bad_codes_and_requests_are_refused(client: httpx.AsyncClient, org: Org) -> None:
    setup = await day(client, org)
    code = await poster(org, setup["activity_id"])
    worker = await bearer(org.phones["worker_a1"])
    assert (await client.post(URL, json={"code": code})).status_code == 401
    for body in ({}, {"code": ""}, {"code": "X" * 201}, {"code": code, "surprise": 1}):
        response = await client.post(URL, json=body, headers=worker)
        assert response.status_code == 400, body
    for bad, result in (
        (code[:-4] + "AAAA", "invalid_code"),
        (tokens.ticket_code(1, setup["activity_id"], 0), "wrong_code_type"),
        ("\x00\ud7ff<script>", "invalid_code"),
    ):
        response = await client.post(URL, json={"code": bad}, headers=worker)
        assert response.status_code == 200 and response.json()["result"] == result, bad
    report = (
        await client.get(
            f"/api/v1/activities/{setup['activity_id']}/heat-relief-report",
            headers=setup["boss"],
        )
    ).json()
    assert report["acknowledged"] == 0
    schema = (await client.get("/schema/openapi.json")).json()
    assert URL in schema["paths"]


async def test_the_page_works_without_javascript(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    setup = await day(client, org)
    site = (await relief.list_sites(org.organiser_a, setup["activity_id"]))[0]
    anonymous = await client.get("/heat-relief/received", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/signin" in anonymous.headers["location"]
    await sign_in(client, org.phones["worker_a1"])
    activity = await client.get(f"/activities/{setup['activity_id']}")
    assert 'href="/heat-relief/received"' in activity.text  # reachable from the campaign
    form = await client.get("/heat-relief/received", params={"code": site.code})
    assert form.status_code == 200 and f'value="{site.code}"' in form.text
    wrong = await post_form(client, "/heat-relief/received", {"code": "HR0000000000"})
    assert wrong.status_code == 422 and "这不是站点海报码" in wrong.text
    empty = await post_form(client, "/heat-relief/received", {"code": ""})
    assert empty.status_code == 400 and 'id="code-error"' in empty.text
    done = await post_form(client, "/heat-relief/received", {"code": site.code.lower()})
    assert done.status_code == 200 and "谢谢" in done.text and site.name in done.text
    again = await post_form(client, "/heat-relief/received", {"code": site.code})
    assert "已经记录过" in again.text
    assert await relief.acknowledgements_by_site(setup["activity_id"]) == {site.id: 1}
