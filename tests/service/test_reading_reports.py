"""The reading room's reports: a session's own part of the activity report, its part of
the summary, and the report per study plan (readers across the series)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.errors import DomainError
from service.i18n import language
from service.orgs.schemas import Actor
from service.reading import reports as reading_reports
from service.reading import services as reading
from service.reports import services as reports
from tests.conftest import Org, add_member
from tests.service.test_reading import NOW, local, plan_of_four, seed_room

MARCH_3 = date(2026, 3, 3)


async def came(organiser: Actor, worker: Actor, activity_id: int, week: int) -> None:
    """The worker registers and is admitted at the door of the plan's session `week`."""
    with clock.frozen_at(NOW):
        registration, _ = await activities.register(worker, activity_id)
    with clock.frozen_at(local(MARCH_3 + timedelta(days=7 * week), 14, 5)):
        await checkin.admit_registration(organiser, activity_id, registration.id)


async def test_the_plan_report_counts_readers_across_the_series(org: Org) -> None:
    room_id = await seed_room(org)
    plan_id, ids = await plan_of_four(org, room_id)  # session 3 has one place
    steady = await add_member("13700000021", "职工甲", "ent-a1", ["worker"])
    with clock.frozen_at(NOW):
        await activities.cancel(org.organiser_a, ids[3], "讲师有事")
    for week in range(3):
        await came(org.organiser_a, steady, ids[week], week)
    await came(org.organiser_a, org.worker_a1, ids[0], 0)
    await came(org.organiser_a, org.worker_a1, ids[1], 1)
    once = await add_member("13700000022", "职工乙", "ent-a1", ["worker"])
    with clock.frozen_at(NOW):
        await activities.register(once, ids[1])  # joined, never came
    await reading.post_note(steady, ids[0], "读后感")

    report = await reading.plan_report(org.organiser_a, plan_id)

    assert [s.activity_id for s in report.sessions] == ids
    assert [s.joined for s in report.sessions] == [2, 3, 1, 0]
    assert [s.attended for s in report.sessions] == [2, 2, 1, 0]
    assert [s.seats_offered for s in report.sessions] == [15, 15, 1, 0]  # the 4th cancelled
    assert [s.notes for s in report.sessions] == [1, 0, 0, 0]
    assert report.members_joined == 3
    assert report.unique_readers == 2
    assert report.repeat_readers == 2
    # The whole series: every session held (the cancelled one asks nothing of anyone).
    assert report.completed_series == 1
    assert report.notes == 1


@pytest.mark.parametrize("who", ["worker_a1", "organiser_b"])
async def test_only_the_plan_s_organisers_see_its_report(org: Org, who: str) -> None:
    room_id = await seed_room(org)
    plan_id, _ = await plan_of_four(org, room_id)
    with pytest.raises(DomainError) as caught:
        await reading.plan_report(getattr(org, who), plan_id)
    assert caught.value.status_code == 403


async def test_a_session_s_report_shows_books_notes_and_its_repeat_readers(org: Org) -> None:
    room_id = await seed_room(org)
    _, ids = await plan_of_four(org, room_id)
    await came(org.organiser_a, org.worker_a1, ids[0], 0)
    await came(org.organiser_a, org.worker_a1, ids[1], 1)
    newcomer = await add_member("13700000023", "职工丙", "ent-a1", ["worker"])
    await came(org.organiser_a, newcomer, ids[1], 1)
    note = await reading.post_note(newcomer, ids[1], "第一次来")
    await reading.decide_note(org.organiser_a, note.id, True)
    await reading.post_note(org.worker_a1, ids[1], "又来了")

    with language("en"):
        report = await reports.activity_report(org.organiser_a, ids[1])
    sections = {section.title: section.rows for section in report.sections}
    assert sections["Book list"][1][:3] == ["平凡的世界", "路遥", "9787530215815"]
    assert sections["Reading notes"] == [
        ["Notes posted", "2"],
        ["Approved", "1"],
        ["Waiting for approval", "1"],
    ]
    assert sections["Readers"] == [
        ["Came to this session", "2"],
        ["Repeat readers (came to another session in this room)", "1"],
        ["First time in this room", "1"],
    ]
    with language("zh-CN"):
        chinese = await reports.activity_report(org.organiser_a, ids[1])
    assert "Readers" not in {section.title for section in chinese.sections}


async def test_the_summary_has_a_row_per_room_of_the_organiser_s_sessions(org: Org) -> None:
    room_id = await seed_room(org)
    _, ids = await plan_of_four(org, room_id)
    await came(org.organiser_a, org.worker_a1, ids[0], 0)
    await came(org.organiser_a, org.worker_a1, ids[1], 1)
    start = local(date(2026, 3, 1), 0)
    end = local(date(2026, 4, 1), 0)
    with language("en"):
        mine = await reading_reports.summary_sections(org.organiser_a, start, end)
        others = await reading_reports.summary_sections(org.organiser_b, start, end)
    assert mine[0].rows[0][0] == "Room"
    # Four sessions held, 15 + 15 + 1 + 15 seats, two visits by one repeat reader.
    assert mine[0].rows[1] == ["甲镇职工书屋", "4", "46", "2", "1", "1", "0"]
    assert others == []
