"""What the pages and the API of the activity core show of each kind: the registered kinds
and what they offer, no sign-up or door for a kind without one."""

from __future__ import annotations

import httpx

from service import clock
from service.tickets import tokens
from tests.conftest import Org, sign_in
from tests.http.activity_helpers import NOW, bearer, new_published


async def test_the_kinds_are_listed_with_what_each_offers(
    client: httpx.AsyncClient, org: Org
) -> None:
    anonymous = await client.get("/api/v1/kinds")
    assert anonymous.status_code == 401
    response = await client.get("/api/v1/kinds", headers=await bearer(org.phones["worker_a1"]))
    assert response.status_code == 200
    by_code = {kind["code"]: kind for kind in response.json()}
    assert by_code["livestream"] == {
        "code": "livestream",
        "label_zh": "直播",
        "label_en": "Livestream",
        "places": False,
        "signup": False,
        "tickets": False,
        "door": False,
    }
    assert by_code["job_fair"]["label_zh"] == "招聘会"
    assert by_code["heat_relief"]["signup"] is False
    assert by_code["reading_session"]["door"] is True


async def test_a_livestream_takes_no_sign_up_and_has_no_door(
    client: httpx.AsyncClient, org: Org
) -> None:
    with clock.frozen_at(NOW):
        activity_id = await new_published(org, kind="livestream", capacity=None, venue=None)
    worker = await bearer(org.phones["worker_a1"])
    signup = await client.post(f"/api/v1/activities/{activity_id}/registrations", headers=worker)
    assert signup.status_code == 409
    assert signup.json()["code"] == "signup_not_offered"

    code = tokens.ticket_code(1, activity_id, 0)  # a well-signed code for this activity
    scan = await client.post(
        "/api/v1/checkins",
        json={"activity_id": activity_id, "code": code},
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert scan.status_code == 409
    assert scan.json()["code"] == "no_door"

    await sign_in(client, org.phones["worker_a1"])
    listed = await client.get("/")
    assert "无需报名" in listed.text  # the card says so, not "open to all"
    page = await client.get(f"/activities/{activity_id}")
    assert page.status_code == 200
    assert f'action="/activities/{activity_id}/signup"' not in page.text
    assert "无需报名" in page.text


async def test_the_new_activity_form_follows_the_chosen_kind(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["organiser_a"])
    livestream = await client.get("/organise/activities/new?kind=livestream")
    assert livestream.status_code == 200
    assert 'name="capacity"' not in livestream.text
    assert 'name="kind" value="livestream"' in livestream.text
    fair = await client.get("/organise/activities/new?kind=job_fair")
    assert 'name="capacity"' in fair.text
    # Every kind is one link away, without JavaScript.
    for code in ("job_fair", "reading_session", "livestream", "heat_relief"):
        assert f'href="/organise/activities/new?kind={code}"' in fair.text
