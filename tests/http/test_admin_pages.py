"""The admin pages as an admin or organiser uses them: nodes, members, search, htmx."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from service.orgs.tables import Member, Node
from tests.conftest import Org, post_form, sign_in
from tests.http.helpers import (
    count,
    field_error,
    lang_of,
    new_client,
    zh,
)


@pytest.fixture
async def admin(client: httpx.AsyncClient, org: Org) -> httpx.AsyncClient:
    await sign_in(client, org.phones["admin"])
    return client


def member_names(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/members/\d+"><strong>(.*?)</strong></a>', html)


# --- nodes ------------------------------------------------------------------------------


async def test_admin_adds_a_node_with_the_form(admin: httpx.AsyncClient) -> None:
    page = await admin.get("/admin/nodes")
    assert page.status_code == 200
    assert 'action="/admin/nodes"' in page.text
    response = await post_form(
        admin,
        "/admin/nodes",
        {"name": "甲二配送站", "code": "ent-a2", "kind": "enterprise", "parent": "union-a"},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/admin/nodes"
    listed = await admin.get("/admin/nodes")
    assert "甲二配送站" in listed.text
    row = (
        await Node.select(Node.name, Node.kind, Node.depth, Node.parent.code)
        .where(Node.code == "ent-a2")
        .first()
        .run()
    )
    assert row == {"name": "甲二配送站", "kind": "enterprise", "depth": 2, "parent.code": "union-a"}
    # The new node is a place members can be put right away.
    form = await admin.get("/admin/members/new")
    assert 'value="ent-a2"' in form.text


async def test_duplicate_node_code_is_shown_beside_the_field(admin: httpx.AsyncClient) -> None:
    before = await count(Node)
    response = await post_form(
        admin,
        "/admin/nodes",
        {"name": "另一个甲镇", "code": "union-a", "kind": "union", "parent": "fed"},
    )
    assert response.status_code == 409
    assert field_error(response.text, "code") == zh(
        "The code %(code)s is already used.", code="union-a"
    )
    assert 'value="另一个甲镇"' in response.text  # what was typed is kept
    assert await count(Node) == before


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"name": "坏代码", "code": "has space", "kind": "union", "parent": "fed"},
            "code",
            "Use 1 to 32 letters, digits, - or _ for the code.",
        ),
        (
            {"name": "", "code": "empty-name", "kind": "union", "parent": "fed"},
            "name",
            "Enter a name.",
        ),
        (
            {"name": "无类", "code": "no-kind", "kind": "planet", "parent": "fed"},
            "kind",
            "Choose the kind of organisation.",
        ),
        (
            {"name": "无上级", "code": "no-parent", "kind": "union", "parent": ""},
            "parent",
            "Choose the parent organisation.",
        ),
    ],
)
async def test_bad_node_form_shows_the_message_beside_the_field(
    admin: httpx.AsyncClient, form: dict[str, str], field: str, message: str
) -> None:
    before = await count(Node)
    response = await post_form(admin, "/admin/nodes", form)
    assert response.status_code == 400
    assert field_error(response.text, field) == zh(message)
    assert await count(Node) == before


# --- members ----------------------------------------------------------------------------


async def test_admin_adds_a_member_and_edits_their_roles(
    admin: httpx.AsyncClient, org: Org
) -> None:
    form = await admin.get("/admin/members/new")
    assert form.status_code == 200
    assert 'action="/admin/members"' in form.text
    response = await post_form(
        admin,
        "/admin/members",
        {
            "phone": "139-0000-2222",
            "name": "新来的保安",
            "node": "ent-a1",
            "group": "security_guard",
            "roles": ["worker"],
        },
    )
    assert response.status_code == 302
    location = response.headers["location"]
    match = re.fullmatch(r"/admin/members/(\d+)\?saved=1", location)
    assert match, location
    member_id = int(match.group(1))
    shown = await admin.get(location)
    assert "新来的保安" in shown.text
    assert zh("Saved.") in shown.text
    assert "139****2222" in shown.text
    row = (
        await Member.select(Member.phone, Member.roles, Member.worker_group)
        .where(Member.id == member_id)
        .first()
        .run()
    )
    assert row == {"phone": "13900002222", "roles": "worker", "worker_group": "security_guard"}

    edit = await post_form(
        admin,
        f"/admin/members/{member_id}",
        {
            "phone": "",  # empty keeps the number
            "name": "新来的保安",
            "node": "ent-a1",
            "group": "security_guard",
            "roles": ["worker", "staff", "organiser"],
        },
    )
    assert edit.status_code == 302
    assert edit.headers["location"] == f"/admin/members/{member_id}?saved=1"
    row = (
        await Member.select(Member.phone, Member.roles).where(Member.id == member_id).first().run()
    )
    assert row == {"phone": "13900002222", "roles": "organiser,staff,worker"}
    page = await admin.get(f"/admin/members/{member_id}")
    for role in ("Worker", "Staff", "Organiser"):
        assert zh(role) in page.text


async def test_new_roles_take_effect_on_the_members_next_request(
    app: Any, admin: httpx.AsyncClient, org: Org
) -> None:
    worker_id = (
        await Member.select(Member.id).where(Member.phone == org.phones["worker_a1"]).first()
    )["id"]
    async with new_client(app) as worker:
        await sign_in(worker, org.phones["worker_a1"])
        assert (await worker.get("/admin/members")).status_code == 403
        await post_form(
            admin,
            f"/admin/members/{worker_id}",
            {
                "phone": "",
                "name": "快递员小王",
                "node": "ent-a1",
                "group": "courier",
                "roles": ["worker", "organiser"],
            },
        )
        assert (await worker.get("/admin/members")).status_code == 200


@pytest.mark.parametrize(
    ("form", "field", "message", "status"),
    [
        (
            {"phone": "12", "name": "甲"},
            "phone",
            "Enter an 11-digit mainland mobile number starting with 1, such as 13800138000.",
            400,
        ),
        (
            {"phone": "13800000005", "name": "重号"},
            "phone",
            "This phone number already belongs to a member.",
            409,
        ),
        ({"phone": "13900003333", "name": ""}, "name", "Enter a name.", 400),
        (
            {"phone": "13900003333", "name": "甲", "roles": ["boss"]},
            "roles",
            "Unknown role %(role)s: use worker, staff, organiser or admin.",
            400,
        ),
        (
            {"phone": "13900003333", "name": "甲", "group": "pilot"},
            "group",
            "Choose a worker group from the list.",
            400,
        ),
        (
            {"phone": "13900003333", "name": "甲", "node": "nowhere"},
            "node",
            "There is no organisation with the code %(code)s.",
            400,
        ),
    ],
)
async def test_bad_member_form_shows_the_message_beside_the_field(
    admin: httpx.AsyncClient, form: dict[str, object], field: str, message: str, status: int
) -> None:
    before = await count(Member)
    data = {"node": "ent-a1", "group": "courier", "roles": ["worker"], **form}
    response = await post_form(admin, "/admin/members", data)
    assert response.status_code == status, response.text[:300]
    params = {"role": "boss", "code": "nowhere"}
    expected = zh(message, **{k: v for k, v in params.items() if f"%({k})s" in message})
    assert field_error(response.text, field) == expected
    assert await count(Member) == before


async def test_edit_to_another_members_phone_is_refused(admin: httpx.AsyncClient, org: Org) -> None:
    worker_id = (
        await Member.select(Member.id).where(Member.phone == org.phones["worker_a1"]).first()
    )["id"]
    response = await post_form(
        admin,
        f"/admin/members/{worker_id}",
        {
            "phone": org.phones["staff_a"],
            "name": "快递员小王",
            "node": "ent-a1",
            "group": "courier",
            "roles": ["worker"],
        },
    )
    assert response.status_code == 409
    assert field_error(response.text, "phone") == zh(
        "This phone number already belongs to a member."
    )
    assert await count(Member, Member.phone == org.phones["worker_a1"]) == 1


# --- search -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("小王", ["快递员小王"]),
        ("组织者", ["乙组织者", "甲组织者"]),
        ("0005", ["快递员小王"]),
        ("0002", ["甲组织者"]),
        ("  甲  ", ["甲工作人员", "甲组织者"]),
        ("nobody", []),
        ("小王%", ["快递员小王"]),  # a typed wildcard does not widen the search
        ("_王", ["快递员小王"]),
    ],
)
async def test_member_search_by_name_fragment_and_last_four_digits(
    admin: httpx.AsyncClient, q: str, expected: list[str]
) -> None:
    response = await admin.get("/admin/members", params={"q": q})
    assert response.status_code == 200
    assert sorted(member_names(response.text)) == sorted(expected)
    if not expected:
        assert zh("No members match.") in response.text


async def test_search_of_an_organiser_stays_in_their_subtree(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["organiser_b"])
    response = await client.get("/admin/members", params={"q": "0005"})
    assert member_names(response.text) == []
    response = await client.get("/admin/members", params={"q": "组织者"})
    assert member_names(response.text) == ["乙组织者"]


async def test_too_long_search_is_a_message_not_an_error_page(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/admin/members", params={"q": "长" * 51})
    assert response.status_code == 400
    assert zh("Search for at most 50 characters.") in response.text


async def test_member_list_pages(admin: httpx.AsyncClient) -> None:
    from service.orgs import services as orgs
    from service.orgs.schemas import SYSTEM, MemberIn

    for n in range(25):
        await orgs.create_member(
            SYSTEM, MemberIn(phone=f"1370000{n:04d}", name=f"会员{n:02d}", node="ent-a1")
        )
    first = await admin.get("/admin/members", params={"q": "会员"})
    assert len(member_names(first.text)) == 20
    assert "offset=20" in first.text
    second = await admin.get("/admin/members", params={"q": "会员", "offset": 20})
    assert len(member_names(second.text)) == 5
    assert not set(member_names(first.text)) & set(member_names(second.text))


# --- htmx -------------------------------------------------------------------------------


async def test_htmx_search_gets_only_the_member_list(admin: httpx.AsyncClient) -> None:
    response = await admin.get(
        "/admin/members",
        params={"q": "小王"},
        headers={"HX-Request": "true", "HX-Target": "member-list"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<body" not in response.text
    assert 'class="members"' in response.text
    assert member_names(response.text) == ["快递员小王"]
    assert "HX-Request" in response.headers.get("vary", "")


async def test_full_page_and_boosted_requests_get_the_whole_page(
    admin: httpx.AsyncClient,
) -> None:
    full = await admin.get("/admin/members", params={"q": "小王"})
    assert "<html" in full.text
    assert lang_of(full.text) == "zh-CN"
    assert "HX-Request" in full.headers.get("vary", "")
    boosted = await admin.get(
        "/admin/members",
        headers={"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "member-list"},
    )
    assert "<html" in boosted.text
    other_target = await admin.get(
        "/admin/members", headers={"HX-Request": "true", "HX-Target": "main"}
    )
    assert "<html" in other_target.text
