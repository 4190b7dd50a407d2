"""Who may do what: every page and API route × every role, phone masking, API tokens,
API validation errors, the schema, health and not-found responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest

from service import clock
from service.accounts.services import create_api_token
from service.activities import services as activities
from service.checkin import services as checkin
from service.checkin.schemas import DoorSettingsIn
from service.checkin.tables import CheckinSettings, Scan
from service.orgs.tables import Member, Node
from service.tickets.tables import TicketState
from tests.conftest import Org, add_member, post_form, sign_in
from tests.http.activity_helpers import new_published
from tests.http.helpers import (
    count,
    csrf_headers,
    full_phones,
    lang_of,
    zh,
)

ROLES = ("anonymous", "worker", "staff", "other_organiser", "organiser", "admin")
ROLE_MEMBER = {
    "worker": "worker_a1",
    "staff": "staff_a",
    "other_organiser": "organiser_b",  # organiser of union-b: union-a is out of their reach
    "organiser": "organiser_a",
    "admin": "admin",
}
NEW_PHONE = "13900001111"

SIGNIN = "signin"  # a page sends the visitor to /signin
SAVED = "saved"  # a form did its work and redirects onwards (not to /signin)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {own}: worker_a1 (union-a subtree); {other}: organiser_b (union-b)
    # Door routes: {activity} (union-a's, door open, staff_a on its door), {registration}
    # (worker_a1's confirmed place there), {scan} (a standing admission of another worker),
    # in the path or as a JSON value.
    expected: tuple[Any, ...]  # one per ROLES entry
    form: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    written: Callable[[], Any] | None = field(default=None, compare=False)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


async def _new_member_written() -> bool:
    return await count(Member, Member.phone == NEW_PHONE) == 1


async def _member_renamed() -> bool:
    return await count(Member, Member.name == "改过的名字") == 1


async def _node_written() -> bool:
    return await count(Node, Node.code == "ent-a9") == 1


async def _admission_recorded() -> bool:
    return await count(Scan, (Scan.result == "admitted") & (Scan.client_id == "matrix-0001")) == 1


async def _admission_undone() -> bool:
    return await count(Scan, Scan.undone_at.is_not_null()) == 1


async def _ticket_reissued() -> bool:
    return await count(TicketState) == 1


async def _gates_saved() -> bool:
    return await count(CheckinSettings, CheckinSettings.gates == "东门") == 1


NEW_MEMBER = {
    "phone": NEW_PHONE,
    "name": "新会员",
    "node": "ent-a1",
    "group": "courier",
    "roles": ["worker"],
}
RENAMED = {**NEW_MEMBER, "phone": "", "name": "改过的名字"}

ROUTES: dict[str, Route] = {
    # ---------------------------------------- anon    worker staff other_org organiser admin
    "page members": Route("GET", "/admin/members", (SIGNIN, 403, 403, 200, 200, 200)),
    "page new member": Route("GET", "/admin/members/new", (SIGNIN, 403, 403, 403, 403, 200)),
    "page create member": Route(
        "POST",
        "/admin/members",
        (SIGNIN, 403, 403, 403, 403, SAVED),
        form=NEW_MEMBER,
        written=_new_member_written,
    ),
    "page member in union-a": Route(
        "GET", "/admin/members/{own}", (SIGNIN, 403, 403, 404, 200, 200)
    ),
    "page member in union-b": Route(
        "GET", "/admin/members/{other}", (SIGNIN, 403, 403, 200, 404, 200)
    ),
    "page update member": Route(
        "POST",
        "/admin/members/{own}",
        (SIGNIN, 403, 403, 403, 403, SAVED),
        form={**RENAMED, "phone": ""},
        written=_member_renamed,
    ),
    "page nodes": Route("GET", "/admin/nodes", (SIGNIN, 403, 403, 200, 200, 200)),
    "page create node": Route(
        "POST",
        "/admin/nodes",
        (SIGNIN, 403, 403, 403, 403, SAVED),
        form={"code": "ent-a9", "name": "甲九网点", "kind": "enterprise", "parent": "union-a"},
        written=_node_written,
    ),
    "page profile": Route("GET", "/profile", (SIGNIN, 200, 200, 200, 200, 200)),
    "api me": Route("GET", "/api/v1/me", (401, 200, 200, 200, 200, 200)),
    "api nodes": Route("GET", "/api/v1/nodes", (401, 200, 200, 200, 200, 200)),
    "api members": Route("GET", "/api/v1/members", (401, 403, 403, 200, 200, 200)),
    "api member in union-a": Route("GET", "/api/v1/members/{own}", (401, 403, 403, 404, 200, 200)),
    "api member in union-b": Route(
        "GET", "/api/v1/members/{other}", (401, 403, 403, 200, 404, 200)
    ),
    "api create member": Route(
        "POST",
        "/api/v1/members",
        (401, 403, 403, 403, 403, 201),
        json=NEW_MEMBER,
        written=_new_member_written,
    ),
    "api update member": Route(
        "PUT",
        "/api/v1/members/{own}",
        (401, 403, 403, 403, 403, 200),
        json={**RENAMED, "phone": "13800000005"},
        written=_member_renamed,
    ),
    # ---------------------------------------- anon    worker staff other_org organiser admin
    # Public keys only: a scanner verifies codes offline with them.
    "api ticket keys": Route("GET", "/api/v1/ticket-keys", (200, 200, 200, 200, 200, 200)),
    "api revocations": Route(
        "GET", "/api/v1/revocations?activity_id={activity}", (401, 403, 200, 403, 200, 200)
    ),
    # The QR is for its holder's eyes only (an organiser seeing it could walk in with it).
    "api ticket qr": Route(
        "GET", "/api/v1/registrations/{registration}/qr.svg", (401, 200, 404, 404, 404, 404)
    ),
    "api reissue ticket": Route(
        "POST",
        "/api/v1/registrations/{registration}/reissue",
        (401, 200, 404, 404, 200, 200),
        json={},
        written=_ticket_reissued,
    ),
    "api check in": Route(
        "POST",
        "/api/v1/checkins",
        (401, 403, 200, 403, 200, 200),
        json={"activity_id": "{activity}", "code": "NOT-A-TICKET"},
    ),
    "api check-in batch": Route(
        "POST",
        "/api/v1/checkins/batch",
        (401, 403, 200, 403, 200, 200),
        json={"activity_id": "{activity}", "scans": []},
    ),
    "api manual admission": Route(
        "POST",
        "/api/v1/checkins/manual",
        (401, 403, 200, 403, 200, 200),
        json={
            "activity_id": "{activity}",
            "registration_id": "{registration}",
            "client_id": "matrix-0001",
        },
        written=_admission_recorded,
    ),
    "api walk-in": Route(
        "POST",
        "/api/v1/checkins/walk-in",
        (401, 403, 200, 403, 200, 200),
        json={"activity_id": "{activity}", "phone": NEW_PHONE, "name": "新会员"},
        written=_new_member_written,
    ),
    "api undo admission": Route(
        "POST",
        "/api/v1/checkins/{scan}/undo",
        (401, 403, 200, 403, 200, 200),
        json={"reason": "扫错了"},
        written=_admission_undone,
    ),
    "api roster": Route(
        "GET", "/api/v1/activities/{activity}/roster", (401, 403, 200, 403, 200, 200)
    ),
    "api door": Route("GET", "/api/v1/activities/{activity}/door", (401, 403, 200, 403, 200, 200)),
    "api door search": Route(
        "GET", "/api/v1/activities/{activity}/door/search?q=0005", (401, 403, 200, 403, 200, 200)
    ),
    "api door recent": Route(
        "GET", "/api/v1/activities/{activity}/door/recent", (401, 403, 200, 403, 200, 200)
    ),
    # Setting up the door is the organisers' (another union's organiser: no such activity).
    "api door settings": Route(
        "PUT",
        "/api/v1/activities/{activity}/door",
        (401, 403, 403, 404, 200, 200),
        json={"gates": ["东门"]},
        written=_gates_saved,
    ),
}

CASES = [
    pytest.param(name, role, route.expected[index], id=f"{name} as {role}")
    for name, route in ROUTES.items()
    for index, role in enumerate(ROLES)
]


async def _member_id(phone: str) -> int:
    row = await Member.select(Member.id).where(Member.phone == phone).first().run()
    assert row is not None
    return int(row["id"])


async def _door_scene(org: Org) -> dict[str, int]:
    """union-a's activity with its door open now, staff_a on the door, worker_a1 holding a
    confirmed place, and another worker already admitted."""
    activity_id = await new_published(org)
    await checkin.update_settings(
        org.organiser_a,
        activity_id,
        DoorSettingsIn(opens_at=clock.now() - timedelta(hours=1)),
    )
    await checkin.assign_staff(org.organiser_a, activity_id, org.phones["staff_a"])
    registration, _ = await activities.register(org.worker_a1, activity_id)
    other = await add_member("13700009999", "已入场的人", "ent-a1", ["worker"])
    admitted, _ = await activities.register(other, activity_id)
    scan = await checkin.admit_registration(org.organiser_a, activity_id, admitted.id)
    assert scan.result == "admitted" and scan.scan_id is not None
    return {"activity": activity_id, "registration": registration.id, "scan": scan.scan_id}


def _fill(value: Any, ids: dict[str, int]) -> Any:
    """JSON with "{activity}"-style placeholders replaced by the scene's ids."""
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    if isinstance(value, str) and value.startswith("{") and value[1:-1] in ids:
        return ids[value[1:-1]]
    return value


