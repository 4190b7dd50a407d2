"""The activity core's rules, through the services, on whichever engine this run uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.activities.tables import Activity, Registration
from service.errors import DomainError
from service.reminders.services import messages_for
from tests.conftest import Org, add_member

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def draft(**overrides: Any) -> ActivityIn:
    values: dict[str, Any] = {
        "kind": "job_fair",
        "title": "春风行动招聘会",
        "starts_at": NOW + timedelta(days=3),
        "ends_at": NOW + timedelta(days=3, hours=3),
        "capacity": 2,
        "venue": VenueIn(name="县人力资源市场", address="城关镇人民路 1 号"),
    }
    values.update(overrides)
    return ActivityIn(**values)


async def published(org: Org, **overrides: Any) -> int:
    with clock.frozen_at(NOW):
        created = await activities.create_activity(org.organiser_a, draft(**overrides))
        await activities.publish(org.organiser_a, created.id)
    return created.id


async def workers(count: int, node: str = "ent-a1", group: str = "courier") -> list[Any]:
    return [
        await add_member(f"1370000{index:04d}", f"职工{index}", node, ["worker"], group=group)
        for index in range(count)
    ]


async def test_create_is_a_draft_owned_by_the_organisers_node(org: Org) -> None:
    created = await activities.create_activity(org.organiser_a, draft())
    assert created.status == "draft"
    assert created.owner_code == "union-a"
    assert created.confirmed == 0
    assert created.venue_name == "县人力资源市场"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": NOW + timedelta(days=2)}, "ends_at"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 100_001}, "capacity"),
        ({"capacity": None}, "capacity"),
        ({"title": "   "}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"kind": "party"}, "kind"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"eligible_groups": ["astronaut"]}, "eligible_groups"),
    ],
)
async def test_bad_activity_is_refused_and_nothing_written(
    org: Org, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        await activities.create_activity(org.organiser_a, draft(**overrides))
    assert caught.value.code == "validation_error"
    assert caught.value.field == field
    assert await Activity.count().run() == 0


async def test_livestream_may_have_no_capacity(org: Org) -> None:
    created = await activities.create_activity(
        org.organiser_a, draft(kind="livestream", capacity=None)
    )
    assert created.capacity is None


async def test_workers_and_staff_cannot_create(org: Org) -> None:
    for actor in (org.worker_a1, org.staff_a):
        with pytest.raises(DomainError) as caught:
            await activities.create_activity(actor, draft())
        assert caught.value.code == "forbidden"


async def test_publishing_a_start_in_the_past_is_refused(org: Org) -> None:
    created = await activities.create_activity(org.organiser_a, draft())
    with clock.frozen_at(NOW + timedelta(days=4)), pytest.raises(DomainError) as caught:
        await activities.publish(org.organiser_a, created.id)
    assert caught.value.field == "starts_at"
    assert (await activities.get_activity(org.organiser_a, created.id)).status == "draft"


async def test_another_nodes_organiser_cannot_see_or_edit(org: Org) -> None:
    activity_id = await published(org)
    for call in (
        activities.publish(org.organiser_b, activity_id),
        activities.close(org.organiser_b, activity_id),
        activities.cancel(org.organiser_b, activity_id, "no"),
        activities.set_capacity(org.organiser_b, activity_id, 10),
        activities.update_activity(org.organiser_b, activity_id, draft(title="改")),
        activities.roster(org.organiser_b, activity_id),
    ):
        with pytest.raises(DomainError) as caught:
            await call
        assert caught.value.code == "not_found"
    assert (await activities.get_activity(org.organiser_a, activity_id)).title == "春风行动招聘会"


async def test_signup_confirms_then_waitlists_in_order(org: Org) -> None:
    activity_id = await published(org)
    people = await workers(4)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        results = [await activities.register(person, activity_id) for person in people]
    statuses = [(reg.status, reg.waitlist_position, created) for reg, created in results]
    assert statuses == [
        ("confirmed", None, True),
        ("confirmed", None, True),
        ("waitlisted", 1, True),
        ("waitlisted", 2, True),
    ]
    assert (await activities.get_activity(org.organiser_a, activity_id)).confirmed == 2


async def test_signing_up_twice_returns_the_same_registration(org: Org) -> None:
    activity_id = await published(org)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        first, created_first = await activities.register(org.worker_a1, activity_id)
        again, created_again = await activities.register(org.worker_a1, activity_id)
    assert (created_first, created_again) == (True, False)
    assert again.id == first.id
    assert await Registration.count().run() == 1


async def test_cancellation_promotes_the_first_waiting_and_tells_them(org: Org) -> None:
    activity_id = await published(org)
    people = await workers(4)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        regs = [(await activities.register(person, activity_id))[0] for person in people]
        await activities.cancel_registration(people[0], regs[0].id)
        promoted = await activities.get_registration(people[2], regs[2].id)
        still_waiting = await activities.get_registration(people[3], regs[3].id)
    assert promoted.status == "confirmed"
    assert (still_waiting.status, still_waiting.waitlist_position) == ("waitlisted", 1)
    assert [m["kind"] for m in await messages_for(people[2].member_id, "waitlist_promoted")] == [
        "waitlist_promoted"
    ]
    assert await messages_for(people[3].member_id, "waitlist_promoted") == []
    assert (await activities.get_activity(org.organiser_a, activity_id)).confirmed == 2


async def test_cancelled_member_signs_up_again_at_the_back(org: Org) -> None:
    activity_id = await published(org, capacity=1)
    people = await workers(3)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        first = (await activities.register(people[0], activity_id))[0]
        await activities.register(people[1], activity_id)  # waitlist 1
        waiting = (await activities.register(people[2], activity_id))[0]  # waitlist 2
        await activities.cancel_registration(people[2], waiting.id)
        again, created = await activities.register(people[2], activity_id)
    assert created is True
    assert again.id == waiting.id
    assert (again.status, again.waitlist_position) == ("waitlisted", 2)
    assert first.status == "confirmed"


async def test_raising_capacity_promotes_at_once_and_lowering_below_confirmed_is_refused(
    org: Org,
) -> None:
    activity_id = await published(org)
    people = await workers(4)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        regs = [(await activities.register(person, activity_id))[0] for person in people]
        raised = await activities.set_capacity(org.organiser_a, activity_id, 3)
        with pytest.raises(DomainError) as caught:
            await activities.set_capacity(org.organiser_a, activity_id, 2)
    assert raised.confirmed == 3
    assert (await activities.get_registration(people[2], regs[2].id)).status == "confirmed"
    assert caught.value.code == "capacity_below_confirmed"
    assert (await activities.get_activity(org.organiser_a, activity_id)).capacity == 3


async def test_organiser_moves_someone_up_by_hand(org: Org) -> None:
    activity_id = await published(org, capacity=1)
    people = await workers(3)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        regs = [(await activities.register(person, activity_id))[0] for person in people]
        moved = await activities.promote_by_hand(org.organiser_a, regs[2].id)
        with pytest.raises(DomainError) as caught:
            await activities.promote_by_hand(people[1], regs[1].id)
    assert moved.status == "confirmed"
    activity = await activities.get_activity(org.organiser_a, activity_id)
    assert (activity.capacity, activity.confirmed) == (2, 2)
    assert caught.value.code in {"forbidden", "not_found"}


@pytest.mark.parametrize(
    ("prepare", "code"),
    [
        ("draft", "activity_not_published"),
        ("closed", "registration_closed"),
        ("cancelled", "activity_cancelled"),
        ("not_yet_open", "registration_not_open"),
        ("started", "registration_closed"),
    ],
)
async def test_signup_refused_when_not_open(org: Org, prepare: str, code: str) -> None:
    when = NOW + timedelta(hours=1)
    with clock.frozen_at(NOW):
        if prepare == "not_yet_open":
            created = await activities.create_activity(
                org.organiser_a, draft(registration_opens_at=NOW + timedelta(days=1))
            )
        else:
            created = await activities.create_activity(org.organiser_a, draft())
        if prepare != "draft":
            await activities.publish(org.organiser_a, created.id)
        if prepare == "closed":
            await activities.close(org.organiser_a, created.id)
        if prepare == "cancelled":
            await activities.cancel(org.organiser_a, created.id, "暴雨")
    if prepare == "started":
        when = NOW + timedelta(days=3, minutes=5)
    with clock.frozen_at(when), pytest.raises(DomainError) as caught:
        await activities.register(org.worker_a1, created.id)
    assert caught.value.code == code
    assert await Registration.count().run() == 0


async def test_ineligible_members_cannot_sign_up(org: Org) -> None:
    outsider = await add_member("13700009999", "乙工会职工", "union-b", ["worker"], "courier")
    only_sanitation = await published(org, eligible_groups=["sanitation"])
    union_a_only = await published(org)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        for actor, activity_id in ((outsider, union_a_only), (org.worker_a1, only_sanitation)):
            with pytest.raises(DomainError) as caught:
                await activities.register(actor, activity_id)
            assert caught.value.code in {"not_eligible", "not_found"}
    assert await Registration.count().run() == 0


async def test_eligibility_can_reach_other_subtrees(org: Org) -> None:
    outsider = await add_member("13700009999", "乙工会职工", "union-b", ["worker"], "courier")
    activity_id = await published(org, eligible_nodes=["union-a", "union-b"])
    with clock.frozen_at(NOW + timedelta(hours=1)):
        registration, _ = await activities.register(outsider, activity_id)
    assert registration.status == "confirmed"


async def test_someone_else_cannot_cancel_my_registration(org: Org) -> None:
    activity_id = await published(org)
    other = (await workers(1))[0]
    with clock.frozen_at(NOW + timedelta(hours=1)):
        mine, _ = await activities.register(org.worker_a1, activity_id)
        for actor in (other, org.organiser_b, org.staff_a):
            with pytest.raises(DomainError) as caught:
                await activities.cancel_registration(actor, mine.id)
            assert caught.value.code == "not_found"
        assert (await activities.get_registration(org.worker_a1, mine.id)).status == "confirmed"
        removed = await activities.cancel_registration(org.organiser_a, mine.id)
    assert removed.status == "cancelled"


async def test_cancelling_an_activity_tells_everyone_registered(org: Org) -> None:
    activity_id = await published(org, capacity=1)
    people = await workers(2)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        for person in people:
            await activities.register(person, activity_id)
        cancelled = await activities.cancel(org.organiser_a, activity_id, "台风预警")
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "台风预警")
    for person in people:
        assert len(await messages_for(person.member_id, "activity_cancelled")) == 1


async def test_lists_for_workers_and_organisers(org: Org) -> None:
    open_one = await published(org, title="开放活动")
    hidden_draft = await activities.create_activity(org.organiser_a, draft(title="草稿活动"))
    with clock.frozen_at(NOW + timedelta(hours=1)):
        worker_sees = [a.title for a in await activities.list_activities(org.worker_a1)]
        organiser_sees = {a.title for a in await activities.list_activities(org.organiser_a)}
        other_sees = [a.title for a in await activities.list_activities(org.organiser_b)]
        with pytest.raises(DomainError):
            await activities.get_activity(org.worker_a1, hidden_draft.id)
    assert worker_sees == ["开放活动"]
    assert organiser_sees == {"开放活动", "草稿活动"}
    assert other_sees == []
    assert open_one


async def test_my_registrations_show_status_and_position(org: Org) -> None:
    activity_id = await published(org, capacity=1)
    other = (await workers(1))[0]
    with clock.frozen_at(NOW + timedelta(hours=1)):
        await activities.register(other, activity_id)
        await activities.register(org.worker_a1, activity_id)
        mine = await activities.my_registrations(org.worker_a1)
    assert [
        (m.activity.id, m.registration.status, m.registration.waitlist_position) for m in mine
    ] == [(activity_id, "waitlisted", 1)]


async def test_roster_masks_phones(org: Org) -> None:
    activity_id = await published(org)
    with clock.frozen_at(NOW + timedelta(hours=1)):
        await activities.register(org.worker_a1, activity_id)
    roster = await activities.roster(org.organiser_a, activity_id)
    assert [entry.phone_masked for entry in roster] == ["138****0005"]


async def test_duplicate_makes_a_draft_copy(org: Org) -> None:
    activity_id = await published(org, eligible_groups=["courier"])
    copy = await activities.duplicate(org.organiser_a, activity_id)
    assert copy.id != activity_id
    assert (copy.status, copy.title, copy.eligible_groups) == (
        "draft",
        "春风行动招聘会",
        ["courier"],
    )
