"""The reading-room pages without JavaScript, in zh-CN and English: the open-now list, a
room's next 14 days, a worker's times, the organiser's hours form with its errors beside
the field, a new session refused outside the hours, the holiday import, a plan joined in
one step, and notes escaped."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.reading import services as reading
from service.reading.schemas import ExceptionIn, IntervalIn, PlanIn, RoomIn, SeasonIn, WeekIn
from service.reading.tables import Demand, Holiday
from tests.conftest import Org, post_form, sign_in
from tests.http.helpers import field_error, zh

ZONE = ZoneInfo("Asia/Shanghai")
TUESDAY_MORNING = datetime(2026, 3, 3, 9, 30, tzinfo=ZONE)


async def seed_room(org: Org) -> int:
    day = [IntervalIn("08:00", "11:00"), IntervalIn("14:00", "18:00")]
    with clock.frozen_at(TUESDAY_MORNING):
        room = await reading.create_room(org.organiser_a, RoomIn(name="甲镇职工书屋", seats=20))
        await reading.set_week(
            org.organiser_a, room.room.id, WeekIn(days=[[], day, [], day, [], day, []])
        )
    return room.room.id


async def test_a_worker_finds_a_room_open_now_and_marks_their_times(
    client: httpx.AsyncClient, org: Org
) -> None:
    room_id = await seed_room(org)
    await sign_in(client, org.phones["worker_a1"])
    with clock.frozen_at(TUESDAY_MORNING):
        listing = await client.get("/reading-rooms?open=now")
        room = await client.get(f"/reading-rooms/{room_id}")
        english = await client.get(f"/reading-rooms/{room_id}", headers={"accept-language": "en"})
    assert listing.status_code == 200
    assert "甲镇职工书屋" in listing.text
    assert zh("Open") in listing.text
    assert zh("Until %(time)s", time="11:00").split("11:00")[0] in listing.text
    assert room.text.count('<li class="today">') == 1
    assert zh("Next 14 days") in room.text
    assert "08:00–11:00" in room.text
    assert 'lang="zh-CN"' in room.text
    assert room.text.count('name="slot"') == 28
    saved = await post_form(
        client, f"/reading-rooms/{room_id}/demand", {"slot": ["0:evening", "5:morning"]}
    )
    assert saved.status_code in (200, 302, 303)
    assert await Demand.count() == 2
    bad = await post_form(client, f"/reading-rooms/{room_id}/demand", {"slot": "9:evening"})
    assert bad.status_code == 400
    assert zh("Choose days and parts of the day from the grid.") in bad.text
    assert await Demand.count() == 2
    assert english.status_code == 200


async def test_the_organiser_s_hours_form_shows_the_error_beside_the_day(
    client: httpx.AsyncClient, org: Org
) -> None:
    room_id = await seed_room(org)
    await sign_in(client, org.phones["organiser_a"])
    form = {f"day{n}": "" for n in range(7)}
    form["day2"] = "09:00-12:00, 11:00-13:00"
    with clock.frozen_at(TUESDAY_MORNING):
        page = await post_form(client, f"/organise/reading-rooms/{room_id}/hours", form)
    assert page.status_code == 400
    assert field_error(page.text, "days.2") == zh("Two intervals overlap.")
    assert 'value="09:00-12:00, 11:00-13:00"' in page.text  # what was typed is kept
    worker_view = await client.get(f"/organise/reading-rooms/{room_id}")
    assert worker_view.status_code == 200
    await sign_in(client, org.phones["worker_a1"])
    refused = await client.get(f"/organise/reading-rooms/{room_id}")
    assert refused.status_code == 403


async def test_a_new_session_outside_the_hours_names_the_allowed_hours(
    client: httpx.AsyncClient, org: Org
) -> None:
    room_id = await seed_room(org)
    await sign_in(client, org.phones["organiser_a"])
    form = {
        "title": "读书会",
        "starts_at": "2026-03-03T10:00",
        "ends_at": "2026-03-03T15:00",
        "capacity": "10",
        "facilitator": "李老师",
        "books": "平凡的世界 | 路遥 | 9787530215815 | 第一部",
        "description": "",
    }
    with clock.frozen_at(TUESDAY_MORNING):
        refused = await post_form(client, f"/organise/reading-rooms/{room_id}/sessions", form)
        form["starts_at"], form["ends_at"] = "2026-03-03T14:00", "2026-03-03T16:00"
        created = await post_form(client, f"/organise/reading-rooms/{room_id}/sessions", form)
    assert refused.status_code == 400
    assert field_error(refused.text, "starts_at") == zh(
        "The room is not open for the whole session. On %(day)s it is open: %(allowed)s.",
        day="2026-03-03",
        allowed="08:00-11:00, 14:00-18:00",
    )
    assert created.status_code in (302, 303)
    activity_id = int(created.headers["location"].rsplit("/", 1)[1])
    page = await client.get(f"/activities/{activity_id}")
    assert "平凡的世界" in page.text and "李老师" in page.text
    assert f"/reading-sessions/{activity_id}/notes" in page.text


async def test_the_holiday_import_reports_the_bad_line(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, org.phones["admin"])
    page = await post_form(
        client, "/admin/reading-holidays", {"csv": "2026-10-01,holiday,国庆节\n2026-10-02,party,x"}
    )
    assert page.status_code == 400
    assert "第 2 行" in page.text
    assert await Holiday.count() == 0
    done = await post_form(client, "/admin/reading-holidays", {"csv": "2026-10-01,holiday,国庆节"})
    assert done.status_code == 200
    assert zh("Imported %(n)s days.", n=1) in done.text
    assert "国庆节" in done.text


async def test_a_worker_joins_a_plan_in_one_step_and_a_note_is_escaped(
    client: httpx.AsyncClient, org: Org
) -> None:
    room_id = await seed_room(org)
    ids = []
    with clock.frozen_at(TUESDAY_MORNING):
        for n, day in enumerate((5, 10)):
            created = await activities.create_activity(
                org.organiser_a,
                activities_in(room_id, f"书香三八 第{n + 1}讲", date(2026, 3, day)),
            )
            await activities.publish(org.organiser_a, created.id)
            ids.append(created.id)
        plan = await reading.create_plan(org.organiser_a, PlanIn(name="书香三八", activity_ids=ids))
    await sign_in(client, org.phones["worker_a1"])
    with clock.frozen_at(TUESDAY_MORNING):
        joined = await post_form(client, f"/study-plans/{plan.id}/join", {})
    assert joined.status_code == 200
    assert zh("Joined %(joined)s of %(total)s sessions.", joined=2, total=2) in joined.text
    registration = await activities.my_registration(org.worker_a1, ids[0])
    assert registration is not None
    with clock.frozen_at(datetime(2026, 3, 5, 14, 5, tzinfo=ZONE)):
        await checkin.admit_registration(org.organiser_a, ids[0], registration.id)
    posted = await post_form(
        client,
        f"/reading-sessions/{ids[0]}/notes",
        {"body": "<script>alert(1)</script>很受启发", "page": "第一章"},
    )
    assert posted.status_code in (302, 303)
    own = await client.get(f"/reading-sessions/{ids[0]}/notes")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;很受启发" in own.text
    assert "<script>alert(1)" not in own.text
    refused = await post_form(client, f"/reading-sessions/{ids[1]}/notes", {"body": "x"})
    assert refused.status_code == 403
    assert zh("Only members who came to the session can post a note.") in refused.text
    plan_page = await client.get(f"/study-plans/{plan.id}")
    assert zh("Attended") in plan_page.text  # the progress through the plan
    assert (
        zh(
            "Your progress: attended %(attended)s of %(total)s, joined %(joined)s.",
            attended=1,
            total=2,
            joined=2,
        )
        in plan_page.text
    )


def activities_in(room_id: int, title: str, day: date) -> object:
    from service.activities.schemas import ActivityIn

    return ActivityIn(
        kind="reading_session",
        title=title,
        starts_at=datetime(day.year, day.month, day.day, 14, tzinfo=ZONE),
        ends_at=datetime(day.year, day.month, day.day, 16, tzinfo=ZONE),
        capacity=10,
        details={"room_id": room_id},
    )


async def test_the_activity_form_carries_the_session_s_room_and_books(
    client: httpx.AsyncClient, org: Org
) -> None:
    room_id = await seed_room(org)
    await sign_in(client, org.phones["organiser_a"])
    new = await client.get("/organise/activities/new?kind=reading_session")
    assert new.status_code == 200
    assert 'name="details.room_id"' in new.text
    with clock.frozen_at(TUESDAY_MORNING):
        created = await activities.create_activity(
            org.organiser_a,
            activities_in(room_id, "读书会", date(2026, 3, 5)),  # type: ignore[arg-type]
        )
    edit = await client.get(f"/organise/activities/{created.id}/edit")
    assert edit.status_code == 200
    assert f'name="details.room_id" value="{room_id}"' in edit.text
    assert "甲镇职工书屋" in edit.text


async def test_the_organiser_edits_a_season_and_a_closed_day_without_javascript(
    client: httpx.AsyncClient, org: Org
) -> None:
    room_id = await seed_room(org)
    evening = [IntervalIn("18:00", "21:00")]
    with clock.frozen_at(TUESDAY_MORNING):
        summer = await reading.add_season(
            org.organiser_a,
            room_id,
            SeasonIn(
                name="夏季",
                starts_on=date(2026, 7, 1),
                ends_on=date(2026, 8, 31),
                days=[evening] * 7,
            ),
        )
        await reading.add_season(
            org.organiser_a,
            room_id,
            SeasonIn(
                name="冬季", starts_on=date(2026, 12, 1), ends_on=date(2027, 1, 31), days=[[]] * 7
            ),
        )
        closed = await reading.add_exception(
            org.organiser_a, room_id, ExceptionIn(starts_on=date(2026, 3, 10), note="盘点")
        )
    season_id = summer.seasons[0].id
    exception_id = closed.exceptions[0].id
    editor = f"/organise/reading-rooms/{room_id}"
    await sign_in(client, org.phones["organiser_a"])
    with clock.frozen_at(TUESDAY_MORNING):
        page = await client.get(editor)
        assert f'action="{editor}/seasons/{season_id}/edit"' in page.text
        assert (
            f'id="season-{season_id}-day0" name="season_day0" maxlength="200" value="18:00-21:00"'
            in page.text
        )
        assert f'action="{editor}/exceptions/{exception_id}/edit"' in page.text
        assert (
            f'id="exception-{exception_id}-note" name="note" maxlength="200" value="盘点"'
            in page.text
        )
        season_form = {
            "season_name": "暑期",
            "season_starts_on": "2026-07-01",
            "season_ends_on": "2026-12-15",  # into the winter
            **{f"season_day{d}": "19:00-21:00" for d in range(7)},
        }
        refused = await post_form(client, f"{editor}/seasons/{season_id}/edit", season_form)
        assert refused.status_code == 400
        # The message stands in the season's own form, opened, with what was typed kept.
        own = refused.text.split(f'id="season-{season_id}"')[1].split("</li>")[0]
        assert zh("This season overlaps another season of the room.") in own
        assert '<details class="edit" open>' in own
        assert 'value="2026-12-15"' in own
        assert field_error(refused.text, "starts_on") is None  # not beside the add form
        saved = await post_form(
            client,
            f"{editor}/seasons/{season_id}/edit",
            {**season_form, "season_ends_on": "2026-09-15"},
        )
        assert saved.status_code in (302, 303)
        # Closed on Thursday instead of Tuesday, then shown in English.
        moved = await post_form(
            client,
            f"{editor}/exceptions/{exception_id}/edit",
            {"starts_on": "2026-03-12", "ends_on": "", "intervals": "", "note": "盘点改期"},
        )
        assert moved.status_code == 200
        assert "2026-03-12" in moved.text and "盘点改期" in moved.text
        bad = await post_form(
            client,
            f"{editor}/exceptions/{exception_id}/edit",
            {"starts_on": "2026-03-12", "intervals": "18:00-09:00"},
        )
        assert bad.status_code == 400
        own = bad.text.split(f'id="exception-{exception_id}"')[1].split("</li>")[0]
        assert 'role="alert"' in own and 'value="18:00-09:00"' in own  # same id, typed kept
        await post_form(client, "/language", {"language": "en", "next": "/"})
        english = await client.get(editor)
        detail = await reading.room_detail(org.organiser_a, room_id)
    assert [(s.name, s.ends_on) for s in detail.seasons] == [
        ("暑期", date(2026, 9, 15)),
        ("冬季", date(2027, 1, 31)),
    ]
    assert detail.seasons[0].days[2][0].opens == "19:00"
    assert "Save changes" in english.text and "Change" in english.text
