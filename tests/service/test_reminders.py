"""The outbox's schedule and delivery through the services (the worker is tested in
tests/tasks): what is written with a signup, when it is due, what reaches the inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service import clock
from service.activities import services as activities
from service.reminders import delivery, services
from service.reminders.tables import DeliveryAttempt, Notification, OutboxMessage
from tests.conftest import Org
from tests.service.test_activities import published, workers

# 2026-06-01 10:00 in Shanghai; the activities of test_activities start 3 days later.
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
START = NOW + timedelta(days=3)  # 2026-06-04 10:00 local


async def outbox(member_id: int) -> list[tuple[str, datetime, str]]:
    rows = (
        await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.due_at, OutboxMessage.status)
        .where(OutboxMessage.member == member_id)
        .order_by(OutboxMessage.due_at)
        .run()
    )
    return [(row["kind"], row["due_at"], row["status"]) for row in rows]


async def test_a_confirmed_place_gets_its_confirmation_and_two_reminders(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await workers(1)
    with clock.frozen_at(NOW):
        await activities.register(person, activity_id)
    assert await outbox(person.member_id) == [
        ("registration_confirmed", NOW, "pending"),
        # 18:00 local the evening before = 10:00 UTC on 3 June
        ("reminder_day_before", datetime(2026, 6, 3, 10, 0, tzinfo=UTC), "pending"),
        ("reminder_1h", START - timedelta(hours=1), "pending"),
    ]


async def test_signing_up_50_minutes_before_gives_no_late_reminders(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await workers(1)
    with clock.frozen_at(START - timedelta(minutes=50)):
        await activities.register(person, activity_id)
    assert [kind for kind, _, _ in await outbox(person.member_id)] == ["registration_confirmed"]


async def test_a_confirmation_at_night_reaches_the_inbox_at_once_and_buzzes_at_seven(
    org: Org,
) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await workers(1)
    night = datetime(2026, 6, 1, 15, 30, tzinfo=UTC)  # 23:30 local
    seven = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # 07:00 local
    with clock.frozen_at(night):
        await activities.register(person, activity_id)
        claimed = await services.claim_due()
        assert len(claimed) == 1
        message_id, _ = claimed[0]
        assert await delivery.deliver(message_id) == "held"
    # In the inbox now; nothing that buzzes a phone was tried; back in the queue for 07:00.
    assert await Notification.count().where(Notification.member_id == person.member_id) == 1
    tried = await DeliveryAttempt.select(DeliveryAttempt.channel).where(
        DeliveryAttempt.outbox_id == message_id
    )
    assert [row["channel"] for row in tried] == ["inbox"]
    row = await OutboxMessage.select().where(OutboxMessage.id == message_id).first()
    assert (row["status"], row["due_at"], row["attempts"]) == ("pending", seven, 0)
    with clock.frozen_at(seven - timedelta(minutes=5)):
        assert await services.claim_due() == []  # still quiet hours
    with clock.frozen_at(seven):
        (again,) = await services.claim_due()
        assert await delivery.deliver(again[0]) == "sent"
    assert await Notification.count().where(Notification.member_id == person.member_id) == 1


async def test_a_message_held_past_the_start_goes_now(org: Org) -> None:
    """A lecture at 22:44 signed up for at 22:05: waiting for 07:00 would be too late."""
    night = datetime(2026, 6, 1, 14, 5, tzinfo=UTC)  # 22:05 local
    with clock.frozen_at(night - timedelta(hours=1)):
        activity_id = await published(
            org,
            capacity=5,
            starts_at=night + timedelta(minutes=39),
            ends_at=night + timedelta(hours=2),
        )
    (person,) = await workers(1)
    with clock.frozen_at(night):
        await activities.register(person, activity_id)
        (claimed,) = await services.claim_due()
        assert await delivery.deliver(claimed[0]) == "sent"


async def test_a_promotion_supersedes_the_unsent_waitlist_notice(org: Org) -> None:
    activity_id = await published(org, capacity=1)
    first, second = await workers(2)
    with clock.frozen_at(NOW):
        taken, _ = await activities.register(first, activity_id)
        await activities.register(second, activity_id)
        await activities.cancel_registration(first, taken.id)
    statuses = {kind: status for kind, _, status in await outbox(second.member_id)}
    assert statuses["registration_waitlisted"] == "superseded"
    assert statuses["waitlist_promoted"] == "pending"


async def test_cancelling_a_place_supersedes_its_reminders(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await workers(1)
    with clock.frozen_at(NOW):
        registration, _ = await activities.register(person, activity_id)
        await activities.cancel_registration(person, registration.id)
    statuses = {kind: status for kind, _, status in await outbox(person.member_id)}
    assert statuses["reminder_day_before"] == statuses["reminder_1h"] == "superseded"


async def test_a_due_message_is_claimed_once_and_lands_in_the_inbox_once(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await workers(1)
    with clock.frozen_at(NOW):
        await activities.register(person, activity_id)
        claimed = await services.claim_due()
        assert len(claimed) == 1
        assert await services.claim_due() == []  # claimed already
        message_id, _ = claimed[0]
        assert await delivery.deliver(message_id) == "sent"
        assert await delivery.deliver(message_id) == "skipped"  # the same job again
    inbox = await Notification.select().where(Notification.member_id == person.member_id).run()
    assert len(inbox) == 1
    assert inbox[0]["title"].startswith("报名成功")
    assert "春风行动招聘会" in inbox[0]["title"]
