"""The signup hot path (register's one read and raw-SQL transaction) against the general
rules it replaces: the same members are admitted, the same outbox rows are written, and an
organiser's own reminder schedule is followed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from service import clock
from service.activities import services as activities
from service.activities.tables import Activity, Registration
from service.errors import DomainError
from service.orgs.schemas import Actor
from service.reminders.services import ActivityTimes
from service.reminders.tables import OutboxMessage
from tests.conftest import Org, add_member
from tests.service.test_activities import NOW, published, workers

OUTBOX_FIELDS = (
    "kind",
    "payload",
    "due_at",
    "status",
    "attempts",
    "sent_at",
    "claimed_at",
    "claim",
    "last_error",
)


async def _outbox_of(registration_id: int) -> list[tuple[Any, ...]]:
    rows = (
        await OutboxMessage.select()
        .where(OutboxMessage.registration_id == registration_id)
        .order_by(OutboxMessage.id)
        .run()
    )
    return [tuple(row[name] for name in OUTBOX_FIELDS) for row in rows]


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    """A registration row without what differs between two members' rows by design."""
    kept = {name: value for name, value in row.items() if name not in ("id", "member")}
    kept["queue_no"] = row["queue_no"] is not None
    return kept


@pytest.mark.parametrize(
    "rule",
    [
        {},
        {"eligible_nodes": ["union-b"]},
        {"eligible_nodes": ["ent-a1", "union-b"]},
        {"eligible_groups": ["sanitation"]},
        {"eligible_groups": ["courier", "sanitation"]},
        {"eligible_nodes": ["union-a"], "eligible_groups": ["courier"]},
        {"owner": "ent-a1"},
    ],
)
async def test_the_one_read_admits_whom_eligibility_admits(org: Org, rule: dict[str, Any]) -> None:
    activity_id = await published(org, capacity=50, **rule)
    people: list[Actor] = [
        org.worker_a1,
        org.organiser_a,
        org.organiser_b,
        org.admin,
        await add_member("13700000101", "乙快递员", "union-b", ["worker"], "courier"),
        await add_member("13700000102", "甲环卫工", "ent-a1", ["worker"], "sanitation"),
        await add_member("13700000103", "总工会职工", "fed", ["worker"], "sanitation"),
    ]
    row = await activities._activity_row(activity_id)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        for person in people:
            expected = await activities._is_eligible(person, row)
            try:
                await activities.register(person, activity_id)
                admitted = True
            except DomainError as error:
                assert error.code == "not_eligible"
                admitted = False
            assert admitted == expected, (person.name, rule)


@pytest.mark.parametrize("capacity", [1, 3])
async def test_the_outbox_rows_are_those_of_the_general_path(org: Org, capacity: int) -> None:
    """Members 0 and 1 through the hot path, then (the seats given back) 2 and 3 through
    _write_registration: with capacity 1 the second of each pair is waitlisted."""
    activity_id = await published(org, capacity=capacity)
    people = await workers(4)
    row = await activities._activity_row(activity_id)
    times = ActivityTimes(id=activity_id, kind=row["kind"], starts_at=row["starts_at"])
    with clock.frozen_at(NOW + timedelta(hours=1)):
        hot = [(await activities.register(person, activity_id))[0] for person in people[:2]]
        await Activity.update({Activity.taken: 0}).where(Activity.id == activity_id).run()
        for person in people[2:]:
            assert await activities._write_registration(times, person.member_id)
        general = [
            await Registration.select().where(Registration.member == person.member_id).first().run()
            for person in people[2:]
        ]
        assert [out.status for out in hot] == [r["status"] for r in general]
        hot_rows = [
            await Registration.select().where(Registration.id == out.id).first().run()
            for out in hot
        ]
        # The raw REGISTRATION_INSERT / SIGNUP_STATEMENT and the ORM insert write the same
        # row: every column but the member's own id and waitlist number is equal.
        assert [_comparable(one) for one in hot_rows] == [_comparable(one) for one in general]
        for out, other in zip(hot, general, strict=True):
            assert await _outbox_of(out.id) == await _outbox_of(other["id"])
            assert await _outbox_of(out.id)


async def test_a_signup_follows_the_activitys_own_schedule(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    people = await workers(2)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        first, _ = await activities.register(people[0], activity_id)
        await activities.set_schedule(
            org.organiser_a, activity_id, {"reminder_1h": None, "reminder_10m": 10}
        )
        second, _ = await activities.register(people[1], activity_id)
    assert [entry[0] for entry in await _outbox_of(first.id)] == [
        "registration_confirmed",
        "reminder_day_before",
        "reminder_1h",
        "reminder_10m",  # rescheduled by set_schedule; the first two superseded
    ]
    assert [entry[0] for entry in await _outbox_of(second.id)] == [
        "registration_confirmed",
        "reminder_10m",
    ]


async def test_signing_up_again_after_cancelling_takes_the_general_path(org: Org) -> None:
    activity_id = await published(org, capacity=1)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        first, created = await activities.register(org.worker_a1, activity_id)
        assert created and first.status == "confirmed" and first.ticket_code
        await activities.cancel_registration(org.worker_a1, first.id)
        again, created = await activities.register(org.worker_a1, activity_id)
        same, created_twice = await activities.register(org.worker_a1, activity_id)
    assert created and not created_twice
    assert (again.id, again.status) == (first.id, "confirmed")
    assert again.ticket_code != first.ticket_code  # the cancelled code was revoked
    assert (same.id, same.ticket_code) == (again.id, again.ticket_code)


async def test_the_answer_is_what_a_fresh_read_shows(org: Org) -> None:
    """The position and ticket code a signup answers with (read inside its own write on
    SQLite) are those a later read of the registration gives."""
    activity_id = await published(org, capacity=1)
    people = await workers(3)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        answers = [(await activities.register(person, activity_id))[0] for person in people]
        again = [
            await activities.get_registration(person, answer.id)
            for person, answer in zip(people, answers, strict=True)
        ]
    assert [answer.waitlist_position for answer in answers] == [None, 1, 2]
    assert answers[0].ticket_code
    assert [(a.status, a.waitlist_position, a.ticket_code, a.created_at) for a in answers] == [
        (a.status, a.waitlist_position, a.ticket_code, a.created_at) for a in again
    ]
