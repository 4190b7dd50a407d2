"""Issue 16, "An installation can lose its last admin": `PUT /api/v1/members/{id}` is a
partial update (a field left out keeps its value), unknown fields are refused, and no way
of changing members (the API, the member page, an import) removes or demotes the
federation's last admin."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from service.errors import DomainError
from service.orgs import services as orgs
from service.orgs.schemas import SYSTEM, MemberIn
from tests.conftest import Org, add_member, post_form, sign_in
from tests.http.activity_helpers import bearer
from tests.http.helpers import zh

LAST_ADMIN = "This is the federation's last admin: make someone else an admin first."


async def stored(member_id: int | None) -> Any:
    assert member_id is not None
    return await orgs.get_member(SYSTEM, member_id)


async def test_put_without_roles_node_or_group_keeps_them(
    client: httpx.AsyncClient, org: Org
) -> None:
    admin = await bearer(org.phones["admin"])
    worker_id = org.worker_a1.member_id
    renamed = await client.put(
        f"/api/v1/members/{worker_id}", json={"name": "快递员老王"}, headers=admin
    )
    assert renamed.status_code == 200, renamed.text
    after = await stored(worker_id)
    assert (after.name, after.node_code, after.group, after.roles) == (
        "快递员老王",
        "ent-a1",
        "courier",
        ["worker"],
    )
    # The reported case: the only admin renamed with no `roles` stays an admin.
    own = await client.put(
        f"/api/v1/members/{org.admin.member_id}", json={"name": "总管理员"}, headers=admin
    )
    assert own.status_code == 200, own.text
    assert (await stored(org.admin.member_id)).roles == ["admin"]


async def test_put_with_an_unknown_field_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, org: Org
) -> None:
    admin = await bearer(org.phones["admin"])
    worker_id = org.worker_a1.member_id
    for body in ({"name": "改名", "role": "admin"}, {"nmae": "改名"}):
        response = await client.put(f"/api/v1/members/{worker_id}", json=body, headers=admin)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "validation_error"
    assert (await stored(worker_id)).name == "快递员小王"
    created = await client.post(
        "/api/v1/members",
        json={"phone": "13912345678", "name": "新人", "is_admin": True},
        headers=admin,
    )
    assert created.status_code == 400


async def test_the_last_admin_cannot_demote_or_move_themselves_over_the_api(
    client: httpx.AsyncClient, org: Org
) -> None:
    admin = await bearer(org.phones["admin"])
    url = f"/api/v1/members/{org.admin.member_id}"
    for change in ({"roles": ["worker"]}, {"roles": []}, {"node": "union-a"}):
        response = await client.put(url, json=change, headers={**admin, "Accept-Language": "zh"})
        assert response.status_code == 409, (change, response.text)
        assert response.json()["code"] == "last_admin"
        assert response.json()["message"] == zh(LAST_ADMIN)
    after = await stored(org.admin.member_id)
    assert (after.roles, after.node_code) == (["admin"], "fed")


async def test_control_with_a_second_admin_the_first_may_step_down(
    client: httpx.AsyncClient, org: Org
) -> None:
    await add_member("13912340009", "副管理员", "fed", ["admin"])
    admin = await bearer(org.phones["admin"])
    response = await client.put(
        f"/api/v1/members/{org.admin.member_id}", json={"roles": ["organiser"]}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert (await stored(org.admin.member_id)).roles == ["organiser"]


async def test_an_admin_below_the_root_does_not_count_as_the_federations(org: Org) -> None:
    await add_member("13912340009", "镇管理员", "union-a", ["admin"])
    with pytest.raises(DomainError) as caught:
        await orgs.update_member(
            org.admin,
            org.admin.member_id or 0,
            MemberIn(phone="", name="管理员", node="fed", roles=["worker"]),
        )
    assert caught.value.code == "last_admin"


async def test_the_member_page_refuses_to_demote_the_last_admin(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["admin"])
    page = await post_form(
        client,
        f"/admin/members/{org.admin.member_id}",
        {"phone": "", "name": "管理员", "node": "fed", "group": "other", "roles": "worker"},
    )
    assert page.status_code == 409
    assert zh(LAST_ADMIN) in page.text
    assert (await stored(org.admin.member_id)).roles == ["admin"]


async def test_an_import_that_demotes_the_last_admin_writes_nothing(org: Org) -> None:
    with pytest.raises(DomainError) as caught:
        await orgs.import_members(
            [
                (2, {"phone": "13912345671", "name": "新人"}),
                (3, {"phone": org.phones["admin"], "name": "管理员", "roles": "worker"}),
            ]
        )
    assert caught.value.code == "last_admin"
    assert await orgs.member_id_for_phone("13912345671") is None
    assert (await stored(org.admin.member_id)).roles == ["admin"]


async def test_two_admins_demoting_each_other_at_once_leave_one(org: Org) -> None:
    second = await add_member("13912340009", "副管理员", "fed", ["admin"])

    async def demote(actor: Any, target: Any) -> str:
        try:
            await orgs.update_member(
                actor,
                target.member_id,
                MemberIn(phone="", name=target.name, node="fed", roles=["organiser"]),
            )
        except DomainError as error:
            return error.code
        return "ok"

    results = await asyncio.gather(demote(org.admin, second), demote(second, org.admin))
    assert sorted(results) == ["last_admin", "ok"]
    roles = [(await stored(m.member_id)).roles for m in (org.admin, second)]
    assert sorted(roles) == [["admin"], ["organiser"]]
