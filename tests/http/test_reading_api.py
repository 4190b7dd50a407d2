"""The reading rooms' JSON API: rooms and hours, the open-now list, sessions refused
outside the hours, the holiday import, joining a plan, notes; bad input, other roles, a
concurrent rush, and the OpenAPI document."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from service import clock
from service.activities import services as activities
from service.reading.tables import Holiday, ReadingNote, ReadingRoom, RoomHours
from tests.conftest import Org, add_member, post_form, sign_in
from tests.http.activity_helpers import bearer
from tests.http.helpers import field_error, zh

ZONE = ZoneInfo("Asia/Shanghai")
TUESDAY = date(2026, 3, 3)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZONE)
SEED_DAY = [{"opens": "08:00", "closes": "11:00"}, {"opens": "14:00", "closes": "18:00"}]
SEED_WEEK = {"days": [[], SEED_DAY, [], SEED_DAY, [], SEED_DAY, []]}


def at(day: date, hh: int, mm: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=ZONE).isoformat()


async def new_room(client: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> int:
    body = {"name": "甲镇职工书屋", "seats": 20, "address": "人民路 3 号", **fields}
    created = await client.post("/api/v1/reading-rooms", json=body, headers=headers)
    assert created.status_code == 201, created.text
    room_id = created.json()["room"]["id"]
    week = await client.put(
        f"/api/v1/reading-rooms/{room_id}/hours", json=SEED_WEEK, headers=headers
    )
    assert week.status_code == 200, week.text
    return int(room_id)


async def test_rooms_are_listed_with_open_now_and_a_room_has_fourteen_days_of_hours(
    client: httpx.AsyncClient, org: Org
) -> None:
    organiser = await bearer(org.phones["organiser_a"])
    worker = await bearer(org.phones["worker_a1"])
    assert (await client.get("/api/v1/reading-rooms")).status_code == 401
    with clock.frozen_at(datetime(2026, 3, 3, 9, 30, tzinfo=ZONE)):
        room_id = await new_room(client, organiser)
        listed = await client.get("/api/v1/reading-rooms?open=now", headers=worker)
        evening = await client.get("/api/v1/reading-rooms?open=evening", headers=worker)
        bad = await client.get("/api/v1/reading-rooms?open=midnight", headers=worker)
        detail = await client.get(f"/api/v1/reading-rooms/{room_id}", headers=worker)
    assert listed.status_code == 200
    [room] = listed.json()
    assert room["open_now"] is True
    assert room["next_change_at"].startswith("2026-03-03T03:00:00")  # 11:00 in Shanghai, in UTC
    assert evening.json() == []
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_error")
    hours = detail.json()["hours"]
    assert len(hours) == 14
    assert hours[0] == {"date": "2026-03-03", "intervals": SEED_DAY}
    assert hours[1] == {"date": "2026-03-04", "intervals": []}
    assert detail.json()["may_edit"] is False


async def test_only_organisers_of_the_room_s_node_write_it(
    client: httpx.AsyncClient, org: Org
) -> None:
    organiser = await bearer(org.phones["organiser_a"])
    with clock.frozen_at(NOW):
        room_id = await new_room(client, organiser)
        for phone in ("worker_a1", "organiser_b", "staff_a"):
            headers = await bearer(org.phones[phone])
            put = await client.put(
                f"/api/v1/reading-rooms/{room_id}/hours", json={"days": [[]] * 7}, headers=headers
            )
            assert (put.status_code, put.json()["code"]) == (403, "forbidden")
        worker = await bearer(org.phones["worker_a1"])
        create = await client.post(
            "/api/v1/reading-rooms", json={"name": "x", "seats": 1}, headers=worker
        )
        assert create.status_code == 403
    assert await RoomHours.count() == 6
    assert await ReadingRoom.count() == 1


async def test_bad_hours_and_rooms_are_refused_with_the_field_and_nothing_written(
    client: httpx.AsyncClient, org: Org
) -> None:
    organiser = await bearer(org.phones["organiser_a"])
    with clock.frozen_at(NOW):
        room_id = await new_room(client, organiser)
        cases: list[tuple[str, Any, str]] = [
            (
                "hours",
                {
                    "days": [
                        [
                            {"opens": "08:00", "closes": "12:00"},
                            {"opens": "11:00", "closes": "13:00"},
                        ]
                    ]
                    + [[]] * 6
                },
                "days.0",
            ),
            ("hours", {"days": [[{"opens": "18:00", "closes": "09:00"}]] + [[]] * 6}, "days.0"),
            ("hours", {"days": [[{"opens": "22:00", "closes": "02:00"}]] + [[]] * 6}, "days.0"),
            ("hours", {"days": [[]] * 6}, "days"),
            ("hours", {"days": [[{"opens": "8am", "closes": "11:00"}]] + [[]] * 6}, "days.0"),
            ("exceptions", {"starts_on": "2026-03-01"}, "starts_on"),
            ("exceptions", {"starts_on": "2026-03-05", "ends_on": "2026-03-04"}, "ends_on"),
        ]
        for path, body, field in cases:
            method = client.put if path == "hours" else client.post
            response = await method(
                f"/api/v1/reading-rooms/{room_id}/{path}", json=body, headers=organiser
            )
            assert response.status_code == 400, (body, response.text)
            assert response.json()["field"] == field, body
        malformed = await client.put(
            f"/api/v1/reading-rooms/{room_id}/hours",
            content=b"{not json",
            headers={**organiser, "content-type": "application/json"},
        )
        assert malformed.status_code == 400
        oversized = await client.post(
            "/api/v1/reading-rooms", json={"name": "书" * 5000, "seats": 10}, headers=organiser
        )
        assert (oversized.status_code, oversized.json()["field"]) == (400, "name")
        no_seats = await client.post(
            "/api/v1/reading-rooms", json={"name": "x", "seats": 0}, headers=organiser
        )
        assert no_seats.json()["field"] == "seats"
    assert await RoomHours.count() == 6
    assert await ReadingRoom.count() == 1


async def test_a_session_outside_the_hours_answers_400_with_the_allowed_intervals(
    client: httpx.AsyncClient, org: Org
) -> None:
    organiser = await bearer(org.phones["organiser_a"])
    body: dict[str, Any] = {
        "kind": "reading_session",
        "title": "读书分享",
        "capacity": 10,
        "details": {"room_id": 0, "books": [{"title": "平凡的世界", "author": "路遥"}]},
    }
    with clock.frozen_at(NOW):
        room_id = await new_room(client, organiser)
        body["details"]["room_id"] = room_id
        refused = await client.post(
            "/api/v1/activities",
            json={**body, "starts_at": at(TUESDAY, 10), "ends_at": at(TUESDAY, 15)},
            headers=organiser,
        )
        fitting = await client.post(
            "/api/v1/activities",
            json={**body, "starts_at": at(TUESDAY, 14), "ends_at": at(TUESDAY, 18)},
            headers=organiser,
        )
        moved = await client.put(
            f"/api/v1/activities/{fitting.json()['id']}",
            json={
                **body,
                "starts_at": at(TUESDAY + timedelta(days=1), 14),
                "ends_at": at(TUESDAY + timedelta(days=1), 15),
            },
            headers=organiser,
        )
    assert refused.status_code == 400
    assert refused.json()["code"] == "outside_opening_hours"
    assert refused.json()["allowed"] == SEED_DAY
    assert "08:00-11:00, 14:00-18:00" in refused.json()["message"]
    assert fitting.status_code == 201
    assert fitting.json()["details"]["room_id"] == room_id
    assert moved.status_code == 400
    assert moved.json()["allowed"] == []  # Wednesday: closed all day


async def test_a_holiday_csv_with_a_bad_row_imports_nothing_and_names_the_line(
    client: httpx.AsyncClient, org: Org
) -> None:
    admin = await bearer(org.phones["admin"])
    bad = {"csv": "2026-10-01,holiday,国庆节\n2026-10-02,holiday,国庆节\n2026-1O-03,holiday,x\n"}
    response = await client.post("/api/v1/reading-holidays/import", json=bad, headers=admin)
    assert (response.status_code, response.json()["field"]) == (400, "csv")
    assert "3" in response.json()["message"]
    assert await Holiday.count() == 0
    organiser = await bearer(org.phones["organiser_a"])
    good = {"csv": "date,kind,name\n2026-10-01,holiday,国庆节\n2026-09-27,workday,调休,3\n"}
    refused = await client.post("/api/v1/reading-holidays/import", json=good, headers=organiser)
    assert refused.status_code == 403
    done = await client.post("/api/v1/reading-holidays/import", json=good, headers=admin)
    assert done.json() == {"imported": 2, "years": [2026]}
    listed = await client.get("/api/v1/reading-holidays?year=2026", headers=organiser)
    assert [h["date"] for h in listed.json()] == ["2026-09-27", "2026-10-01"]
    for year in ("-3626", "0", "99999"):  # found by Schemathesis: a 500 before
        odd = await client.get(f"/api/v1/reading-holidays?year={year}", headers=organiser)
        assert (odd.status_code, odd.json()["field"]) == (400, "year"), year


async def test_joining_a_plan_answers_one_result_per_session_and_a_rush_never_oversells(
    client: httpx.AsyncClient, org: Org
) -> None:
    organiser = await bearer(org.phones["organiser_a"])
    with clock.frozen_at(NOW):
        room_id = await new_room(client, organiser)
        ids = []
        for week, capacity in enumerate((10, 1)):
            day = TUESDAY + timedelta(days=7 * week)
            created = await client.post(
                "/api/v1/activities",
                json={
                    "kind": "reading_session",
                    "title": f"书香三八 第{week + 1}讲",
                    "starts_at": at(day, 14),
                    "ends_at": at(day, 16),
                    "capacity": capacity,
                    "details": {"room_id": room_id},
                },
                headers=organiser,
            )
            ids.append(created.json()["id"])
            await activities.publish(org.organiser_a, created.json()["id"])
        plan = await client.post(
            "/api/v1/study-plans", json={"name": "书香三八", "activity_ids": ids}, headers=organiser
        )
        assert plan.status_code == 201, plan.text
        plan_id = plan.json()["id"]
        workers = [
            await add_member(f"1370000{n:04d}", f"职工{n}", "ent-a1", ["worker"]) for n in range(6)
        ]
        headers = [await bearer(f"1370000{n:04d}") for n in range(len(workers))]
        answers = await asyncio.gather(
            *[client.post(f"/api/v1/study-plans/{plan_id}/join", headers=h) for h in headers]
        )
        anonymous = await client.post(f"/api/v1/study-plans/{plan_id}/join")
        missing = await client.post("/api/v1/study-plans/99999/join", headers=headers[0])
    assert anonymous.status_code == 401
    assert missing.status_code == 404
    outcomes = [[r["outcome"] for r in a.json()["results"]] for a in answers]
    assert all(o[0] == "confirmed" for o in outcomes)
    assert sorted(o[1] for o in outcomes) == ["confirmed"] + ["waitlisted"] * 5
    assert all(a.json()["refused"] == 0 for a in answers)


async def test_a_member_who_did_not_attend_gets_403_not_attended(
    client: httpx.AsyncClient, org: Org
) -> None:
    organiser = await bearer(org.phones["organiser_a"])
    worker = await bearer(org.phones["worker_a1"])
    with clock.frozen_at(NOW):
        room_id = await new_room(client, organiser)
        created = await client.post(
            "/api/v1/activities",
            json={
                "kind": "reading_session",
                "title": "分享会",
                "starts_at": at(TUESDAY, 8),
                "ends_at": at(TUESDAY, 10),
                "capacity": 5,
                "details": {"room_id": room_id},
            },
            headers=organiser,
        )
    activity_id = created.json()["id"]
    posted = await client.post(
        f"/api/v1/activities/{activity_id}/notes", json={"body": "很好"}, headers=worker
    )
    assert (posted.status_code, posted.json()["code"]) == (403, "not_attended")
    listed = await client.get(f"/api/v1/activities/{activity_id}/notes", headers=worker)
    assert listed.json() == []
    assert await ReadingNote.count() == 0


async def test_openapi_documents_the_reading_endpoints(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/reading-rooms",
        "/api/v1/reading-rooms/{room_id}",
        "/api/v1/reading-rooms/{room_id}/hours",
        "/api/v1/reading-rooms/{room_id}/seasons",
        "/api/v1/reading-rooms/{room_id}/exceptions",
        "/api/v1/reading-rooms/{room_id}/report",
        "/api/v1/reading-rooms/{room_id}/report.csv",
        "/api/v1/reading-rooms/{room_id}/report.xlsx",
        "/api/v1/study-plans/{plan_id}/report",
        "/api/v1/study-plans/{plan_id}/report.csv",
        "/api/v1/study-plans/{plan_id}/report.xlsx",
        "/api/v1/study-plans/{plan_id}/join",
        "/api/v1/activities/{activity_id}/notes",
        "/api/v1/reading-holidays/import",
    ):
        assert path in paths, path
    assert not any(path.startswith("/reading-rooms") for path in paths)  # pages stay out


async def test_out_of_range_ids_and_years_are_refused_not_crashed(
    client: httpx.AsyncClient, org: Org
) -> None:
    organiser = await bearer(org.phones["organiser_a"])
    with clock.frozen_at(NOW):
        room_id = await new_room(client, organiser)
        too_big = await client.post(
            "/api/v1/study-plans",
            json={"name": "x", "activity_ids": [2**40]},
            headers=organiser,
        )
        far_room = await client.post(
            "/api/v1/activities",
            json={
                "kind": "reading_session",
                "title": "x",
                "starts_at": at(TUESDAY, 8),
                "ends_at": at(TUESDAY, 9),
                "capacity": 5,
                "details": {"room_id": 2**40},
            },
            headers=organiser,
        )
        far_year = await client.post(
            "/api/v1/activities",
            json={
                "kind": "reading_session",
                "title": "x",
                "starts_at": "9999-12-31T08:00:00+08:00",
                "ends_at": "9999-12-31T09:00:00+08:00",
                "capacity": 5,
                "details": {"room_id": room_id},
            },
            headers=organiser,
        )
    # Integers past the database's range are refused in one place for every route
    # (service/http.py), before any room sees them.
    assert (too_big.status_code, too_big.json()["code"]) == (400, "validation_error")
    assert (far_room.status_code, far_room.json()["code"]) == (400, "validation_error")
    assert (far_year.status_code, far_year.json()["code"]) == (400, "outside_opening_hours")


async def test_raising_places_above_the_room_s_seats_answers_400_api_and_form(
    client: httpx.AsyncClient, org: Org
) -> None:
    organiser = await bearer(org.phones["organiser_a"])
    with clock.frozen_at(NOW):
        room_id = await new_room(client, organiser, seats=12)
        created = await client.post(
            "/api/v1/activities",
            json={
                "kind": "reading_session",
                "title": "读书分享",
                "capacity": 10,
                "starts_at": at(TUESDAY, 14),
                "ends_at": at(TUESDAY, 16),
                "details": {"room_id": room_id},
            },
            headers=organiser,
        )
        activity_id = created.json()["id"]
        above = await client.put(
            f"/api/v1/activities/{activity_id}/capacity", json={"capacity": 13}, headers=organiser
        )
        await sign_in(client, org.phones["organiser_a"])
        form = await post_form(
            client, f"/organise/activities/{activity_id}/capacity", {"capacity": "13"}
        )
        at_seats = await client.put(
            f"/api/v1/activities/{activity_id}/capacity", json={"capacity": 12}, headers=organiser
        )
    assert above.status_code == 400
    assert (above.json()["code"], above.json()["field"]) == ("above_room_seats", "capacity")
    assert form.status_code == 400
    assert field_error(form.text, "capacity") == zh(
        "The room has %(seats)s seats: offer at most that many places.", seats=12
    )
    assert at_seats.status_code == 200
    assert at_seats.json()["capacity"] == 12


SUMMER = {"name": "夏季", "starts_on": "2026-07-01", "ends_on": "2026-08-31"}
EVENINGS = {"days": [[{"opens": "18:00", "closes": "21:00"}]] * 7}


async def test_a_season_is_edited_with_the_checks_of_a_new_one(
    client: httpx.AsyncClient, org: Org
) -> None:
    organiser = await bearer(org.phones["organiser_a"])
    other = await bearer(org.phones["organiser_b"])
    worker = await bearer(org.phones["worker_a1"])
    with clock.frozen_at(NOW):
        room_id = await new_room(client, organiser)
        base = f"/api/v1/reading-rooms/{room_id}/seasons"
        summer = await client.post(base, json={**SUMMER, **SEED_WEEK}, headers=organiser)
        winter = {"name": "冬季", "starts_on": "2026-12-01", "ends_on": "2027-02-28"}
        assert (await client.post(base, json={**winter, **SEED_WEEK}, headers=organiser)).is_success
        [summer_id, winter_id] = [s["id"] for s in summer.json()["seasons"]] + [
            s["id"]
            for s in (
                await client.get(f"/api/v1/reading-rooms/{room_id}", headers=organiser)
            ).json()["seasons"]
            if s["name"] == "冬季"
        ]
        url = f"{base}/{summer_id}"
        longer = {**SUMMER, "name": "暑期", "ends_on": "2026-09-15", **EVENINGS}
        edited = await client.put(url, json=longer, headers=organiser)
        assert edited.status_code == 200, edited.text
        [season, _] = edited.json()["seasons"]
        assert (season["id"], season["name"], season["ends_on"]) == (
            summer_id,
            "暑期",
            "2026-09-15",
        )
        assert season["days"][0] == [{"opens": "18:00", "closes": "21:00"}]
        assert season["days"][1] == season["days"][0]  # the old Tuesday hours are gone
        # Keeping its own dates is no overlap; reaching into winter is.
        assert (await client.put(url, json=longer, headers=organiser)).status_code == 200
        bad_cases: list[tuple[Any, str | None]] = [
            ({**longer, "ends_on": "2026-12-01"}, "starts_on"),  # overlaps the winter
            ({**longer, "ends_on": "2026-06-30"}, "ends_on"),  # ends before it starts
            ({**longer, "ends_on": "2027-07-05"}, "ends_on"),  # longer than a year
            ({**longer, "name": "夏" * 61}, "name"),  # oversized
            ({**longer, "days": [[]] * 6}, "days"),
            (
                {**longer, "days": [[{"opens": "21:00", "closes": "18:00"}]] + [[]] * 6},
                "days.0",
            ),
            ({**longer, "starts_on": "July"}, None),  # malformed
            ({"name": "x"}, None),  # fields missing
        ]
        for body, field in bad_cases:
            refused = await client.put(url, json=body, headers=organiser)
            assert refused.status_code == 400, (body, refused.text)
            if field:
                assert refused.json()["field"] == field, body
        not_json = await client.put(
            url, content=b"{oops", headers={**organiser, "content-type": "application/json"}
        )
        assert not_json.status_code == 400
        huge = await client.put(url, json={**longer, "name": "夏" * 200_000}, headers=organiser)
        assert huge.status_code in (400, 413)
        assert (await client.put(url, json=longer)).status_code == 401
        assert (await client.put(url, json=longer, headers=worker)).status_code == 403
        assert (await client.put(url, json=longer, headers=other)).status_code == 403
        # Another room's season, or none at all, is not found through this room.
        other_room = await new_room(client, organiser, name="乙镇职工书屋")
        for missing in (
            f"/api/v1/reading-rooms/{other_room}/seasons/{summer_id}",
            f"{base}/{2**40}",
        ):
            assert (await client.put(missing, json=longer, headers=organiser)).status_code == 404
        after = (await client.get(f"/api/v1/reading-rooms/{room_id}", headers=organiser)).json()
    assert [(s["id"], s["name"], s["ends_on"]) for s in after["seasons"]] == [
        (summer_id, "暑期", "2026-09-15"),
        (winter_id, "冬季", "2027-02-28"),
    ]
    assert after["seasons"][0]["days"][1] == [{"opens": "18:00", "closes": "21:00"}]


async def test_an_exception_is_edited_and_names_the_sessions_it_now_hits(
    client: httpx.AsyncClient, org: Org
) -> None:
    organiser = await bearer(org.phones["organiser_a"])
    other = await bearer(org.phones["organiser_b"])
    with clock.frozen_at(NOW):
        room_id = await new_room(client, organiser)
        created = await client.post(
            "/api/v1/activities",
            json={
                "kind": "reading_session",
                "title": "周四读书会",
                "starts_at": at(date(2026, 3, 12), 14),
                "ends_at": at(date(2026, 3, 12), 16),
                "capacity": 10,
                "details": {"room_id": room_id},
            },
            headers=organiser,
        )
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        base = f"/api/v1/reading-rooms/{room_id}/exceptions"
        added = await client.post(
            base, json={"starts_on": "2026-03-10", "note": "盘点"}, headers=organiser
        )
        assert added.json()["affected_sessions"] == []
        [exception] = added.json()["exceptions"]
        url = f"{base}/{exception['id']}"
        # The closure moves to the Thursday of the session: the answer names it.
        moved = await client.put(
            url, json={"starts_on": "2026-03-12", "note": "盘点改期"}, headers=organiser
        )
        assert moved.status_code == 200, moved.text
        assert [(e["date"], e["closed"], e["note"]) for e in moved.json()["exceptions"]] == [
            ("2026-03-12", True, "盘点改期")
        ]
        assert [s["activity_id"] for s in moved.json()["affected_sessions"]] == [session_id]
        assert moved.json()["exceptions"][0]["id"] == exception["id"]  # the same exception
        # Special hours that still hold the session: nothing to move.
        special = await client.put(
            url,
            json={"starts_on": "2026-03-12", "intervals": [{"opens": "13:00", "closes": "17:00"}]},
            headers=organiser,
        )
        assert special.status_code == 200, special.text
        assert special.json()["affected_sessions"] == []
        bad_cases: list[tuple[Any, str | None]] = [
            ({"starts_on": "2026-03-01"}, "starts_on"),  # in the past
            ({"starts_on": "2026-03-12", "ends_on": "2026-03-11"}, "ends_on"),
            ({"starts_on": "2026-03-12", "ends_on": "2027-03-20"}, "ends_on"),  # over a year
            (
                {
                    "starts_on": "2026-03-12",
                    "intervals": [
                        {"opens": "09:00", "closes": "12:00"},
                        {"opens": "11:00", "closes": "13:00"},
                    ],
                },
                "intervals",
            ),
            ({"starts_on": "2026-03-12", "note": "注" * 201}, "note"),  # oversized
            ({"starts_on": "12/03/2026"}, None),  # malformed
        ]
        for body, field in bad_cases:
            refused = await client.put(url, json=body, headers=organiser)
            assert refused.status_code == 400, (body, refused.text)
            if field:
                assert refused.json()["field"] == field, body
        assert (await client.put(url, json={"starts_on": "2026-03-13"})).status_code == 401
        forbidden = await client.put(url, json={"starts_on": "2026-03-13"}, headers=other)
        assert forbidden.status_code == 403
        missing = await client.put(
            f"{base}/{2**40}", json={"starts_on": "2026-03-13"}, headers=organiser
        )
        assert missing.status_code == 404
        after = (await client.get(f"/api/v1/reading-rooms/{room_id}", headers=organiser)).json()
    assert [(e["date"], e["intervals"]) for e in after["exceptions"]] == [
        ("2026-03-12", [{"opens": "13:00", "closes": "17:00"}])
    ]
    # A day already past stays as it was.
    with clock.frozen_at(datetime(2026, 3, 13, 9, tzinfo=ZONE)):
        past = await client.put(url, json={"starts_on": "2026-03-20"}, headers=organiser)
    assert (past.status_code, past.json()["field"]) == (400, "starts_on")


async def test_openapi_documents_the_season_and_exception_edits(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert "put" in paths["/api/v1/reading-rooms/{room_id}/seasons/{season_id}"]
    assert "put" in paths["/api/v1/reading-rooms/{room_id}/exceptions/{exception_id}"]