async def _as(client: httpx.AsyncClient, org: Org, role: str) -> None:
    if role == "anonymous":
        await client.get("/signin")  # a visitor with a CSRF cookie, not signed in
    else:
        await sign_in(client, org.phones[ROLE_MEMBER[role]])


async def _send(
    client: httpx.AsyncClient, route: Route, path: str, ids: dict[str, int]
) -> httpx.Response:
    if route.form is not None:
        return await post_form(client, path, route.form)
    if route.json is not None:
        return await client.request(
            route.method, path, json=_fill(route.json, ids), headers=csrf_headers(client)
        )
    return await client.request(route.method, path)


@pytest.mark.parametrize(("name", "role", "expected"), CASES)
async def test_access_matrix(
    client: httpx.AsyncClient, org: Org, name: str, role: str, expected: Any
) -> None:
    route = ROUTES[name]
    ids: dict[str, int] = {}
    if "{" in route.path.replace("{own}", "").replace("{other}", "") or "{" in str(route.json):
        ids = await _door_scene(org)
    path = route.path.format(
        own=await _member_id(org.phones["worker_a1"]),
        other=await _member_id(org.phones["organiser_b"]),
        **ids,
    )
    await _as(client, org, role)
    response = await _send(client, route, path, ids)

    if expected == SIGNIN:
        assert response.status_code == 302, response.text
        assert response.headers["location"].startswith("/signin")
    elif expected == SAVED:
        assert response.status_code == 302, response.text
        assert not response.headers["location"].startswith("/signin")
    else:
        assert response.status_code == expected, response.text

    if route.is_api and response.status_code >= 400:
        body = response.json()
        assert (
            body["code"]
            == {
                401: "not_signed_in",
                403: "forbidden",
                404: "not_found",
            }[response.status_code]
        )
        assert body["message"]
    elif not route.is_api and response.status_code in {403, 404}:
        assert lang_of(response.text) == "zh-CN"
        message = {
            403: zh("You do not have access to this."),
            404: zh("No such member in your organisations."),
        }[response.status_code]
        assert message in response.text
        assert 'href="/"' in response.text

    if route.written is not None:
        succeeded = expected in {SAVED, 200, 201}
        assert await route.written() is succeeded


