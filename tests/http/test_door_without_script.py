"""The door without its script (JavaScript off, or a slow network before scanner.js
arrives): the typed-code, look-up and walk-in forms post to the server, the verdict comes
back as a page, and no ticket code or phone number travels in a URL."""

from __future__ import annotations

import re

import httpx

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.checkin.tables import Scan
from service.i18n import language, localtime
from service.tickets import tokens
from tests.conftest import Org, post_form, sign_in
from tests.http.activity_helpers import NOW, bearer, new_published, workers
from tests.http.helpers import count, full_phones, zh
from tests.http.test_checkin_api import open_door


def forms(html: str) -> dict[str, tuple[str, str]]:
    """The scanner's forms by id: (method, action)."""
    found = {}
    for match in re.finditer(r"<form id=\"([\w-]+)\"([^>]*)>", html):
        attributes = match.group(2)
        method = re.search(r'method="(\w+)"', attributes)
        action = re.search(r'action="([^"]+)"', attributes)
        found[match.group(1)] = (
            method.group(1) if method else "get",
            action.group(1) if action else "",
        )
    return found


async def test_every_door_form_posts_to_the_server(client: httpx.AsyncClient, org: Org) -> None:
    with clock.frozen_at(NOW):
        activity_id = await open_door(org)
        await sign_in(client, org.phones["organiser_a"])
        html = (await client.get(f"/door/{activity_id}")).text
    assert forms(html) == {
        "code-form": ("post", f"/door/{activity_id}/check"),
        "search-form": ("post", f"/door/{activity_id}/look-up"),
        "walk-in-form": ("post", f"/door/{activity_id}/walk-in"),
    }


async def test_a_typed_code_is_admitted_as_a_page(client: httpx.AsyncClient, org: Org) -> None:
    with clock.frozen_at(NOW):
        activity_id = await open_door(org)
        (person,) = await workers(1)
        registration, _ = await activities.register(person.actor, activity_id)
        code = tokens.ticket_code(registration.id, activity_id, 0)
        await sign_in(client, org.phones["organiser_a"])
        first = await post_form(client, f"/door/{activity_id}/check", {"code": code})
        second = await post_form(client, f"/door/{activity_id}/check", {"code": code})
        forged = await post_form(client, f"/door/{activity_id}/check", {"code": "NOTACODE"})
    assert first.status_code == 200
    assert 'class="verdict-card verdict-green"' in first.text
    assert zh("Welcome in") in first.text and person.name in first.text
    assert full_phones(first.text) == []
    assert 'class="verdict-card verdict-amber"' in second.text
    assert 'class="verdict-card verdict-red"' in forged.text
    assert code not in str(first.url) and "?" not in str(first.url)
    assert await count(Scan) == 3  # one admission, one duplicate, one invalid


async def test_look_up_then_admit_and_a_walk_in(client: httpx.AsyncClient, org: Org) -> None:
    with clock.frozen_at(NOW):
        activity_id = await open_door(org)
        (person,) = await workers(1)
        registration, _ = await activities.register(person.actor, activity_id)
        await sign_in(client, org.phones["organiser_a"])
        found = await post_form(client, f"/door/{activity_id}/look-up", {"q": person.name})
        assert f'action="/door/{activity_id}/admit/{registration.id}"' in found.text
        admitted = await post_form(client, f"/door/{activity_id}/admit/{registration.id}", {})
        walked = await post_form(
            client,
            f"/door/{activity_id}/walk-in",
            {"phone": "13912345678", "name": "路人甲"},
        )
        nameless = await post_form(
            client, f"/door/{activity_id}/walk-in", {"phone": "13912345679", "name": ""}
        )
    assert 'class="verdict-card verdict-green"' in admitted.text
    assert 'class="verdict-card verdict-green"' in walked.text and "路人甲" in walked.text
    assert "13912345678" not in walked.text  # only masked
    assert nameless.status_code == 400
    assert zh("No member has this phone number yet. Add their name to register them.") in (
        nameless.text
    )


async def test_a_worker_cannot_use_the_door_forms(client: httpx.AsyncClient, org: Org) -> None:
    with clock.frozen_at(NOW):
        activity_id = await open_door(org)
        await sign_in(client, org.phones["worker_a1"])
        response = await post_form(client, f"/door/{activity_id}/check", {"code": "X"})
    assert response.status_code == 403
    assert await count(Scan) == 0


async def test_a_refusal_says_where_the_ticket_belongs_and_when_the_door_opens(
    client: httpx.AsyncClient, org: Org
) -> None:
    with clock.frozen_at(NOW):
        here = await open_door(org)
        elsewhere = await open_door(org, title="另一场招聘会")
        later = await new_published(org, title="下周的读书会", kind="reading_session")
        (person,) = await workers(1)
        other_ticket, _ = await activities.register(person.actor, elsewhere)
        early_ticket, _ = await activities.register(person.actor, later)
        await sign_in(client, org.phones["organiser_a"])
        wrong = await client.post(
            "/api/v1/checkins",
            json={"activity_id": here, "code": tokens.ticket_code(other_ticket.id, elsewhere, 0)},
            headers=await bearer(org.phones["organiser_a"]),
        )
        early = await post_form(
            client, f"/door/{later}/check", {"code": tokens.ticket_code(early_ticket.id, later, 0)}
        )
    assert wrong.json()["result"] == "wrong_activity"
    assert wrong.json()["ticket_activity"] == "另一场招聘会"
    assert 'class="verdict-card verdict-amber"' in early.text
    opens = (await checkin.door_state(org.organiser_a, later)).opens_at
    with language("zh-CN"):
        assert zh("Check-in opens at %(time)s", time=localtime(opens)) in early.text
