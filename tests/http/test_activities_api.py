"""The activities JSON API of issue 3 over HTTP: status codes, bodies, error codes and
messages in the caller's language, scoping by node, and a signup rush with no overbooking.
The rules themselves are covered through the services in tests/service/test_activities.py."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from service.activities import services as activities
from service.activities.tables import Activity, Registration
from service.orgs import services as orgs
from service.orgs.tables import Member
from service.seams import SEAMS
from service.tickets import tokens
from tests.conftest import Org, add_member, sign_in
from tests.http.activity_helpers import (
    END,
    NOW,
    START,
    bearer,
    en,
    iso,
    new_draft,
    new_published,
    workers,
    zh,
)

SHANGHAI = timezone(timedelta(hours=8))


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": "job_fair",
        "title": "春风行动招聘会",
        "starts_at": iso(START.astimezone(SHANGHAI)),
        "ends_at": iso(END.astimezone(SHANGHAI)),
        "capacity": 50,
        "description": "带上简历",
        "venue": {"name": "县人力资源市场", "address": "城关镇人民路 1 号"},
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not ...}


def instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"no offset in {text!r}"
    return moment


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    payload = response.json()
    return response.status_code, payload["code"], payload["message"]


async def activity_count() -> int:
    return int(await Activity.count().run())


async def registration_count() -> int:
    return int(await Registration.count().run())


# --- creating -------------------------------------------------------------------------------


async def test_create_returns_a_draft_with_iso_times(client: httpx.AsyncClient, org: Org) -> None:
    response = await client.post(
        "/api/v1/activities", json=body(), headers=await bearer(org.phones["organiser_a"])
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert isinstance(created["id"], int)
    assert created["status"] == "draft"
    assert (created["kind"], created["title"], created["capacity"]) == (
        "job_fair",
        "春风行动招聘会",
        50,
    )
    assert created["owner_code"] == "union-a"
    assert created["venue_name"] == "县人力资源市场"
    # Sent with +08:00, returned with an offset, the same instants.
    assert instant(created["starts_at"]) == START
    assert instant(created["ends_at"]) == END
    fetched = await client.get(
        f"/api/v1/activities/{created['id']}",
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert fetched.status_code == 200
    assert fetched.json()["title"] == "春风行动招聘会"
    assert fetched.json()["campaign"] == ""  # none given


async def test_an_activity_names_its_campaign(client: httpx.AsyncClient, org: Org) -> None:
    headers = await bearer(org.phones["organiser_a"])
    response = await client.post(
        "/api/v1/activities", json=body(campaign=" 春风行动 "), headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["campaign"] == "春风行动"
    fetched = await client.get(f"/api/v1/activities/{response.json()['id']}", headers=headers)
    assert fetched.json()["campaign"] == "春风行动"


@pytest.mark.parametrize(
    ("overrides", "message", "params"),
    [
        (
            {"ends_at": iso(START - timedelta(hours=1))},
            "The end must be after the start.",
            {},
        ),
        (
            {"capacity": 0},
            "The number of places must be between 1 and %(limit)s.",
            {"limit": 100000},
        ),
        (
            {"capacity": 100_001},
            "The number of places must be between 1 and %(limit)s.",
            {"limit": 100000},
        ),
        ({"title": ""}, "Give the activity a title.", {}),
        (
            {"title": "长" * 201},
            "Keep the title to %(limit)s characters or fewer.",
            {"limit": 200},
        ),
        ({"kind": "party"}, "Choose an activity kind from the list.", {}),
        (
            {"campaign": "春" * 61},
            "Keep this to %(limit)s characters or fewer.",
            {"limit": 60},
        ),
    ],
    ids=[
        "end-before-start",
        "capacity-0",
        "capacity-100001",
        "title-empty",
        "title-201",
        "kind",
        "campaign-61",
    ],
)
async def test_bad_activity_is_a_400_in_chinese_and_nothing_written(
    client: httpx.AsyncClient,
    org: Org,
    overrides: dict[str, Any],
    message: str,
    params: dict[str, Any],
) -> None:
    response = await client.post(
        "/api/v1/activities",
        json=body(**overrides),
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert error_of(response) == (400, "validation_error", zh(message, **params))
    assert await activity_count() == 0


GENERIC = "Something in the request was not right. Check it and try again."


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"json": body(title=...)}, id="missing-title"),
        pytest.param({"json": body(starts_at=...)}, id="missing-start"),
        pytest.param({"json": {}}, id="empty-object"),
        pytest.param({"json": body(capacity="十个")}, id="capacity-string"),
        pytest.param({"json": body(starts_at="明天上午")}, id="start-not-a-time"),
        pytest.param({"json": body(title=["a"])}, id="title-list"),
        pytest.param({"json": [body()]}, id="array"),
        pytest.param(
            {"content": b"{kind: job_fair", "headers": {"content-type": "application/json"}},
            id="not-json",
        ),
        pytest.param(
            {"content": "标题=招聘会".encode(), "headers": {"content-type": "text/plain"}},
            id="text-body",
        ),
    ],
)
async def test_malformed_bodies_are_a_400_validation_error(
    client: httpx.AsyncClient, org: Org, payload: dict[str, Any]
) -> None:
    headers = {**payload.pop("headers", {}), **await bearer(org.phones["organiser_a"])}
    response = await client.post("/api/v1/activities", headers=headers, **payload)
    assert error_of(response) == (400, "validation_error", zh(GENERIC))
    assert await activity_count() == 0


async def test_a_2_mb_body_is_refused_with_413(client: httpx.AsyncClient, org: Org) -> None:
    response = await client.post(
        "/api/v1/activities",
        json=body(description="长" * (1024 * 1024)),  # 3 bytes each in UTF-8
        headers=await bearer(org.phones["organiser_a"]),
    )
    status, code, message = error_of(response)
    assert status == 413
    assert code == "too_large"
    assert message == zh("What you sent is too large. Shorten it and try again.")
    assert await activity_count() == 0


# --- languages ------------------------------------------------------------------------------


async def test_anonymous_gets_401_json_in_chinese_or_english(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/activities", "/api/v1/activities/1", "/api/v1/me/registrations"):
        default = await client.get(path)
        assert error_of(default) == (401, "not_signed_in", zh("Sign in to continue.")), path
    english = await client.get("/api/v1/activities", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert error_of(english) == (401, "not_signed_in", en("Sign in to continue."))


async def test_anonymous_api_writes_get_401_not_a_csrf_page_message(
    client: httpx.AsyncClient, org: Org
) -> None:
    """An API client that forgot its token carries no cookies, so there is nothing to
    forge: it must hear "sign in" (401), not "this form has expired" (403)."""
    activity_id = await new_published(org)
    for method, path, payload in (
        ("POST", "/api/v1/activities", body()),
        ("POST", f"/api/v1/activities/{activity_id}/registrations", None),
        ("POST", f"/api/v1/activities/{activity_id}/close", None),
    ):
        response = await client.request(method, path, json=payload)
        assert error_of(response) == (401, "not_signed_in", zh("Sign in to continue.")), path
    assert await activity_count() == 1
    assert await registration_count() == 0
    assert (await activities.get_activity(org.organiser_a, activity_id)).status == "published"


async def test_bearer_requests_speak_the_members_stored_language(
    client: httpx.AsyncClient, org: Org
) -> None:
    bad = body(ends_at=iso(START - timedelta(hours=1)))
    headers = await bearer(org.phones["organiser_a"])
    # Stored zh-CN wins over the header.
    stored_zh = await client.post(
        "/api/v1/activities", json=bad, headers={**headers, "Accept-Language": "en"}
    )
    assert error_of(stored_zh)[2] == zh("The end must be after the start.")
    await orgs.set_language(org.organiser_a.member_id, "en")
    stored_en = await client.post("/api/v1/activities", json=bad, headers=headers)
    assert error_of(stored_en) == (400, "validation_error", "The end must be after the start.")
    both = await client.post(
        "/api/v1/activities", json=bad, headers={**headers, "Accept-Language": "zh-CN"}
    )
    assert error_of(both)[2] == "The end must be after the start."


async def test_signed_in_members_stored_language_wins_over_accept_language(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["worker_a1"])
    response = await client.get("/api/v1/activities/999999", headers={"Accept-Language": "en"})
    status, code, message = error_of(response)
    assert (status, code) == (404, "not_found")
    assert message == zh("There is no such activity.")


# --- publish, close, cancel -----------------------------------------------------------------


async def test_publish_close_and_cancel_return_the_activity(
    client: httpx.AsyncClient, org: Org
) -> None:
    headers = await bearer(org.phones["organiser_a"])
    first = await new_draft(org)
    second = await new_draft(org, title="读书分享会", kind="reading_session")

    published = await client.post(f"/api/v1/activities/{first}/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert (published.json()["id"], published.json()["status"]) == (first, "published")

    closed = await client.post(f"/api/v1/activities/{first}/close", headers=headers)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"

    no_reason = await client.post(
        f"/api/v1/activities/{second}/cancel", json={"reason": "  "}, headers=headers
    )
    assert error_of(no_reason) == (
        400,
        "validation_error",
        zh("Say why the activity is cancelled."),
    )
    empty_body = await client.post(f"/api/v1/activities/{second}/cancel", headers=headers)
    assert empty_body.status_code == 400
    assert (await activities.get_activity(org.organiser_a, second)).status == "draft"

    cancelled = await client.post(
        f"/api/v1/activities/{second}/cancel", json={"reason": "台风预警"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == (
        "cancelled",
        "台风预警",
    )


async def test_publishing_a_start_in_the_past_is_a_400_naming_the_field(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_draft(
        org, starts_at=NOW - timedelta(hours=2), ends_at=NOW + timedelta(hours=2)
    )
    response = await client.post(
        f"/api/v1/activities/{activity_id}/publish",
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert error_of(response) == (
        400,
        "validation_error",
        zh("The start time has passed. Move it later before publishing."),
    )
    assert response.json().get("field") == "starts_at", response.json()
    assert (await activities.get_activity(org.organiser_a, activity_id)).status == "draft"


# --- reading ----------------------------------------------------------------------------------


async def test_who_sees_which_activities(client: httpx.AsyncClient, org: Org) -> None:
    open_a = await new_published(org, title="甲开放活动")
    draft_a = await new_draft(org, title="甲草稿活动")
    open_b = await new_published(org, by="organiser_b", title="乙开放活动")
    await new_published(org, title="甲环卫专场", eligible_groups=["sanitation"])

    async def titles(role: str) -> set[str]:
        response = await client.get("/api/v1/activities", headers=await bearer(org.phones[role]))
        assert response.status_code == 200, response.text
        found = [item["title"] for item in response.json()]
        assert len(found) == len(set(found)), found
        return set(found)

    assert await titles("worker_a1") == {"甲开放活动"}
    assert await titles("organiser_a") == {"甲环卫专场", "甲开放活动", "甲草稿活动"}
    assert await titles("organiser_b") == {"乙开放活动"}

    worker = await bearer(org.phones["worker_a1"])
    hidden = await client.get(f"/api/v1/activities/{draft_a}", headers=worker)
    assert error_of(hidden) == (404, "not_found", zh("There is no such activity."))
    other_union = await client.get(f"/api/v1/activities/{open_b}", headers=worker)
    assert other_union.status_code == 404
    shown = await client.get(f"/api/v1/activities/{open_a}", headers=worker)
    assert (shown.status_code, shown.json()["status"]) == (200, "published")
    as_b = await client.get(
        f"/api/v1/activities/{draft_a}", headers=await bearer(org.phones["organiser_b"])
    )
    assert as_b.status_code == 404


async def test_kind_filter_on_the_list(client: httpx.AsyncClient, org: Org) -> None:
    await new_published(org, title="招聘会")
    await new_published(org, title="读书会", kind="reading_session")
    headers = await bearer(org.phones["worker_a1"])
    response = await client.get("/api/v1/activities?kind=reading_session", headers=headers)
    assert [item["title"] for item in response.json()] == ["读书会"]
    unknown = await client.get("/api/v1/activities?kind=party", headers=headers)
    assert error_of(unknown)[:2] == (400, "validation_error")


# --- registrations ---------------------------------------------------------------------------


REGISTRATION_KEYS = {"id", "status", "waitlist_position", "ticket_code"}


async def test_signing_up_is_201_then_200_with_the_same_registration(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    headers = await bearer(org.phones["worker_a1"])
    url = f"/api/v1/activities/{activity_id}/registrations"

    first = await client.post(url, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json().keys() >= REGISTRATION_KEYS
    assert first.json()["status"] == "confirmed"
    assert first.json()["waitlist_position"] is None
    # The QR payload of a confirmed place: it verifies, and names this registration.
    ticket = tokens.verify_ticket(first.json()["ticket_code"])
    assert (ticket.ticket_id, ticket.activity_id) == (first.json()["id"], activity_id)

    again = await client.post(url, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "confirmed"
    assert again.json()["ticket_code"] == first.json()["ticket_code"]
    assert await registration_count() == 1

    seen = await client.get(f"/api/v1/activities/{activity_id}", headers=headers)
    assert seen.json()["confirmed"] == 1


async def test_the_waitlist_numbers_people_in_order(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org, capacity=1)
    people = await workers(4)
    results = []
    for person in people:
        response = await client.post(
            f"/api/v1/activities/{activity_id}/registrations",
            headers=await bearer(person.phone),
        )
        assert response.status_code == 201, response.text
        results.append((response.json()["status"], response.json()["waitlist_position"]))
    assert results == [
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
        ("waitlisted", 3),
    ]


@pytest.mark.parametrize(
    ("state", "code", "message"),
    [
        ("draft", "activity_not_published", "This activity is not open yet."),
        ("closed", "registration_closed", "Registration for this activity has closed."),
        ("cancelled", "activity_cancelled", "This activity has been cancelled."),
        (
            "ineligible",
            "not_eligible",
            "This activity is not open to your organisation or work group.",
        ),
    ],
)
async def test_signup_refusals_have_stable_codes(
    client: httpx.AsyncClient, org: Org, state: str, code: str, message: str
) -> None:
    if state == "draft":
        activity_id = await new_draft(org)
    elif state == "ineligible":
        activity_id = await new_published(org, eligible_groups=["sanitation"])
    else:
        activity_id = await new_published(org)
    if state == "closed":
        await activities.close(org.organiser_a, activity_id)
    if state == "cancelled":
        await activities.cancel(org.organiser_a, activity_id, "暴雨")
    response = await client.post(
        f"/api/v1/activities/{activity_id}/registrations",
        headers=await bearer(org.phones["worker_a1"]),
    )
    status, got_code, got_message = error_of(response)
    assert 400 <= status < 500
    assert (got_code, got_message) == (code, zh(message))
    assert await registration_count() == 0


async def test_signup_before_the_window_opens_is_registration_not_open(
    client: httpx.AsyncClient, org: Org
) -> None:
    opens = NOW + timedelta(days=1)
    activity_id = await new_published(org, registration_opens_at=opens)
    response = await client.post(
        f"/api/v1/activities/{activity_id}/registrations",
        headers=await bearer(org.phones["worker_a1"]),
    )
    status, code, message = error_of(response)
    assert 400 <= status < 500
    assert code == "registration_not_open"
    assert message == zh(
        "Registration opens at %(opens)s.", opens=opens.isoformat(timespec="minutes")
    )
    assert await registration_count() == 0


async def test_a_worker_of_another_union_cannot_sign_up(
    client: httpx.AsyncClient, org: Org
) -> None:
    await add_member("13700009999", "乙工会职工", "union-b", ["worker"], "courier")
    activity_id = await new_published(org)
    response = await client.post(
        f"/api/v1/activities/{activity_id}/registrations",
        headers=await bearer("13700009999"),
    )
    status, code, _ = error_of(response)
    assert 400 <= status < 500
    assert code in {"not_eligible", "not_found"}
    assert await registration_count() == 0


async def test_cancelling_a_registration_owner_and_organiser_only(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    other = (await workers(1))[0]
    mine = await client.post(
        f"/api/v1/activities/{activity_id}/registrations",
        headers=await bearer(org.phones["worker_a1"]),
    )
    registration_id = mine.json()["id"]
    theirs = await client.post(
        f"/api/v1/activities/{activity_id}/registrations", headers=await bearer(other.phone)
    )

    for intruder in (other.phone, org.phones["organiser_b"]):
        headers = await bearer(intruder)
        refused = await client.delete(f"/api/v1/registrations/{registration_id}", headers=headers)
        assert error_of(refused) == (404, "not_found", zh("There is no such registration.")), (
            intruder
        )
        peek = await client.get(f"/api/v1/registrations/{registration_id}", headers=headers)
        assert peek.status_code == 404
    still = await client.get(
        f"/api/v1/registrations/{registration_id}", headers=await bearer(org.phones["worker_a1"])
    )
    assert (still.status_code, still.json()["status"]) == (200, "confirmed")

    by_owner = await client.delete(
        f"/api/v1/registrations/{registration_id}", headers=await bearer(org.phones["worker_a1"])
    )
    assert by_owner.status_code == 200, by_owner.text
    assert by_owner.json()["status"] == "cancelled"

    by_organiser = await client.delete(
        f"/api/v1/registrations/{theirs.json()['id']}",
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert by_organiser.status_code == 200, by_organiser.text
    assert by_organiser.json()["status"] == "cancelled"
    after = await client.get(
        f"/api/v1/activities/{activity_id}", headers=await bearer(org.phones["organiser_a"])
    )
    assert after.json()["confirmed"] == 0


async def test_my_registrations(client: httpx.AsyncClient, org: Org) -> None:
    full = await new_published(org, title="满员活动", capacity=1)
    roomy = await new_published(
        org,
        title="读书会",
        kind="reading_session",
        starts_at=START + timedelta(days=1),
        ends_at=END + timedelta(days=1),
    )
    other = (await workers(1))[0]
    await activities.register(other.actor, full)
    headers = await bearer(org.phones["worker_a1"])
    for activity_id in (full, roomy):
        response = await client.post(
            f"/api/v1/activities/{activity_id}/registrations", headers=headers
        )
        assert response.status_code == 201

    response = await client.get("/api/v1/me/registrations", headers=headers)
    assert response.status_code == 200, response.text
    assert [
        (
            item["activity"]["title"],
            item["registration"]["status"],
            item["registration"]["waitlist_position"],
        )
        for item in response.json()
    ] == [("满员活动", "waitlisted", 1), ("读书会", "confirmed", None)]
    theirs = await client.get("/api/v1/me/registrations", headers=await bearer(other.phone))
    assert [item["activity"]["title"] for item in theirs.json()] == ["满员活动"]


# --- capacity and editing ----------------------------------------------------------------------


async def test_capacity_raise_promotes_and_lowering_below_confirmed_is_refused(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org, capacity=2)
    people = await workers(3)
    registrations = [(await activities.register(person.actor, activity_id))[0] for person in people]
    assert registrations[2].status == "waitlisted"
    organiser = await bearer(org.phones["organiser_a"])
    url = f"/api/v1/activities/{activity_id}/capacity"

    raised = await client.put(url, json={"capacity": 3}, headers=organiser)
    assert raised.status_code == 200, raised.text
    assert (raised.json()["capacity"], raised.json()["confirmed"]) == (3, 3)
    promoted = await client.get(
        f"/api/v1/registrations/{registrations[2].id}", headers=await bearer(people[2].phone)
    )
    assert (promoted.json()["status"], promoted.json()["waitlist_position"]) == (
        "confirmed",
        None,
    )

    lowered = await client.put(url, json={"capacity": 2}, headers=organiser)
    status, code, message = error_of(lowered)
    assert 400 <= status < 500
    assert code == "capacity_below_confirmed"
    assert message == zh(
        "%(confirmed)s people are already confirmed: the capacity cannot go below that.",
        confirmed=3,
    )
    zero = await client.put(url, json={"capacity": 0}, headers=organiser)
    assert error_of(zero)[:2] == (400, "validation_error")
    current = await activities.get_activity(org.organiser_a, activity_id)
    assert (current.capacity, current.confirmed) == (3, 3)


async def test_another_nodes_organiser_cannot_touch_the_activity(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    draft_id = await new_draft(org, title="甲草稿")
    intruder = await bearer(org.phones["organiser_b"])
    for method, path, payload in (
        ("PUT", f"/api/v1/activities/{activity_id}", body(title="被改了")),
        ("PUT", f"/api/v1/activities/{activity_id}/capacity", {"capacity": 99}),
        ("POST", f"/api/v1/activities/{activity_id}/close", None),
        ("POST", f"/api/v1/activities/{activity_id}/cancel", {"reason": "乱来"}),
        ("POST", f"/api/v1/activities/{draft_id}/publish", None),
        ("GET", f"/api/v1/activities/{activity_id}/registrations", None),
    ):
        response = await client.request(method, path, json=payload, headers=intruder)
        assert error_of(response) == (404, "not_found", zh("There is no such activity.")), path
    seen = await activities.get_activity(org.organiser_a, activity_id)
    assert (seen.title, seen.capacity, seen.status) == ("春风行动招聘会", 5, "published")
    assert (await activities.get_activity(org.organiser_a, draft_id)).status == "draft"


async def test_the_organiser_edits_their_own_activity(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_draft(org)
    response = await client.put(
        f"/api/v1/activities/{activity_id}",
        json=body(title="改过的招聘会", capacity=80),
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["title"], response.json()["capacity"]) == ("改过的招聘会", 80)


async def test_workers_and_staff_cannot_create(client: httpx.AsyncClient, org: Org) -> None:
    for role in ("worker_a1", "staff_a"):
        response = await client.post(
            "/api/v1/activities", json=body(), headers=await bearer(org.phones[role])
        )
        assert error_of(response)[:2] == (403, "forbidden"), role
    assert await activity_count() == 0


# --- a rush over HTTP ------------------------------------------------------------------------


async def rush(client: httpx.AsyncClient, org: Org) -> tuple[int, list[httpx.Response]]:
    """30 members with their own tokens sign up at once for 5 places."""
    activity_id = await new_published(org, capacity=5)
    node_id = (await orgs.node_by_code("ent-a1")).id
    phones = [f"136{index:08d}" for index in range(30)]
    await Member.insert(
        *(
            Member(
                phone=phone,
                name=f"抢报{index}",
                node=node_id,
                worker_group="courier",
                roles="worker",
            )
            for index, phone in enumerate(phones)
        )
    ).run()
    tokens = [await bearer(phone) for phone in phones]

    async def one(headers: dict[str, str]) -> httpx.Response:
        return await client.post(f"/api/v1/activities/{activity_id}/registrations", headers=headers)

    return activity_id, list(await asyncio.gather(*(one(headers) for headers in tokens)))


async def test_thirty_concurrent_signups_for_five_places(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id, responses = await rush(client, org)
    assert [r.text for r in responses if r.status_code != 201] == []
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("confirmed") == 5
    assert statuses.count("waitlisted") == 25
    positions = sorted(
        r.json()["waitlist_position"] for r in responses if r.json()["status"] == "waitlisted"
    )
    assert positions == list(range(1, 26))
    assert len({r.json()["id"] for r in responses}) == 30
    seen = await activities.get_activity(org.organiser_a, activity_id)
    assert seen.confirmed == 5
    confirmed_rows = (
        await Registration.count()
        .where((Registration.activity == activity_id) & (Registration.status == "confirmed"))
        .run()
    )
    assert confirmed_rows == 5


async def test_the_rush_oversells_without_the_conditional_write(
    client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control run: the same rush with the seat taken on an earlier read must oversell,
    so the test above can fail."""
    monkeypatch.setattr(SEAMS, "conditional_seat_write", False)
    _, responses = await rush(client, org)
    assert all(r.status_code == 201 for r in responses)
    assert [r.json()["status"] for r in responses].count("confirmed") > 5


# --- the schema ------------------------------------------------------------------------------


async def test_openapi_lists_the_activity_paths(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/activities": {"get", "post"},
        "/api/v1/activities/{activity_id}": {"get", "put"},
        "/api/v1/activities/{activity_id}/publish": {"post"},
        "/api/v1/activities/{activity_id}/close": {"post"},
        "/api/v1/activities/{activity_id}/cancel": {"post"},
        "/api/v1/activities/{activity_id}/capacity": {"put"},
        "/api/v1/activities/{activity_id}/registrations": {"get", "post"},
        "/api/v1/registrations/{registration_id}": {"get", "delete"},
        "/api/v1/me/registrations": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, sorted(paths)
        assert methods <= set(paths[path]), (path, sorted(paths[path]))
    assert not [path for path in paths if path.startswith(("/organise", "/activities"))]