# --- scope: organisers see their subtree only -------------------------------------------


async def test_organiser_lists_only_their_subtree(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, org.phones["organiser_a"])
    page = await client.get("/admin/members")
    assert "快递员小王" in page.text and "甲工作人员" in page.text
    assert "乙组织者" not in page.text and "管理员" not in page.text
    api = (await client.get("/api/v1/members")).json()
    names = {item["name"] for item in api["items"]}
    assert names == {"甲组织者", "甲工作人员", "快递员小王"}
    assert api["total"] == 3
    nodes = {node["code"] for node in (await client.get("/api/v1/nodes")).json()}
    assert nodes == {"union-a", "ent-a1"}
    # Filtering by a node outside the subtree is refused, not quietly widened.
    outside = await client.get("/api/v1/members", params={"node": "union-b"})
    assert outside.status_code == 403


async def test_admin_sees_everyone(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, org.phones["admin"])
    api = (await client.get("/api/v1/members")).json()
    assert api["total"] == 5
    nodes = {node["code"] for node in (await client.get("/api/v1/nodes")).json()}
    assert nodes == {"fed", "union-a", "union-b", "ent-a1"}


# --- phone masking ----------------------------------------------------------------------


async def test_member_lists_mask_phones(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, org.phones["admin"])
    page = await client.get("/admin/members")
    assert page.status_code == 200
    for phone in org.phones.values():
        assert f"{phone[:3]}****{phone[-4:]}" in page.text
    assert full_phones(page.text) == []

    api = await client.get("/api/v1/members")
    assert full_phones(api.text) == []
    assert {item["phone_masked"] for item in api.json()["items"]} == {
        f"{phone[:3]}****{phone[-4:]}" for phone in org.phones.values()
    }
    one = await client.get(f"/api/v1/members/{await _member_id(org.phones['worker_a1'])}")
    assert one.json()["phone_masked"] == "138****0005"
    assert full_phones(one.text) == []


