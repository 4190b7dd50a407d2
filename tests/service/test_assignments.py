"""Scoped assignments (org_assignment): who may assign whom where, the stable codes of
every refusal (nothing written), the scope a scoped person sees, and the migration that
turned door staff into assignments."""

from __future__ import annotations

import asyncio
import importlib
from datetime import timedelta

import pytest

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.errors import DomainError
from service.orgs import services as orgs
from service.orgs.schemas import Actor
from service.orgs.tables import Assignment
from tests.conftest import Org, add_member
from tests.service.test_activities import NOW, draft, published

DOOR = checkin.DOOR_STAFF.code


async def _rows() -> list[tuple[int, str, str, int]]:
    rows = await Assignment.select(
        Assignment.member_id, Assignment.role, Assignment.scope_kind, Assignment.scope_id
    ).run()
    return sorted((r["member_id"], r["role"], r["scope_kind"], r["scope_id"]) for r in rows)


async def test_an_assignment_records_who_assigned_it_and_when(org: Org) -> None:
    activity_id = await published(org)
    with clock.frozen_at(NOW):
        member_id = await orgs.assign(org.organiser_a, DOOR, activity_id, org.phones["staff_a"])
    assert member_id == org.staff_a.member_id
    row = await Assignment.select().first().run()
    assert row is not None
    assert (row["role"], row["scope_kind"], row["scope_id"]) == (DOOR, "activity", activity_id)
    assert row["assigned_by"] == org.organiser_a.member_id
    assert row["assigned_at"] == NOW


async def _other_activity(org: Org) -> int:
    with clock.frozen_at(NOW):
        created = await activities.create_activity(org.organiser_b, draft())
        await activities.publish(org.organiser_b, created.id)
    return created.id


@pytest.mark.parametrize(
    ("assigner", "scope", "phone", "code"),
    [
        ("organiser_a", "union_b", "staff_a", "out_of_reach"),  # another node's subtree
        ("organiser_b", "union_a", "staff_a", "out_of_reach"),
        ("organiser_a", "missing", "staff_a", "unknown_scope"),
        ("organiser_a", "union_a", "13999999999", "unknown_member"),
        ("organiser_a", "union_a", "not a phone", "validation_error"),
        ("organiser_a", "union_a", "1" * 5000, "validation_error"),  # oversized
        ("organiser_a", "union_a", "worker_a1", "not_assignable"),  # a worker assigned
        ("staff_a", "union_a", "staff_a", "forbidden"),  # staff assigning themselves
        ("worker_a1", "union_a", "staff_a", "forbidden"),  # a worker trying
        ("anonymous", "union_a", "staff_a", "forbidden"),
    ],
)
async def test_a_refused_assignment_has_a_stable_code_and_writes_nothing(
    org: Org, assigner: str, scope: str, phone: str, code: str
) -> None:
    scopes = {
        "union_a": await published(org),
        "union_b": await _other_activity(org),
        "missing": 999_999,
    }
    anonymous = Actor(member_id=None, node_id=None, node_path="/", roles=frozenset())
    actor = anonymous if assigner == "anonymous" else getattr(org, assigner)
    with pytest.raises(DomainError) as refused:
        await orgs.assign(actor, DOOR, scopes[scope], org.phones.get(phone, phone))
    assert refused.value.code == code
    assert await _rows() == []


async def test_a_duplicate_assignment_is_refused_and_the_first_stands(org: Org) -> None:
    activity_id = await published(org)
    await orgs.assign(org.organiser_a, DOOR, activity_id, org.phones["staff_a"])
    before = await _rows()
    with pytest.raises(DomainError) as refused:
        await orgs.assign(org.admin, DOOR, activity_id, org.phones["staff_a"])
    assert refused.value.code == "duplicate_assignment"
    assert await _rows() == before
    # The door setup page says so beside the phone field.
    with pytest.raises(DomainError) as again:
        await checkin.assign_staff(org.organiser_a, activity_id, org.phones["staff_a"])
    assert (again.value.code, again.value.field) == ("duplicate_assignment", "phone")


