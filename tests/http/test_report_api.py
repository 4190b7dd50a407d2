"""The report API over HTTP: the JSON is the service's result, scoped and masked, with
clear zh-CN messages for bad input. The figures themselves are checked by hand in
tests/service/test_reports.py, on the same scenario."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import msgspec

from service import clock
from service.reports import services as reports
from tests.conftest import Org
from tests.http.activity_helpers import bearer
from tests.http.helpers import full_phones, zh
from tests.service.test_reports import (
    JULY_1,
    MAY_1,
    REPORT,
    SHANGHAI,
    Scenario,
    phone_of,
    scenario,
)

ISSUE_KEYS = {
    "registered",
    "confirmed",
    "waitlisted",
    "cancelled",
    "checked_in",
    "walk_ins",
    "no_show_rate",
    "by_node",
    "by_group",
}


def as_json(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))


async def get(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: str
) -> httpx.Response:
    with clock.frozen_at(REPORT):
        return await client.get(url, headers=headers, params=params)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    payload = response.json()
    return response.status_code, payload["code"], payload["message"]


async def setup(org: Org) -> tuple[Scenario, dict[str, dict[str, str]]]:
    s = await scenario(org)
    tokens = {name: await bearer(phone) for name, phone in org.phones.items()}
    tokens["m0"] = await bearer(phone_of(0))
    return s, tokens


# --- one activity ---------------------------------------------------------------------


async def test_activity_report_json_is_the_service_result(
    org: Org, client: httpx.AsyncClient
) -> None:
    s, tokens = await setup(org)
    for who, actor, activity_id in (
        ("organiser_a", org.organiser_a, s.a1),
        ("organiser_a", org.organiser_a, s.a2),
        ("organiser_a", org.organiser_a, s.a3),
        ("organiser_b", org.organiser_b, s.a4),
        ("admin", org.admin, s.a1),
    ):
        response = await get(client, f"/api/v1/activities/{activity_id}/report", tokens[who])
        assert response.status_code == 200, response.text
        payload = response.json()
        with clock.frozen_at(REPORT):
            expected = await reports.activity_report(actor, activity_id)
        assert payload == as_json(expected)
        assert set(payload) >= ISSUE_KEYS
        assert full_phones(response.text) == []
    # Spot checks of the JSON itself (A1, worked out in the service tests).
    response = await get(client, f"/api/v1/activities/{s.a1}/report", tokens["organiser_a"])
    a1 = response.json()
    assert (a1["registered"], a1["confirmed"], a1["waitlisted"], a1["cancelled"]) == (11, 8, 1, 2)
    assert (a1["checked_in"], a1["walk_ins"], a1["no_shows"], a1["no_show_rate"]) == (6, 2, 2, 0.25)
    assert a1["arrivals"][0] == {"start": "2026-05-20T00:30:00Z", "checked_in": 1}
    assert a1["by_node"][0] == {
        "code": "fed",
        "name": "测试县总工会",
        "depth": 0,
        "confirmed": 8,
        "checked_in": 6,
    }
    assert a1["by_group"][0] == {"group": "courier", "confirmed": 2, "checked_in": 2}


async def test_activity_report_scope_over_http(org: Org, client: httpx.AsyncClient) -> None:
    s, tokens = await setup(org)
    for who, activity_id, status, message in (
        ("organiser_b", s.a1, 404, zh("There is no such activity.")),
        ("organiser_a", s.a4, 404, zh("There is no such activity.")),
        ("worker_a1", s.a1, 403, zh("Reports are for organisers.")),
        ("staff_a", s.a1, 403, zh("Reports are for organisers.")),
    ):
        response = await get(client, f"/api/v1/activities/{activity_id}/report", tokens[who])
        code = "not_found" if status == 404 else "forbidden"
        assert error_of(response) == (status, code, message), who
    missing = await get(client, f"/api/v1/activities/{s.a1 + 1000}/report", tokens["admin"])
    assert missing.status_code == 404
    anonymous = await get(client, f"/api/v1/activities/{s.a1}/report", {})
    assert anonymous.status_code == 401


# --- across activities ----------------------------------------------------------------


async def test_summary_json_is_the_service_result(org: Org, client: httpx.AsyncClient) -> None:
    _, tokens = await setup(org)
    # Dates are local days and `to` is inclusive: 2026-06-30 runs to 07-01 00:00 local.
    for who, actor, params, arguments in (
        ("organiser_a", org.organiser_a, {}, {}),
        (
            "organiser_a",
            org.organiser_a,
            {"from": "2026-05-01", "to": "2026-06-30"},
            {"date_from": MAY_1, "date_to": JULY_1},
        ),
        (
            "admin",
            org.admin,
            {"node": "fed", "from": "2026-05-01", "to": "2026-06-30", "kind": "job_fair"},
            {"node_code": "fed", "date_from": MAY_1, "date_to": JULY_1, "kind": "job_fair"},
        ),
        (
            "admin",
            org.admin,
            {"from": "2026-05-01", "to": "2026-06-30", "group": "courier"},
            {"date_from": MAY_1, "date_to": JULY_1, "group": "courier"},
        ),
        (
            "organiser_a",
            org.organiser_a,
            {"node": "ent-a1", "from": "2026-05-01", "to": "2026-06-30"},
            {"node_code": "ent-a1", "date_from": MAY_1, "date_to": JULY_1},
        ),
    ):
        response = await get(client, "/api/v1/reports/summary", tokens[who], **params)
        assert response.status_code == 200, response.text
        with clock.frozen_at(REPORT):
            expected = await reports.summary(actor, **arguments)
        assert response.json() == as_json(expected), params
        assert full_phones(response.text) == []
    response = await get(
        client,
        "/api/v1/reports/summary",
        tokens["admin"],
        **{"from": "2026-05-01", "to": "2026-06-30"},
    )
    payload = response.json()
    assert payload["date_from"] == "2026-05-01T00:00:00+08:00"
    assert payload["date_to"] == "2026-07-01T00:00:00+08:00"
    assert (payload["activities_held"], payload["members_reached"]) == (4, 7)
    assert (payload["no_shows"], payload["no_show_rate"], payload["reach_share"]) == (
        3,
        0.2727,
        0.4118,
    )
    assert [node["code"] for node in payload["top_nodes"]] == ["union-b", "union-a"]


async def test_summary_accepts_dates_and_timestamps(org: Org, client: httpx.AsyncClient) -> None:
    _, tokens = await setup(org)

    async def held(**params: str) -> int:
        response = await get(client, "/api/v1/reports/summary", tokens["admin"], **params)
        assert response.status_code == 200, response.text
        return int(response.json()["activities_held"])

    # A1 starts 2026-05-20 09:00 local: a one-day range of that date holds it.
    assert await held(**{"from": "2026-05-20", "to": "2026-05-20"}) == 1
    assert await held(**{"from": "2026-05-21", "to": "2026-05-21"}) == 0
    # A2 starts 05-31 23:30 UTC, which is 06-01 07:30 local: June by the local calendar.
    assert await held(**{"from": "2026-06-01", "to": "2026-06-20"}) == 2  # A2, A3
    # Timestamps are taken as they are, and `to` is then exclusive (A3 starts 01:00 UTC).
    assert await held(**{"from": "2026-06-01T00:00:00Z", "to": "2026-06-20T01:00:00Z"}) == 0
    assert await held(**{"from": "2026-06-01T00:00:00Z", "to": "2026-06-20T01:01:00Z"}) == 1
    assert (
        await held(**{"from": "2026-06-01T00:00:00+08:00", "to": "2026-06-20T09:01:00+08:00"}) == 2
    )
    # A timestamp without a zone is local time.
    assert await held(**{"from": "2026-05-20T09:00:00", "to": "2026-05-20T09:01:00"}) == 1
    response = await get(
        client,
        "/api/v1/reports/summary",
        tokens["admin"],
        **{"from": "2026-05-20T09:00:00", "to": "2026-05-20"},
    )
    payload = response.json()
    assert datetime.fromisoformat(payload["date_from"]) == datetime(2026, 5, 20, 9, tzinfo=SHANGHAI)
    assert datetime.fromisoformat(payload["date_to"]) == datetime(2026, 5, 21, tzinfo=SHANGHAI)


async def test_summary_bad_input_over_http(org: Org, client: httpx.AsyncClient) -> None:
    _, tokens = await setup(org)
    for who, params, status, code, message, field in (
        (
            "admin",
            {"from": "2026-06-30", "to": "2026-05-01"},
            400,
            "validation_error",
            zh("The end of the range must be after its start."),
            "to",
        ),
        (
            "admin",
            {"from": "2020-01-01", "to": "2026-01-01"},
            400,
            "validation_error",
            zh("Choose a range of at most 5 years."),
            "from",
        ),
        (
            "admin",
            {"from": "yesterday"},
            400,
            "validation_error",
            zh("Enter a date such as 2026-05-01."),
            "from",
        ),
        (
            "admin",
            {"to": "2026-13-01"},
            400,
            "validation_error",
            zh("Enter a date such as 2026-05-01."),
            "to",
        ),
        (
            "admin",
            {"node": "nowhere"},
            400,
            "unknown_node",
            zh("There is no organisation with the code %(code)s.", code="nowhere"),
            "node",
        ),
        (
            "admin",
            {"kind": "party"},
            400,
            "validation_error",
            zh("Choose an activity kind from the list."),
            "kind",
        ),
        (
            "admin",
            {"group": "astronaut"},
            400,
            "validation_error",
            zh("Choose a worker group from the list."),
            "group",
        ),
        (
            "organiser_a",
            {"node": "union-b"},
            403,
            "forbidden",
            zh("This organisation is outside your area."),
            None,
        ),
        (
            "organiser_b",
            {"node": "fed"},
            403,
            "forbidden",
            zh("This organisation is outside your area."),
            None,
        ),
        ("worker_a1", {}, 403, "forbidden", zh("Reports are for organisers."), None),
        ("staff_a", {}, 403, "forbidden", zh("Reports are for organisers."), None),
    ):
        response = await get(client, "/api/v1/reports/summary", tokens[who], **params)
        assert error_of(response) == (status, code, message), (who, params)
        assert response.json().get("field") == field, (who, params)
    anonymous = await get(client, "/api/v1/reports/summary", {})
    assert anonymous.status_code == 401


# --- one member -----------------------------------------------------------------------


async def test_history_json_is_the_service_result_and_masked(
    org: Org, client: httpx.AsyncClient
) -> None:
    s, tokens = await setup(org)
    m0, m9 = s.m[0].member_id, s.m[9].member_id
    for who, actor, url, member_id in (
        ("m0", s.m[0], "/api/v1/me/history", None),
        ("m0", s.m[0], f"/api/v1/members/{m0}/history", m0),
        ("organiser_a", org.organiser_a, f"/api/v1/members/{m0}/history", m0),
        ("organiser_b", org.organiser_b, f"/api/v1/members/{m9}/history", m9),
        ("admin", org.admin, f"/api/v1/members/{m9}/history", m9),
        ("worker_a1", org.worker_a1, "/api/v1/me/history", None),
    ):
        response = await get(client, url, tokens[who])
        assert response.status_code == 200, response.text
        with clock.frozen_at(REPORT):
            expected = await reports.member_history(actor, member_id)
        assert response.json() == as_json(expected), (who, url)
        # Only the masked phone, even on the member's own history.
        assert full_phones(response.text) == [], (who, url)
        assert "phone" not in response.json()
    mine = (await get(client, "/api/v1/me/history", tokens["m0"])).json()
    assert mine["phone_masked"] == "139****0000"
    assert (mine["attended"], mine["confirmed_ended"], mine["attendance_rate"]) == (2, 2, 1.0)
    assert [item["activity_id"] for item in mine["items"]] == [s.a5, s.a2, s.a4, s.a1]
    assert mine["items"][-1]["checked_in_at"] == "2026-05-20T00:40:00Z"


async def test_history_scope_over_http(org: Org, client: httpx.AsyncClient) -> None:
    s, tokens = await setup(org)
    m0, m9 = s.m[0].member_id, s.m[9].member_id
    assert m0 is not None
    not_found = zh("No such member in your organisations.")
    for who, member_id, status in (
        ("organiser_b", m0, 404),
        ("organiser_a", m9, 404),
        ("organiser_a", m0 + 1000, 404),
        ("worker_a1", m0, 403),
    ):
        response = await get(client, f"/api/v1/members/{member_id}/history", tokens[who])
        assert response.status_code == status, (who, member_id)
        if status == 404:
            assert error_of(response) == (404, "not_found", not_found)
    anonymous = await get(client, "/api/v1/me/history", {})
    assert anonymous.status_code == 401
