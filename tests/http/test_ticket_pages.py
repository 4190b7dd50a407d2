"""The ticket page: the holder's QR inline (so the page alone is the ticket offline), a
new code on request, and nobody else's eyes on it."""

from __future__ import annotations

import re

import httpx

from service.activities import services as activities
from service.tickets import tokens
from tests.conftest import Org, post_form, sign_in
from tests.http.activity_helpers import bearer, browser, new_published, workers, zh
from tests.http.helpers import full_phones

HINT = (
    "Show this code at the door. Turn your screen brightness up; "
    "it works without signal once opened."
)


async def test_a_confirmed_member_sees_the_code_inline_with_their_name(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    (person,) = await workers(1)
    registration, _ = await activities.register(person.actor, activity_id)
    await sign_in(client, person.phone)

    detail = await client.get(f"/activities/{activity_id}")
    assert f'href="/me/tickets/{registration.id}"' in detail.text
    mine = await client.get("/me/activities")
    assert f'href="/me/tickets/{registration.id}"' in mine.text

    page = await client.get(f"/me/tickets/{registration.id}")
    assert page.status_code == 200
    assert "<svg" in page.text and "<?xml" not in page.text
    assert person.name in page.text
    assert zh(HINT) in page.text
    assert full_phones(page.text) == []


async def test_reissue_gives_a_new_code_and_the_old_one_is_revoked(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    (person,) = await workers(1)
    registration, _ = await activities.register(person.actor, activity_id)
    await sign_in(client, person.phone)
    before = (await client.get(f"/api/v1/registrations/{registration.id}")).json()["ticket_code"]

    # The ticket page's button asks first: the old code stops working at once.
    ticket = await client.get(f"/me/tickets/{registration.id}")
    assert f'href="/me/tickets/{registration.id}/reissue"' in ticket.text
    asked = await client.get(f"/me/tickets/{registration.id}/reissue")
    assert asked.status_code == 200 and zh("Get a new code?") in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    # A post without the confirmation (an old page, a stray tap) only asks again.
    unconfirmed = await post_form(client, f"/me/tickets/{registration.id}/reissue", {})
    assert unconfirmed.status_code == 200 and zh("Get a new code?") in unconfirmed.text
    unchanged = (await client.get(f"/api/v1/registrations/{registration.id}")).json()
    assert unchanged["ticket_code"] == before

    done = await post_form(client, f"/me/tickets/{registration.id}/reissue", {"confirm": "yes"})
    assert done.status_code in (302, 303)
    page = await client.get(done.headers["location"])
    assert zh("A new code was issued. The old one no longer works.") in page.text
    after = (await client.get(f"/api/v1/registrations/{registration.id}")).json()["ticket_code"]
    assert after != before
    assert tokens.verify_ticket(after).reissue == tokens.verify_ticket(before).reissue + 1


async def test_only_the_holder_sees_a_ticket(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    holder, other = await workers(2)
    registration, _ = await activities.register(holder.actor, activity_id)
    for phone in (other.phone, org.phones["organiser_a"]):
        async with browser(app, "203.0.113.50") as someone:
            await sign_in(someone, phone)
            page = await someone.get(f"/me/tickets/{registration.id}")
            assert page.status_code == 404
            assert "<svg" not in page.text
            qr = await someone.get(f"/api/v1/registrations/{registration.id}/qr.svg")
            assert qr.status_code == 404
    anonymous = await client.get(f"/me/tickets/{registration.id}", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)


async def test_a_waitlisted_member_has_no_code(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org, capacity=1)
    first, second = await workers(2)
    await activities.register(first.actor, activity_id)
    waiting, _ = await activities.register(second.actor, activity_id)
    await sign_in(client, second.phone)
    page = await client.get(f"/me/tickets/{waiting.id}")
    assert page.status_code == 200
    assert "<svg" not in page.text
    assert not re.search(r'action="/me/tickets/\d+/reissue"', page.text)


async def test_the_service_worker_is_served_from_the_root(client: httpx.AsyncClient) -> None:
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "no-cache" in response.headers["cache-control"]


async def test_staff_see_the_door_tab_and_workers_do_not(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["staff_a"])
    assert 'href="/door"' in (await client.get("/me/activities")).text
    async with browser(app, "203.0.113.51") as worker:
        await sign_in(worker, org.phones["worker_a1"])
        assert 'href="/door"' not in (await worker.get("/me/activities")).text


async def test_an_organiser_sees_the_registration_but_never_its_code(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    (person,) = await workers(1)
    registration, _ = await activities.register(person.actor, activity_id)
    organiser = await bearer(org.phones["organiser_a"])
    seen = await client.get(f"/api/v1/registrations/{registration.id}", headers=organiser)
    assert seen.status_code == 200
    assert seen.json()["status"] == "confirmed"
    assert seen.json()["ticket_code"] is None
    reissued = await client.post(
        f"/api/v1/registrations/{registration.id}/reissue", headers=organiser
    )
    assert reissued.status_code == 200
    assert reissued.json()["ticket_code"] is None
    holder = await client.get(
        f"/api/v1/registrations/{registration.id}", headers=await bearer(person.phone)
    )
    assert tokens.verify_ticket(holder.json()["ticket_code"]).reissue == 1


async def test_a_body_that_is_not_utf8_is_a_400_on_every_json_api(
    client: httpx.AsyncClient, org: Org
) -> None:
    headers = {**await bearer(org.phones["organiser_a"]), "content-type": "application/json"}
    for url in ("/api/v1/activities", "/api/v1/checkins", "/api/v1/members"):
        response = await client.post(url, content=b'{"title": "\xff\xfe"}', headers=headers)
        assert response.status_code == 400, (url, response.text)
        assert response.json()["code"] == "validation_error"


async def test_an_online_activity_never_says_show_this_code_at_the_door(
    client: httpx.AsyncClient, org: Org
) -> None:
    from service.activities.schemas import MessageActivity
    from service.reminders.texts import render

    activity_id = await new_published(
        org, kind="reading_session", venue=None, online_url="https://meeting.example.cn/r1"
    )
    registration, _ = await activities.register(org.worker_a1, activity_id)
    await sign_in(client, org.phones["worker_a1"])
    page = await client.get(f"/me/tickets/{registration.id}")
    door_hint = (
        "Show this code at the door. Turn your screen brightness up; it works without signal"
        " once opened."
    )
    assert zh(door_hint) not in page.text
    assert (
        zh("This activity is online: join it by the link below. The code shows your place.")
        in page.text
    )
    assert 'href="https://meeting.example.cn/r1"' in page.text

    online = await activities.message_activity(activity_id)
    assert isinstance(online, MessageActivity)
    _, body = render({"kind": "registration_confirmed", "payload": "{}"}, "en", online)
    assert "door" not in body and "https://meeting.example.cn/r1" in body
