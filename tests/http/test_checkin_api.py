"""The door's JSON API (issue 4) over HTTP: check-ins, batches, roster with its cursor,
ticket keys, revocations and the QR; bad codes and bad requests; who may call what; and
masked phones in every door response. The rules themselves are covered through the
services in tests/service/test_checkin.py."""

from __future__ import annotations

import base64
import os
import random
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service import clock, signing
from service.activities.tables import Activity, Registration
from service.checkin import services as checkin
from service.checkin.schemas import DoorSettingsIn
from service.checkin.tables import Scan
from service.orgs.tables import Member
from service.tickets import tokens
from service.tickets.tables import Revocation, TicketState
from tests.conftest import Org, add_member
from tests.http.activity_helpers import NOW, Person, bearer, new_published, workers, zh
from tests.http.helpers import count, full_phones

ATTENDEE_KEYS = {"name", "phone_masked"}
CHECKIN_KEYS = {
    "result",
    "registration_id",
    "attendee",
    "first_checked_in_at",
    "first_scanner",
}


def instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"no offset in {text!r}"
    return moment


def masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def raw(code: str) -> bytes:
    return base64.b32decode(code + "=" * (-len(code) % 8))


async def open_door(org: Org, **overrides: Any) -> int:
    """A published activity three days ahead whose door opened an hour ago."""
    activity_id = await new_published(org, **overrides)
    await checkin.update_settings(
        org.organiser_a, activity_id, DoorSettingsIn(opens_at=NOW - timedelta(hours=1))
    )
    return activity_id


async def sign_up(client: httpx.AsyncClient, person: Person, activity_id: int) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/activities/{activity_id}/registrations", headers=await bearer(person.phone)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def scan(
    client: httpx.AsyncClient, headers: dict[str, str], activity_id: int, code: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/checkins",
        json={"activity_id": activity_id, "code": code, **extra},
        headers=headers,
    )


