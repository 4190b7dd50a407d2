"""Overbooking races (QUALITY.md reliability 1): capacities 1 and 50; 2, 50 and 500
concurrent signups of different members; on both engines. The control run switches the
conditional seat write off and must oversell, proving the test can fail."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.activities.tables import Activity, Registration
from service.orgs.schemas import Actor
from service.orgs.tables import Member
from service.seams import SEAMS
from tests.conftest import Org

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


async def crowd(count: int) -> list[Actor]:
    """`count` workers under ent-a1, inserted in one statement (the race is what's tested)."""
    node_id = (await activities.orgs.node_by_code("ent-a1")).id
    await Member.insert(
        *(
            Member(
                phone=f"136{index:08d}",
                name=f"职工{index}",
                node=node_id,
                worker_group="courier",
                roles="worker",
            )
            for index in range(count)
        )
    ).run()
    rows = await Member.select(Member.id).where(Member.phone.like("136%")).run()
    actors = [await activities.orgs.actor_for_member(row["id"]) for row in rows]
    return [actor for actor in actors if actor is not None]


async def open_activity(org: Org, capacity: int) -> int:
    with clock.frozen_at(NOW):
        created = await activities.create_activity(
            org.organiser_a,
            ActivityIn(
                kind="job_fair",
                title="抢报测试",
                starts_at=NOW + timedelta(days=1),
                ends_at=NOW + timedelta(days=1, hours=2),
                capacity=capacity,
            ),
        )
        await activities.publish(org.organiser_a, created.id)
    return created.id


async def rush(activity_id: int, people: list[Actor]) -> list[str]:
    async def one(person: Actor) -> str:
        registration, _ = await activities.register(person, activity_id)
        return registration.status

    with clock.frozen_at(NOW + timedelta(hours=1)):
        return list(await asyncio.gather(*(one(person) for person in people)))


async def confirmed_in_db(activity_id: int) -> tuple[int, int]:
    confirmed = (
        await Registration.count()
        .where((Registration.activity == activity_id) & (Registration.status == "confirmed"))
        .run()
    )
    row = await Activity.select(Activity.taken).where(Activity.id == activity_id).first().run()
    return confirmed, row["taken"]


@pytest.mark.parametrize("capacity", [1, 50])
@pytest.mark.parametrize("attempts", [2, 50, 500])
async def test_confirmed_never_exceeds_capacity(org: Org, capacity: int, attempts: int) -> None:
    activity_id = await open_activity(org, capacity)
    statuses = await rush(activity_id, await crowd(attempts))
    expected = min(capacity, attempts)
    assert statuses.count("confirmed") == expected
    assert statuses.count("waitlisted") == attempts - expected
    assert await confirmed_in_db(activity_id) == (expected, expected)


async def test_waitlist_positions_are_distinct_and_dense(org: Org) -> None:
    activity_id = await open_activity(org, 1)
    people = await crowd(50)
    await rush(activity_id, people)
    rows = (
        await Registration.select(Registration.queue_no)
        .where((Registration.activity == activity_id) & (Registration.status == "waitlisted"))
        .run()
    )
    assert sorted(row["queue_no"] for row in rows) == list(range(1, 50))


async def test_one_member_signing_up_concurrently_gets_one_registration(org: Org) -> None:
    activity_id = await open_activity(org, 50)
    statuses = await rush(activity_id, [org.worker_a1] * 20)
    assert set(statuses) == {"confirmed"}
    assert await Registration.count().where(Registration.activity == activity_id).run() == 1
    assert await confirmed_in_db(activity_id) == (1, 1)


async def test_cancellations_racing_signups_keep_the_count_exact(org: Org) -> None:
    activity_id = await open_activity(org, 10)
    people = await crowd(40)
    await rush(activity_id, people[:20])
    mine = {
        row["member"]: row["id"]
        for row in await Registration.select(Registration.id, Registration.member)
        .where(Registration.activity == activity_id)
        .run()
    }
    with clock.frozen_at(NOW + timedelta(hours=1)):
        await asyncio.gather(
            *(
                activities.cancel_registration(person, mine[person.member_id])
                for person in people[:10]
            ),
            *(activities.register(person, activity_id) for person in people[20:]),
        )
    assert await confirmed_in_db(activity_id) == (10, 10)


async def test_control_without_the_conditional_write_oversells(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SEAMS, "conditional_seat_write", False)
    activity_id = await open_activity(org, 1)
    statuses = await rush(activity_id, await crowd(50))
    confirmed, taken = await confirmed_in_db(activity_id)
    assert statuses.count("confirmed") > 1, "the control run did not oversell"
    assert confirmed > 1 and taken > 1
