"""The organiser's door setup page: check-in window, gates, walk-in rule, door staff."""

from __future__ import annotations

import httpx

from service.checkin import services as checkin
from tests.conftest import Org, post_form, sign_in
from tests.http.activity_helpers import START, browser, field_error, new_published, zh
from tests.http.helpers import full_phones


async def test_organiser_sets_gates_window_and_walk_ins(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    await sign_in(client, org.phones["organiser_a"])
    page = await client.get(f"/organise/activities/{activity_id}")
    assert f'href="/organise/activities/{activity_id}/door"' in page.text
    setup = await client.get(f"/organise/activities/{activity_id}/door")
    assert setup.status_code == 200
    assert zh("Door setup") in setup.text

    saved = await post_form(
        client,
        f"/organise/activities/{activity_id}/door",
        {
            "opens_at": "",
            "closes_at": "",
            "gates": "东门\n西门\n东门\n",
            "walk_ins_over_capacity": "on",
        },
    )
    assert saved.status_code in (302, 303), saved.text
    state = await checkin.door_state(org.organiser_a, activity_id)
    assert state.gates == ["东门", "西门"]
    assert state.walk_ins_over_capacity
    assert state.opens_at == START - checkin.OPENS_BEFORE_START


async def test_a_window_that_closes_before_it_opens_is_refused_beside_the_field(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    await sign_in(client, org.phones["organiser_a"])
    await client.get(f"/organise/activities/{activity_id}/door")
    refused = await post_form(
        client,
        f"/organise/activities/{activity_id}/door",
        {"opens_at": "2030-01-02T10:00", "closes_at": "2030-01-02T09:00", "gates": ""},
    )
    assert refused.status_code == 400
    assert field_error(refused.text, "closes_at") == zh("Check-in must close after it opens.")


async def test_door_staff_are_added_by_phone_and_shown_masked(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    await sign_in(client, org.phones["organiser_a"])
    await client.get(f"/organise/activities/{activity_id}/door")
    added = await post_form(
        client, f"/organise/activities/{activity_id}/door/staff", {"phone": org.phones["staff_a"]}
    )
    assert added.status_code in (302, 303)
    page = await client.get(f"/organise/activities/{activity_id}/door")
    assert "138****0004" in page.text
    assert full_phones(page.text) == []
    assert [person["id"] for person in await checkin.door_staff(org.organiser_a, activity_id)] == [
        org.staff_a.member_id
    ]
    # A worker cannot be made door staff.
    refused = await post_form(
        client, f"/organise/activities/{activity_id}/door/staff", {"phone": org.phones["worker_a1"]}
    )
    assert refused.status_code == 400
    assert field_error(refused.text, "phone")
    removed = await post_form(
        client,
        f"/organise/activities/{activity_id}/door/staff/{org.staff_a.member_id}/remove",
        {},
    )
    assert removed.status_code in (302, 303)
    assert await checkin.door_staff(org.organiser_a, activity_id) == []


async def test_only_the_activity_s_organisers_reach_its_door_setup(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    for phone, status in (
        (org.phones["organiser_b"], 404),
        (org.phones["staff_a"], 403),
        (org.phones["worker_a1"], 403),
    ):
        async with browser(app, "203.0.113.60") as someone:
            await sign_in(someone, phone)
            assert (
                await someone.get(f"/organise/activities/{activity_id}/door")
            ).status_code == status


async def test_staff_added_on_the_page_may_scan_there_and_nowhere_else(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    other_id = await new_published(org)
    await sign_in(client, org.phones["organiser_a"])
    await client.get(f"/organise/activities/{activity_id}/door")
    added = await post_form(
        client, f"/organise/activities/{activity_id}/door/staff", {"phone": org.phones["staff_a"]}
    )
    assert added.status_code in (302, 303)
    # The same person again: refused beside the phone field, still listed once.
    again = await post_form(
        client, f"/organise/activities/{activity_id}/door/staff", {"phone": org.phones["staff_a"]}
    )
    assert again.status_code == 400
    assert field_error(again.text, "phone") == zh("This person is already assigned here.")
    assert again.text.count("138****0004") == 1
    # An unknown phone: refused beside the field.
    unknown = await post_form(
        client, f"/organise/activities/{activity_id}/door/staff", {"phone": "13999999999"}
    )
    assert unknown.status_code == 400
    assert field_error(unknown.text, "phone") == zh("No member has this phone number.")
    async with browser(app, "203.0.113.61") as staff:
        await sign_in(staff, org.phones["staff_a"])
        doors = await staff.get("/door")
        assert f'href="/door/{activity_id}"' in doors.text
        assert f'href="/door/{other_id}"' not in doors.text
        assert (await staff.get(f"/door/{activity_id}")).status_code == 200
        assert (await staff.get(f"/door/{other_id}")).status_code == 403


async def test_another_node_s_organiser_cannot_add_door_staff(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    await sign_in(client, org.phones["organiser_b"])
    refused = await post_form(
        client, f"/organise/activities/{activity_id}/door/staff", {"phone": org.phones["staff_a"]}
    )
    assert refused.status_code == 404
    assert await checkin.door_staff(org.organiser_a, activity_id) == []