def verdict(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert full_phones(response.text) == [], response.text
    return dict(response.json())


async def ledger() -> dict[str, Any]:
    """Everything a scan must not change: registrations, activities (seats taken),
    tickets' counters, revocations and members."""
    return {
        "registrations": await Registration.select(
            Registration.id, Registration.status, Registration.updated_at, Registration.queue_no
        )
        .order_by(Registration.id)
        .run(),
        "activities": await Activity.select(Activity.id, Activity.taken, Activity.status)
        .order_by(Activity.id)
        .run(),
        "ticket_state": await TicketState.select().order_by(TicketState.id).run(),
        "revocations": await count(Revocation),
        "members": await count(Member),
    }


# --- one scan ---------------------------------------------------------------------------


async def test_a_scan_admits_then_says_already_checked_in_with_the_first_scan(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await open_door(org)
    (person,) = await workers(1)
    registration = await sign_up(client, person, activity_id)
    code = registration["ticket_code"]
    organiser = await bearer(org.phones["organiser_a"])

    first = verdict(await scan(client, organiser, activity_id, code, client_id="door-a-0001"))
    assert first.keys() >= CHECKIN_KEYS
    assert first["result"] == "admitted"
    assert first["registration_id"] == registration["id"]
    assert first["attendee"].keys() == ATTENDEE_KEYS
    assert first["attendee"] == {"name": person.name, "phone_masked": masked(person.phone)}
    assert first["first_scanner"] == "甲组织者"
    admitted_at = instant(first["first_checked_in_at"])
    assert abs(admitted_at - datetime.now(admitted_at.tzinfo)) < timedelta(minutes=1)

    # Another scanner, another moment: amber, naming who let them in and when.
    await checkin.assign_staff(org.organiser_a, activity_id, org.phones["staff_a"])
    staff = await bearer(org.phones["staff_a"])
    with clock.frozen_at(datetime.now(admitted_at.tzinfo) + timedelta(minutes=3)):
        again = verdict(await scan(client, staff, activity_id, code, client_id="door-b-0001"))
    assert again["result"] == "already_checked_in"
    assert again["registration_id"] == registration["id"]
    assert again["attendee"] == first["attendee"]
    assert instant(again["first_checked_in_at"]) == admitted_at
    assert again["first_scanner"] == "甲组织者"

    state = await client.get(f"/api/v1/activities/{activity_id}/door", headers=staff)
    assert state.status_code == 200, state.text
    assert (state.json()["admitted"], state.json()["confirmed"]) == (1, 1)
    assert await count(Scan) == 2


async def test_the_same_client_id_returns_the_first_answer_and_writes_nothing(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await open_door(org)
    (person,) = await workers(1)
    code = (await sign_up(client, person, activity_id))["ticket_code"]
    organiser = await bearer(org.phones["organiser_a"])
    first = verdict(await scan(client, organiser, activity_id, code, client_id="phone1:000001"))
    replay = verdict(await scan(client, organiser, activity_id, code, client_id="phone1:000001"))
    assert replay == first
    assert replay["result"] == "admitted"
    assert await count(Scan) == 1
    # Someone else reusing that client id is told so, and nothing is recorded.
    await checkin.assign_staff(org.organiser_a, activity_id, org.phones["staff_a"])
    stolen = await scan(
        client, await bearer(org.phones["staff_a"]), activity_id, code, client_id="phone1:000001"
    )
    assert stolen.status_code == 409, stolen.text
    assert stolen.json()["code"] == "conflict"
    assert await count(Scan) == 1


async def test_a_ticket_admitted_at_gate_a_is_already_checked_in_at_gate_b(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await open_door(org)
    await checkin.update_settings(
        org.organiser_a,
        activity_id,
        DoorSettingsIn(opens_at=NOW - timedelta(hours=1), gates=["北门", "南门"]),
    )
    (person,) = await workers(1)
    code = (await sign_up(client, person, activity_id))["ticket_code"]
    organiser = await bearer(org.phones["organiser_a"])
    north = verdict(await scan(client, organiser, activity_id, code, gate="北门"))
    south = verdict(await scan(client, organiser, activity_id, code, gate="南门"))
    assert (north["result"], south["result"]) == ("admitted", "already_checked_in")
    assert south["first_gate"] == "北门"
    door = await client.get(f"/api/v1/activities/{activity_id}/door", headers=organiser)
    assert door.json()["admitted"] == 1
    assert door.json()["gates"] == ["北门", "南门"]
    unknown = await scan(client, organiser, activity_id, code, gate="后门")
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "gate"


# --- batches ----------------------------------------------------------------------------


async def test_a_batch_answers_in_order_and_a_replay_adds_nothing(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await open_door(org)
    people = await workers(2)
    codes = [(await sign_up(client, person, activity_id))["ticket_code"] for person in people]
    organiser = await bearer(org.phones["organiser_a"])
    now = datetime.now().astimezone()
    scans = [
        {"code": codes[0], "client_id": "offline-0001", "scanned_at": (now).isoformat()},
        {"code": "NOT A TICKET", "client_id": "offline-0002", "scanned_at": now.isoformat()},
        {
            "code": codes[1],
            "client_id": "offline-0003",
            "scanned_at": (now - timedelta(minutes=5)).isoformat(),
        },
        {
            "code": codes[0],
            "client_id": "offline-0004",
            "scanned_at": (now + timedelta(seconds=30)).isoformat(),
        },
    ]
    url = "/api/v1/checkins/batch"
    response = await client.post(
        url, json={"activity_id": activity_id, "scans": scans}, headers=organiser
    )
    assert response.status_code == 200, response.text
    assert full_phones(response.text) == []
    results = response.json()["results"]
    assert [r["result"] for r in results] == [
        "admitted",
        "invalid",
        "admitted",
        "already_checked_in",
    ]
    assert [r["client_id"] for r in results] == [s["client_id"] for s in scans]
    assert results[3]["first_checked_in_at"] == results[0]["first_checked_in_at"]
    assert instant(results[2]["first_checked_in_at"]) == instant(scans[2]["scanned_at"])
    assert results[2]["attendee"]["phone_masked"] == masked(people[1].phone)
    rows = await count(Scan)
    assert rows == 4

    replay = await client.post(
        url, json={"activity_id": activity_id, "scans": scans}, headers=organiser
    )
    assert replay.status_code == 200
    assert replay.json()["results"] == results
    assert await count(Scan) == rows
    door = await client.get(f"/api/v1/activities/{activity_id}/door", headers=organiser)
    assert door.json()["admitted"] == 2

    empty = await client.post(
        url, json={"activity_id": activity_id, "scans": []}, headers=organiser
    )
    assert (empty.status_code, empty.json()) == (200, {"results": []})


# --- roster -----------------------------------------------------------------------------


async def test_the_roster_holds_what_a_door_needs_and_since_returns_only_changes(
    client: httpx.AsyncClient, org: Org
) -> None:
    start = datetime.now().astimezone().replace(microsecond=0)
    with clock.frozen_at(start):
        activity_id = await open_door(org, capacity=2)
        people = await workers(4)
        registrations = [await sign_up(client, person, activity_id) for person in people[:3]]
    assert [r["status"] for r in registrations] == ["confirmed", "confirmed", "waitlisted"]
    organiser = await bearer(org.phones["organiser_a"])
    url = f"/api/v1/activities/{activity_id}/roster"

    with clock.frozen_at(start + timedelta(minutes=1)):
        full = await client.get(url, headers=organiser)
    assert full.status_code == 200, full.text
    assert full_phones(full.text) == []
    body = full.json()
    assert body["full"] is True
    assert [t["ticket_id"] for t in body["tickets"]] == [r["id"] for r in registrations]
    first = body["tickets"][0]
    assert first["name"] == people[0].name
    assert first["phone_masked"] == masked(people[0].phone)
    assert (first["status"], first["reissue"], first["admitted_at"]) == ("confirmed", 0, None)
    assert [t["status"] for t in body["tickets"]] == ["confirmed", "confirmed", "waitlisted"]
    # Only what a door needs: no phone, no member id, no code.
    assert not {"phone", "member_id", "ticket_code"} & set(first)

    with clock.frozen_at(start + timedelta(minutes=2)):
        admitted = verdict(
            await scan(client, organiser, activity_id, registrations[1]["ticket_code"])
        )
    with clock.frozen_at(start + timedelta(minutes=3)):
        changes = await client.get(url, params={"since": body["cursor"]}, headers=organiser)
    assert changes.status_code == 200, changes.text
    delta = changes.json()
    assert delta["full"] is False
    assert [t["ticket_id"] for t in delta["tickets"]] == [registrations[1]["id"]]
    assert instant(delta["tickets"][0]["admitted_at"]) == instant(admitted["first_checked_in_at"])
    assert delta["tickets"][0]["admitted_by"] == "甲组织者"

    # A cancellation moves the waiting person up: both show up in the next delta.
    with clock.frozen_at(start + timedelta(minutes=4)):
        cancelled = await client.delete(
            f"/api/v1/registrations/{registrations[0]['id']}",
            headers=await bearer(people[0].phone),
        )
        assert cancelled.status_code == 200, cancelled.text
    with clock.frozen_at(start + timedelta(minutes=5)):
        after = (await client.get(url, params={"since": delta["cursor"]}, headers=organiser)).json()
        quiet = (
            await client.get(
                url,
                params={"since": (start + timedelta(minutes=5)).isoformat()},
                headers=organiser,
            )
        ).json()
    statuses = {t["ticket_id"]: t["status"] for t in after["tickets"]}
    assert statuses == {registrations[0]["id"]: "cancelled", registrations[2]["id"]: "confirmed"}
    cancelled_row = next(t for t in after["tickets"] if t["ticket_id"] == registrations[0]["id"])
    assert cancelled_row["reissue"] == 1
    assert quiet["tickets"] == []


@pytest.mark.parametrize("since", ["yesterday", "2026-01-01T00:00:00", "' OR 1=1 --"])
async def test_a_roster_cursor_that_is_not_one_is_a_400(
    client: httpx.AsyncClient, org: Org, since: str
) -> None:
    activity_id = await open_door(org)
    response = await client.get(
        f"/api/v1/activities/{activity_id}/roster",
        params={"since": since},
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_error"
    assert response.json()["field"] == "since"


# --- keys, revocations, the QR ----------------------------------------------------------


async def test_the_published_keys_verify_a_ticket_code(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await open_door(org)
    (person,) = await workers(1)
    code = (await sign_up(client, person, activity_id))["ticket_code"]
    response = await client.get(
        "/api/v1/ticket-keys", headers=await bearer(org.phones["organiser_a"])
    )
    assert response.status_code == 200, response.text
    keys = response.json()["keys"]
    assert keys and all(key["alg"] == "Ed25519" for key in keys)
    data = raw(code)
    body, signature = data[: -signing.SIGNATURE_BYTES], data[-signing.SIGNATURE_BYTES :]
    verified = 0
    for key in keys:
        public = base64.urlsafe_b64decode(key["public_key"] + "=" * (-len(key["public_key"]) % 4))
        assert len(public) == 32
        if key["key_id"] != data[1]:
            continue
        Ed25519PublicKey.from_public_bytes(public).verify(signature, body)  # raises if bad
        verified += 1
    assert verified == 1
    # No private material in the answer.
    private_hex = next(signing.keys_folder().glob("*.key")).read_text().strip()
    assert private_hex not in response.text
    assert base64.urlsafe_b64encode(bytes.fromhex(private_hex)).decode().rstrip("=") not in (
        response.text
    )


async def test_revocations_are_listed_with_a_cursor(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await open_door(org)
    people = await workers(2)
    mine = await sign_up(client, people[0], activity_id)
    other = await sign_up(client, people[1], activity_id)
    organiser = await bearer(org.phones["organiser_a"])
    url = "/api/v1/revocations"

    empty = await client.get(url, params={"activity_id": activity_id}, headers=organiser)
    assert empty.status_code == 200, empty.text
    assert empty.json() == {"cursor": 0, "items": []}

    reissued = await client.post(
        f"/api/v1/registrations/{mine['id']}/reissue", headers=await bearer(people[0].phone)
    )
    assert reissued.status_code == 200, reissued.text
    new_code = reissued.json()["ticket_code"]
    assert new_code != mine["ticket_code"]
    assert tokens.verify_ticket(new_code).reissue == 1

    listed = (await client.get(url, params={"activity_id": activity_id}, headers=organiser)).json()
    assert [(i["ticket_id"], i["below_reissue"], i["reason"]) for i in listed["items"]] == [
        (mine["id"], 1, "reissued")
    ]
    nothing_new = await client.get(
        url, params={"activity_id": activity_id, "since": listed["cursor"]}, headers=organiser
    )
    assert nothing_new.json() == {"cursor": listed["cursor"], "items": []}

    await client.delete(
        f"/api/v1/registrations/{other['id']}", headers=await bearer(people[1].phone)
    )
    newer = (
        await client.get(
            url, params={"activity_id": activity_id, "since": listed["cursor"]}, headers=organiser
        )
    ).json()
    assert [(i["ticket_id"], i["reason"]) for i in newer["items"]] == [(other["id"], "cancelled")]
    assert newer["cursor"] > listed["cursor"]

    # At the door: the old code is revoked, the new one admits.
    assert verdict(await scan(client, organiser, activity_id, mine["ticket_code"]))["result"] == (
        "revoked"
    )
    assert verdict(await scan(client, organiser, activity_id, new_code))["result"] == "admitted"


async def test_the_qr_is_the_owners_svg_with_an_etag(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await open_door(org, capacity=1)
    people = await workers(2)
    mine = await sign_up(client, people[0], activity_id)
    waiting = await sign_up(client, people[1], activity_id)
    assert waiting["status"] == "waitlisted" and waiting["ticket_code"] is None
    owner = await bearer(people[0].phone)
    url = f"/api/v1/registrations/{mine['id']}/qr.svg"

    first = await client.get(url, headers=owner)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in first.content
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')

    cached = await client.get(url, headers={**owner, "If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag

    # Someone else's ticket, or an organiser's look at it: no such registration.
    for other in (people[1].phone, org.phones["worker_a1"], org.phones["staff_a"]):
        refused = await client.get(url, headers=await bearer(other))
        assert refused.status_code == 404, (other, refused.text)
        assert refused.json()["code"] == "not_found"
        assert b"<svg" not in refused.content
    organiser = await client.get(url, headers=await bearer(org.phones["organiser_a"]))
    assert organiser.status_code == 404, organiser.text
    assert (await client.get(url)).status_code == 401

    # A waitlisted place has no ticket yet.
    no_ticket = await client.get(
        f"/api/v1/registrations/{waiting['id']}/qr.svg", headers=await bearer(people[1].phone)
    )
    assert no_ticket.status_code == 404, no_ticket.text
    assert no_ticket.json()["code"] == "no_ticket"
    assert no_ticket.json()["message"] == zh("Only a confirmed place has a ticket.")

    # After a reissue the phone's cached QR is stale: a new picture, a new tag.
    await client.post(f"/api/v1/registrations/{mine['id']}/reissue", headers=owner)
    fresh = await client.get(url, headers={**owner, "If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    assert fresh.content != first.content


# --- bad codes: a clear verdict, no 5xx, nothing written but the scan log ---------------


def _flip(code: str) -> str:
    data = bytearray(raw(code))
    data[3] ^= 0x10
    return b32(bytes(data))


def _stranger(code: str) -> str:
    data = raw(code)
    body = data[: -signing.SIGNATURE_BYTES]
    return b32(body + Ed25519PrivateKey.generate().sign(body))


BAD_CODES: dict[str, tuple[str, Any]] = {
    # name: (expected result, how to make the code from the scene)
    "empty": ("invalid", lambda s: ""),
    "blank": ("invalid", lambda s: "   \n\t"),
    "4 KB random": (
        "invalid",
        lambda s: "".join(random.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=4096)),
    ),
    "4 KB random bytes": ("invalid", lambda s: os.urandom(4096).decode("latin-1")),
    "not UTF-8 once": ("invalid", lambda s: b"\xff\xfe\xc3\x28ticket".decode("latin-1")),
    "SQL injection": ("invalid", lambda s: "' OR '1'='1'; DROP TABLE checkin_scan; --"),
    "SQL in base32 letters": ("invalid", lambda s: "AND1EQ1UNIONSELECT"),
    "HTML injection": ("invalid", lambda s: '<script>alert("x")</script><img src=x onerror=1>'),
    "truncated": ("invalid", lambda s: s["mine"][:-9]),
    "one character short": ("invalid", lambda s: s["mine"][:-1]),
    "bit flipped": ("invalid", lambda s: _flip(s["mine"])),
    "extra characters": ("invalid", lambda s: s["mine"] + "AAAAAAAA"),
    "signed with an unknown key": ("invalid", lambda s: _stranger(s["mine"])),
    "unknown ticket id": ("invalid", lambda s: tokens.ticket_code(999_999, s["activity"], 0)),
    "reissue from the future": (
        "invalid",
        lambda s: tokens.ticket_code(s["mine_id"], s["activity"], 5),
    ),
    "ticket id of another activity, signed": (
        "invalid",
        lambda s: tokens.ticket_code(s["elsewhere_id"], s["activity"], 0),
    ),
    "a genuine code of another type with this ticket's ids": (
        "invalid",
        lambda s: signing.sign(
            "test_poster", site_id=s["mine_id"], campaign_id=s["activity"], version=0
        ),
    ),
    "another activity's ticket": ("wrong_activity", lambda s: s["elsewhere"]),
    "cancelled": ("cancelled", lambda s: s["cancelled"]),
    "revoked": ("revoked", lambda s: s["revoked"]),
    "reissued old": ("revoked", lambda s: s["reissued_old"]),
    "waitlisted": ("waitlisted", lambda s: s["waitlisted"]),
}


async def _scene(client: httpx.AsyncClient, org: Org) -> dict[str, Any]:
    activity_id = await open_door(org, capacity=3)
    elsewhere_id = await open_door(org, title="另一场招聘会")
    people = await workers(6)
    mine = await sign_up(client, people[0], activity_id)
    cancelled = await sign_up(client, people[1], activity_id)
    twice = await sign_up(client, people[2], activity_id)
    waitlisted = await sign_up(client, people[3], activity_id)
    assert waitlisted["status"] == "waitlisted"
    elsewhere = await sign_up(client, people[4], elsewhere_id)
    # A code made while the place was confirmed, then cancelled (the place goes to the
    # waitlisted person, so that one is confirmed afterwards: use a sixth person instead).
    await client.delete(
        f"/api/v1/registrations/{cancelled['id']}", headers=await bearer(people[1].phone)
    )
    still_waiting = await sign_up(client, people[5], activity_id)
    assert still_waiting["status"] == "waitlisted"
    owner = await bearer(people[2].phone)
    reissue_url = f"/api/v1/registrations/{twice['id']}/reissue"
    revoked = (await client.post(reissue_url, headers=owner)).json()["ticket_code"]
    (await client.post(reissue_url, headers=owner)).raise_for_status()
    return {
        "activity": activity_id,
        "mine": mine["ticket_code"],
        "mine_id": mine["id"],
        "cancelled": cancelled["ticket_code"],
        "reissued_old": twice["ticket_code"],
        "revoked": revoked,
        # What a waitlisted member could only have by forging from an earlier leak: a
        # validly signed code for a place that is not confirmed.
        "waitlisted": tokens.ticket_code(still_waiting["id"], activity_id, 0),
        "elsewhere": elsewhere["ticket_code"],
        "elsewhere_id": elsewhere["id"],
    }


@pytest.mark.parametrize(("name", "expected"), [(n, e) for n, (e, _) in BAD_CODES.items()])
async def test_a_bad_code_gets_a_clear_verdict_and_writes_only_the_scan_log(
    client: httpx.AsyncClient, org: Org, name: str, expected: str, poster: signing.CodeType
) -> None:
    scene = await _scene(client, org)
    code = BAD_CODES[name][1](scene)
    organiser = await bearer(org.phones["organiser_a"])
    before = await ledger()
    scans_before = await count(Scan)

    response = await scan(client, organiser, scene["activity"], code, client_id="bad-code-0001")
    body = verdict(response)
    assert body["result"] == expected, (name, body)
    assert "<script>" not in response.text
    assert await ledger() == before
    assert await count(Scan) == scans_before + 1
    logged = await Scan.select().where(Scan.client_id == "bad-code-0001").first().run()
    assert logged is not None and logged["result"] == expected
    if expected == "invalid":
        assert body["registration_id"] is None and body["attendee"] is None
    # The same in a batch: the same verdict, still nothing but the log.
    batch = await client.post(
        "/api/v1/checkins/batch",
        json={
            "activity_id": scene["activity"],
            "scans": [{"code": code, "client_id": "bad-code-0002"}],
        },
        headers=organiser,
    )
    assert batch.status_code == 200, batch.text
    assert batch.json()["results"][0]["result"] == expected
    assert await ledger() == before
    assert await count(Scan) == scans_before + 2
    door = await client.get(f"/api/v1/activities/{scene['activity']}/door", headers=organiser)
    assert door.json()["admitted"] == 0


# --- bad requests: 400 or 413, nothing written -------------------------------------------


def _batch(size: int) -> dict[str, Any]:
    return {"scans": [{"code": "X", "client_id": f"batch-{i:06d}"} for i in range(size)]}


BAD_REQUESTS = [
    pytest.param("/api/v1/checkins", b"{not json", 400, id="malformed json"),
    pytest.param("/api/v1/checkins", b"", 400, id="empty body"),
    pytest.param("/api/v1/checkins", b'{"activity_id": ', 400, id="cut-off json"),
    pytest.param(
        "/api/v1/checkins", b'{"activity_id": {A}, "code": "\xff\xfe\xc3("}', 400, id="not utf-8"
    ),
    pytest.param("/api/v1/checkins", {"code": "X"}, 400, id="no activity"),
    pytest.param("/api/v1/checkins", {"activity_id": "{A}", "code": 12345}, 400, id="code number"),
    pytest.param(
        "/api/v1/checkins", {"activity_id": "{A}", "code": ["A", "B"]}, 400, id="code list"
    ),
    pytest.param(
        "/api/v1/checkins",
        {"activity_id": "{A}", "code": "A" * (2 * 1024 * 1024)},
        413,
        id="2 MB code",
    ),
    pytest.param(
        "/api/v1/checkins",
        {"activity_id": "{A}", "code": "X", "client_id": "short"},
        400,
        id="client_id too short",
    ),
    pytest.param(
        "/api/v1/checkins",
        {"activity_id": "{A}", "code": "X", "client_id": "x" * 65},
        400,
        id="client_id too long",
    ),
    pytest.param(
        "/api/v1/checkins",
        {"activity_id": "{A}", "code": "X", "client_id": "'; DROP TABLE x; --"},
        400,
        id="client_id injection",
    ),
    pytest.param(
        "/api/v1/checkins",
        {"activity_id": "{A}", "code": "X", "client_id": "客户端编号一二三四"},
        400,
        id="client_id not ascii",
    ),
    pytest.param(
        "/api/v1/checkins",
        {"activity_id": "{A}", "code": "X", "scanned_at": "2026-06-01T10:00:00"},
        400,
        id="scanned_at without zone",
    ),
    pytest.param(
        "/api/v1/checkins",
        {"activity_id": "{A}", "code": "X", "scanned_at": "soon"},
        400,
        id="scanned_at not a time",
    ),
    pytest.param("/api/v1/checkins/batch", {"activity_id": "{A}"}, 400, id="batch without scans"),
    pytest.param(
        "/api/v1/checkins/batch",
        {"activity_id": "{A}", "scans": [{"code": "X"}]},
        400,
        id="batch scan without client_id",
    ),
    pytest.param(
        "/api/v1/checkins/batch",
        {"activity_id": "{A}", "scans": [{"code": "X", "client_id": ""}]},
        400,
        id="batch scan with empty client_id",
    ),
    pytest.param(
        "/api/v1/checkins/batch",
        {"activity_id": "{A}", "scans": [{"code": "X", "client_id": "bad id!"}]},
        400,
        id="batch scan with bad client_id",
    ),
    pytest.param(
        "/api/v1/checkins/batch", {"activity_id": "{A}", **_batch(501)}, 400, id="501 scans"
    ),
    pytest.param("/api/v1/checkins/batch", b"[1, 2", 400, id="batch malformed json"),
]


def _fill(payload: Any, values: dict[str, Any]) -> Any:
    """Placeholders such as "{A}" replaced, in JSON values or raw bytes."""
    if isinstance(payload, bytes):
        for key, value in values.items():
            payload = payload.replace(key.encode(), str(value).encode())
        return payload
    if isinstance(payload, dict):
        return {key: _fill(value, values) for key, value in payload.items()}
    if isinstance(payload, list):
        return [_fill(value, values) for value in payload]
    return values.get(payload, payload) if isinstance(payload, str) else payload


@pytest.mark.parametrize(("url", "payload", "status"), BAD_REQUESTS)
async def test_a_bad_request_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, org: Org, url: str, payload: Any, status: int
) -> None:
    activity_id = await open_door(org)
    (person,) = await workers(1)
    await sign_up(client, person, activity_id)
    headers = await bearer(org.phones["organiser_a"])
    before = await ledger()
    payload = _fill(payload, {"{A}": activity_id})
    if isinstance(payload, bytes):
        kwargs: dict[str, Any] = {"content": payload}
        headers = {**headers, "Content-Type": "application/json"}
    else:
        kwargs = {"json": payload}
    response = await client.post(url, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["code"] == {400: "validation_error", 413: "too_large"}[status]
    assert response.json()["message"]
    assert await count(Scan) == 0
    assert await ledger() == before


async def test_500_scans_in_a_batch_are_taken(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await open_door(org)
    response = await client.post(
        "/api/v1/checkins/batch",
        json={"activity_id": activity_id, **_batch(500)},
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert response.status_code == 200, response.text
    assert {r["result"] for r in response.json()["results"]} == {"invalid"}
    assert await count(Scan) == 500


async def test_a_missing_activity_is_404(client: httpx.AsyncClient, org: Org) -> None:
    headers = await bearer(org.phones["admin"])
    response = await scan(client, headers, 999_999, "X")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert await count(Scan) == 0


# --- who may call -----------------------------------------------------------------------

DOOR_CALLS = [
    ("POST", "/api/v1/checkins", {"activity_id": "{A}", "code": "{CODE}"}),
    (
        "POST",
        "/api/v1/checkins/batch",
        {"activity_id": "{A}", "scans": [{"code": "{CODE}", "client_id": "who-may-0001"}]},
    ),
    ("POST", "/api/v1/checkins/manual", {"activity_id": "{A}", "registration_id": "{R}"}),
    ("POST", "/api/v1/checkins/walk-in", {"activity_id": "{A}", "phone": "13912345678"}),
    ("GET", "/api/v1/activities/{A}/roster", None),
    ("GET", "/api/v1/activities/{A}/door", None),
    ("GET", "/api/v1/activities/{A}/door/search?q=0000", None),
    ("GET", "/api/v1/activities/{A}/door/recent", None),
    ("GET", "/api/v1/revocations?activity_id={A}", None),
]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_signed_in"),
        ("worker_a1", 403, "forbidden"),
        ("staff_a", 403, "forbidden"),  # staff, but not assigned to this activity
        ("organiser_b", 403, "forbidden"),  # organiser of another union
        ("staff_b", 403, "forbidden"),  # staff of another union
        ("ticket_holder", 403, "forbidden"),  # a worker scanning their own ticket
    ],
)
async def test_only_door_staff_and_the_subtrees_organisers_may_use_the_door(
    client: httpx.AsyncClient, org: Org, who: str, status: int, code: str
) -> None:
    activity_id = await open_door(org)
    (person,) = await workers(1)
    registration = await sign_up(client, person, activity_id)
    await add_member("13800000009", "乙工作人员", "union-b", ["staff"])
    phones = {**org.phones, "staff_b": "13800000009", "ticket_holder": person.phone}
    headers = {} if who == "anonymous" else await bearer(phones[who])
    before = await ledger()
    values = {"{A}": activity_id, "{R}": registration["id"], "{CODE}": registration["ticket_code"]}
    for method, path, payload in DOOR_CALLS:
        path = path.replace("{A}", str(activity_id))
        body = _fill(payload, values)
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == status, (who, path, response.text)
        assert response.json()["code"] == code, (who, path)
        assert full_phones(response.text) == []
    assert await count(Scan) == 0
    assert await ledger() == before


async def test_assigned_staff_and_organisers_above_may_use_the_door(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await open_door(org)
    people = await workers(3)
    codes = [(await sign_up(client, p, activity_id))["ticket_code"] for p in people]
    await checkin.assign_staff(org.organiser_a, activity_id, org.phones["staff_a"])
    for index, who in enumerate(("staff_a", "organiser_a", "admin")):
        headers = await bearer(org.phones[who])
        assert verdict(await scan(client, headers, activity_id, codes[index]))["result"] == (
            "admitted"
        )
        roster = await client.get(f"/api/v1/activities/{activity_id}/roster", headers=headers)
        assert roster.status_code == 200
    # Staff cannot change the door's settings; the organiser can.
    settings = {"gates": ["东门"], "opens_at": (NOW - timedelta(hours=1)).isoformat()}
    staff = await client.put(
        f"/api/v1/activities/{activity_id}/door",
        json=settings,
        headers=await bearer(org.phones["staff_a"]),
    )
    assert staff.status_code == 403
    organiser = await client.put(
        f"/api/v1/activities/{activity_id}/door",
        json=settings,
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert organiser.status_code == 200, organiser.text
    assert organiser.json()["gates"] == ["东门"]
    assert organiser.json()["admitted"] == 3


# --- masking in every door response -----------------------------------------------------


async def test_no_door_response_shows_a_full_phone_number(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await open_door(org)
    people = await workers(3)
    registrations = [await sign_up(client, p, activity_id) for p in people]
    organiser = await bearer(org.phones["organiser_a"])
    responses = [
        await scan(client, organiser, activity_id, registrations[0]["ticket_code"]),
        await scan(client, organiser, activity_id, registrations[0]["ticket_code"]),
        await client.post(
            "/api/v1/checkins/batch",
            json={
                "activity_id": activity_id,
                "scans": [{"code": registrations[1]["ticket_code"], "client_id": "mask-00001"}],
            },
            headers=organiser,
        ),
        await client.post(
            "/api/v1/checkins/manual",
            json={"activity_id": activity_id, "registration_id": registrations[2]["id"]},
            headers=organiser,
        ),
        await client.post(
            "/api/v1/checkins/walk-in",
            json={"activity_id": activity_id, "phone": "13912345678", "name": "路人甲"},
            headers=organiser,
        ),
        await client.get(f"/api/v1/activities/{activity_id}/roster", headers=organiser),
        await client.get(f"/api/v1/activities/{activity_id}/door/recent", headers=organiser),
        await client.get(
            f"/api/v1/activities/{activity_id}/door/search", params={"q": "0001"}, headers=organiser
        ),
        await client.get(
            f"/api/v1/activities/{activity_id}/door/search",
            params={"q": people[2].name},
            headers=organiser,
        ),
        await client.get(f"/api/v1/activities/{activity_id}/door", headers=organiser),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert full_phones(response.text) == [], response.text
    walked_in = responses[4].json()
    assert walked_in["result"] == "admitted" and walked_in["walk_in"] is True
    assert walked_in["attendee"]["phone_masked"] == "139****5678"
    found = responses[7].json()
    assert [(t["ticket_id"], t["phone_masked"]) for t in found] == [
        (registrations[1]["id"], masked(people[1].phone))
    ]
    recent = responses[6].json()
    assert len(recent) == 4
    assert all(r["attendee"]["phone_masked"].count("*") == 4 for r in recent)