@pytest.mark.parametrize("organisers", [2, 6])
async def test_organisers_assigning_one_person_at_once_make_one_assignment(
    org: Org, organisers: int
) -> None:
    activity_id = await published(org)
    assigners = [org.organiser_a, org.admin] + [
        await add_member(f"1380000010{index}", f"组织者{index}", "union-a", ["organiser"])
        for index in range(organisers - 2)
    ]
    outcomes = await asyncio.gather(
        *(orgs.assign(a, DOOR, activity_id, org.phones["staff_a"]) for a in assigners),
        return_exceptions=True,
    )
    made = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(made) == 1
    assert len(refused) == organisers - 1
    assert {error.code for error in refused} == {"duplicate_assignment"}
    assert await _rows() == [(org.staff_a.member_id, DOOR, "activity", activity_id)]


async def test_unassigning_is_refused_outside_the_subtree(org: Org) -> None:
    activity_id = await published(org)
    await orgs.assign(org.organiser_a, DOOR, activity_id, org.phones["staff_a"])
    before = await _rows()
    for actor, code in ((org.organiser_b, "out_of_reach"), (org.staff_a, "forbidden")):
        with pytest.raises(DomainError) as refused:
            await orgs.unassign(actor, DOOR, activity_id, org.staff_a.member_id)
        assert refused.value.code == code
    assert await _rows() == before
    await orgs.unassign(org.organiser_a, DOOR, activity_id, org.staff_a.member_id)
    assert await _rows() == []


async def test_an_unknown_role_is_refused(org: Org) -> None:
    activity_id = await published(org)
    with pytest.raises(DomainError) as refused:
        await orgs.assign(org.organiser_a, "pilot", activity_id, org.phones["staff_a"])
    assert refused.value.code == "unknown_role"
    assert await _rows() == []


async def test_a_person_scoped_to_one_activity_sees_only_that_one(org: Org) -> None:
    first = await published(org)
    second = await published(org)
    await checkin.assign_staff(org.organiser_a, first, org.phones["staff_a"])
    with clock.frozen_at(NOW):
        seen = await checkin.scannable_activities(org.staff_a)
        assert [activity.id for activity in seen] == [first]
        # Their organiser sees both (the subtree); staff on no door see none.
        assert sorted(a.id for a in await checkin.scannable_activities(org.organiser_a)) == [
            first,
            second,
        ]
        other = await add_member("13800000031", "未指派", "union-a", ["staff"])
        assert await checkin.scannable_activities(other) == []
    with pytest.raises(DomainError) as refused:
        await checkin.door_state(org.staff_a, second)
    assert refused.value.code == "forbidden"


async def test_a_removed_door_staff_member_may_no_longer_scan(org: Org) -> None:
    activity_id = await published(org)
    await checkin.assign_staff(org.organiser_a, activity_id, org.phones["staff_a"])
    with clock.frozen_at(NOW + timedelta(days=3)):
        assert (await checkin.check_in(org.staff_a, activity_id, "x")).result == "invalid"
    await checkin.remove_staff(org.organiser_a, activity_id, org.staff_a.member_id)
    with pytest.raises(DomainError) as refused:
        await checkin.check_in(org.staff_a, activity_id, "x")
    assert refused.value.code == "forbidden"


# --- the migration: door staff become assignments -----------------------------------------

MIGRATION = importlib.import_module(
    "service.checkin.piccolo_migrations.checkin_2026_12_04t16_41_00_000000"
)


async def test_the_migration_copies_door_staff_once_and_drops_their_table(org: Org) -> None:
    activity_id = await published(org)
    other_id = await published(org)
    door_staff = MIGRATION._DoorStaff
    # checkin_staff as it stood before the migration (this run's schema has dropped it).
    await door_staff.create_table(if_not_exists=True).run()
    staff = org.staff_a.member_id
    await door_staff.insert(
        door_staff(activity_id=activity_id, member_id=staff),
        door_staff(activity_id=activity_id, member_id=staff),  # listed twice: copied once
        door_staff(activity_id=other_id, member_id=staff),
        door_staff(activity_id=activity_id, member_id=org.organiser_b.member_id),
    ).run()
    manager = await MIGRATION.forwards()
    await manager.run()
    assert await _rows() == sorted(
        [
            (staff, DOOR, "activity", activity_id),
            (staff, DOOR, "activity", other_id),
            (org.organiser_b.member_id, DOOR, "activity", activity_id),
        ]
    )
    assert not await door_staff.table_exists().run()
    # The copied staff scan as before; someone never on the door does not.
    assert await checkin.door_state(org.staff_a, other_id)
    assert await checkin.door_state(org.organiser_b, activity_id)
    with pytest.raises(DomainError):
        await checkin.door_state(org.organiser_b, other_id)