async def test_search_results_mask_phones(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, org.phones["organiser_a"])
    page = await client.get("/admin/members", params={"q": "0005"})
    assert "138****0005" in page.text
    assert full_phones(page.text) == []


async def test_own_profile_and_me_show_the_full_number(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, org.phones["worker_a1"])
    profile = await client.get("/profile")
    assert org.phones["worker_a1"] in profile.text
    assert set(full_phones(profile.text)) == {org.phones["worker_a1"]}
    me = (await client.get("/api/v1/me")).json()
    assert me["phone"] == org.phones["worker_a1"]
    assert me["member"]["name"] == "快递员小王"


# --- API tokens -------------------------------------------------------------------------


async def test_bearer_token_creates_a_member_without_csrf(
    client: httpx.AsyncClient, org: Org
) -> None:
    token = await create_api_token(org.phones["admin"])
    response = await client.post(
        "/api/v1/members",
        json={"phone": NEW_PHONE, "name": "接口创建", "node": "union-b"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phone_masked"] == "139****1111"
    assert body["node_code"] == "union-b"
    assert body["roles"] == ["worker"]
    assert await count(Member, Member.phone == NEW_PHONE) == 1


async def test_bearer_token_of_a_worker_cannot_create(client: httpx.AsyncClient, org: Org) -> None:
    token = await create_api_token(org.phones["worker_a1"])
    response = await client.post(
        "/api/v1/members",
        json={"phone": NEW_PHONE, "name": "越权"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert await count(Member, Member.phone == NEW_PHONE) == 0


@pytest.mark.parametrize(
    "header", ["Bearer not-a-token", "Bearer " + "x" * 500, "bearer wrong", "Bearer  "]
)
async def test_bad_bearer_token_is_401(client: httpx.AsyncClient, org: Org, header: str) -> None:
    response = await client.get("/api/v1/members", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["code"] == "not_signed_in"


async def test_bad_bearer_token_is_not_rescued_by_a_session_cookie(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["admin"])
    response = await client.post(
        "/api/v1/members",
        json={"phone": NEW_PHONE, "name": "借道"},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 401
    assert await count(Member, Member.phone == NEW_PHONE) == 0


async def test_cookie_session_api_write_needs_the_csrf_header(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["admin"])
    response = await client.post("/api/v1/members", json={"phone": NEW_PHONE, "name": "跨站"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert await count(Member, Member.phone == NEW_PHONE) == 0
    with_header = await client.post(
        "/api/v1/members", json={"phone": NEW_PHONE, "name": "本站"}, headers=csrf_headers(client)
    )
    assert with_header.status_code == 201


# --- API validation ---------------------------------------------------------------------


@pytest.fixture
async def admin_token(org: Org) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(org.phones['admin'])}"}


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        pytest.param("POST", "/api/v1/members", {"name": "缺手机号"}, id="missing field"),
        pytest.param(
            "POST", "/api/v1/members", {"phone": 13900001111, "name": "数字"}, id="wrong type"
        ),
        pytest.param(
            "POST",
            "/api/v1/members",
            {"phone": NEW_PHONE, "name": "x", "roles": "admin"},
            id="roles not a list",
        ),
        pytest.param("POST", "/api/v1/members", b"{not json", id="malformed json"),
        pytest.param("POST", "/api/v1/members", {"phone": "123", "name": "x"}, id="bad phone"),
        pytest.param(
            "POST",
            "/api/v1/members",
            {"phone": NEW_PHONE, "name": "x", "roles": ["king"]},
            id="unknown role",
        ),
        pytest.param("GET", "/api/v1/members?limit=1000", None, id="limit too high"),
        pytest.param("GET", "/api/v1/members?limit=0", None, id="limit zero"),
        pytest.param("GET", "/api/v1/members?limit=abc", None, id="limit not a number"),
        pytest.param("GET", "/api/v1/members?offset=-1", None, id="negative offset"),
        pytest.param("GET", "/api/v1/members?q=" + "x" * 51, None, id="search too long"),
        # A PUT is a partial update (a missing field keeps its value); unknown ones are refused.
        pytest.param(
            "PUT", "/api/v1/members/{own}", {"name": "x", "role": "admin"}, id="put unknown"
        ),
    ],
)
async def test_api_validation_errors_are_400_json(
    client: httpx.AsyncClient,
    org: Org,
    admin_token: dict[str, str],
    method: str,
    path: str,
    payload: Any,
) -> None:
    before = await count(Member)
    path = path.format(own=await _member_id(org.phones["worker_a1"]))
    kwargs: dict[str, Any] = {"headers": admin_token}
    if isinstance(payload, bytes):
        kwargs["content"] = payload
        kwargs["headers"] = {**admin_token, "Content-Type": "application/json"}
    elif payload is not None:
        kwargs["json"] = payload
    response = await client.request(method, path, **kwargs)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["message"]
    assert await count(Member) == before


async def test_api_duplicate_phone_is_409(
    client: httpx.AsyncClient, org: Org, admin_token: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/members",
        json={"phone": org.phones["worker_a1"], "name": "重复"},
        headers=admin_token,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_phone"
    assert await count(Member) == 5


async def test_api_messages_are_in_the_members_language(
    client: httpx.AsyncClient, org: Org, admin_token: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/members", json={"phone": "123", "name": "x"}, headers=admin_token
    )
    assert response.json()["message"] == zh(
        "Enter an 11-digit mainland mobile number starting with 1, such as 13800138000."
    )


# --- schema, health, not found ----------------------------------------------------------


async def test_openapi_schema_lists_the_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.text)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/members" in schema["paths"]
    assert "/api/v1/members/{member_id}" in schema["paths"]
    assert not any(path.startswith("/admin") for path in schema["paths"])


async def test_healthz_reports_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert response.headers["cache-control"] == "no-store"


async def test_unknown_page_is_a_chinese_404_page_with_a_way_home(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert lang_of(response.text) == "zh-CN"
    assert zh("This page does not exist. Check the address or go back home.") in response.text
    assert 'href="/"' in response.text


async def test_unknown_api_route_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


async def test_missing_member_is_404_for_admin(
    client: httpx.AsyncClient, admin_token: dict[str, str]
) -> None:
    response = await client.get("/api/v1/members/999999", headers=admin_token)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_wrong_method_on_a_page_is_not_a_server_error(client: httpx.AsyncClient) -> None:
    response = await client.delete("/profile")
    assert response.status_code in {403, 405}


async def test_api_unknown_node_is_a_400_naming_the_code(
    client: httpx.AsyncClient, org: Org, admin_token: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/members",
        json={"phone": NEW_PHONE, "name": "无处", "node": "nowhere"},
        headers=admin_token,
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "unknown_node"
    assert "nowhere" in response.json()["message"]
    listed = await client.get("/api/v1/members", params={"node": "nowhere"}, headers=admin_token)
    assert listed.status_code == 400, listed.text
    assert listed.json()["code"] == "unknown_node"
    assert await count(Member, Member.phone == NEW_PHONE) == 0
