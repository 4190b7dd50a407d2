"""The may-do rule (service/orgs/access.py) in its two forms: `may`, which the Python code
calls, and `may_sql`, which the door's one-statement read quotes. They must agree for
every kind of person at every scope, on both engines."""

from __future__ import annotations

import pytest

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.db import run_sql
from service.orgs import access
from service.orgs.schemas import SYSTEM, Actor
from tests.conftest import Org, add_member
from tests.service.test_activities import NOW, draft

PEOPLE = (
    "anonymous",
    "system",
    "worker",
    "staff",
    "staff_assigned_here",
    "staff_assigned_elsewhere",
    "staff_demoted_but_assigned",
    "organiser_of_owner",
    "organiser_above_owner",
    "organiser_below_owner",
    "organiser_of_other_node",
    "organiser_of_other_node_assigned_here",
    "admin",
)
SCOPES = ("union_a", "ent_a1", "union_b")

# What the door decides today, written out: the two forms must also agree with this, so a
# rule that went wrong in both at once still fails.
MAY_SCAN_AT_UNION_A = {
    "anonymous": False,
    "system": True,
    "worker": False,
    "staff": False,
    "staff_assigned_here": True,
    "staff_assigned_elsewhere": False,
    "staff_demoted_but_assigned": False,
    "organiser_of_owner": True,
    "organiser_above_owner": True,
    "organiser_below_owner": False,
    "organiser_of_other_node": False,
    "organiser_of_other_node_assigned_here": True,
    "admin": True,
}


async def _activity(actor: Actor) -> int:
    with clock.frozen_at(NOW):
        return (await activities.create_activity(actor, draft())).id


async def _world(org: Org) -> tuple[dict[str, Actor | None], dict[str, access.Scope]]:
    organiser_a1 = await add_member("13800000011", "甲一组织者", "ent-a1", ["organiser"])
    organiser_fed = await add_member("13800000012", "县组织者", "fed", ["organiser"])
    ids = {
        "union_a": await _activity(org.organiser_a),
        "ent_a1": await _activity(organiser_a1),
        "union_b": await _activity(org.organiser_b),
    }
    scopes = {}
    for name, activity_id in ids.items():
        door = await activities.door_activity(activity_id)
        scopes[name] = access.Scope("activity", activity_id, door.owner_path)
    here = await add_member("13800000021", "本场检票员", "union-a", ["staff"])
    elsewhere = await add_member("13800000022", "别场检票员", "union-a", ["staff"])
    demoted = await add_member("13800000023", "已降级", "union-a", ["staff"])
    await checkin.assign_staff(org.organiser_a, ids["union_a"], "13800000021")
    await checkin.assign_staff(org.organiser_b, ids["union_b"], "13800000022")
    await checkin.assign_staff(org.organiser_a, ids["union_a"], "13800000023")
    await checkin.assign_staff(org.organiser_a, ids["union_a"], org.phones["organiser_b"])
    # The role taken away after the assignment: the row stays, the right goes.
    demoted = Actor(**{**_fields(demoted), "roles": frozenset({"worker"})})
    people: dict[str, Actor | None] = {
        "anonymous": None,
        "system": SYSTEM,
        "worker": org.worker_a1,
        "staff": org.staff_a,
        "staff_assigned_here": here,
        "staff_assigned_elsewhere": elsewhere,
        "staff_demoted_but_assigned": demoted,
        "organiser_of_owner": org.organiser_a,
        "organiser_above_owner": organiser_fed,
        "organiser_below_owner": organiser_a1,
        "organiser_of_other_node": await add_member(
            "13800000013", "乙二组织者", "union-b", ["organiser"]
        ),
        "organiser_of_other_node_assigned_here": org.organiser_b,
        "admin": org.admin,
    }
    return people, scopes


def _fields(actor: Actor) -> dict[str, object]:
    return {name: getattr(actor, name) for name in actor.__struct_fields__}


async def _may_by_sql(actor: Actor | None, action: str, scope: access.Scope) -> bool:
    fragment = access.may_sql(action, scope.kind, owner_path="o.path", scope_id="a.id")
    rows = await run_sql(
        "SELECT " + fragment + " AS allowed FROM activity a "
        "JOIN org_node o ON o.id = a.owner WHERE a.id = {}",
        *access.may_sql_params(actor, action, scope.kind),
        scope.id,
    )
    return bool(rows[0]["allowed"])


async def test_python_and_sql_agree_for_every_person_action_and_scope(org: Org) -> None:
    people, scopes = await _world(org)
    disagreements = []
    table: dict[tuple[str, str, str], bool] = {}
    for action in sorted(access.actions()):
        for who in PEOPLE:
            for where in SCOPES:
                by_python = await access.may(people[who], action, scopes[where])
                by_sql = await _may_by_sql(people[who], action, scopes[where])
                table[(action, who, where)] = by_python
                if by_python != by_sql:
                    disagreements.append((action, who, where, by_python, by_sql))
    assert disagreements == []
    assert {who: table[("scan", who, "union_a")] for who in PEOPLE} == MAY_SCAN_AT_UNION_A
    # Both values occur at every scope: the comparison above compared something.
    for where in SCOPES:
        assert {table[("scan", who, where)] for who in PEOPLE} == {True, False}
    # Only organisers of the subtree (and the system and admin) manage a door.
    assert {who for who in PEOPLE if table[("manage_door", who, "ent_a1")]} == {
        "system",
        "organiser_of_owner",
        "organiser_above_owner",
        "organiser_below_owner",
        "admin",
    }


async def test_the_door_decides_by_the_sql_form(org: Org) -> None:
    """The door's one read answers may_scan as the rule does (a control for the parity
    test: the door really uses the fragment the test compares)."""
    people, scopes = await _world(org)
    for who in PEOPLE:
        row = await checkin._scan_read(scopes["union_a"].id, None, people[who])
        assert row is not None
        assert bool(row["may_scan"]) == MAY_SCAN_AT_UNION_A[who], who


def test_an_unknown_action_is_a_programming_error() -> None:
    scope = access.Scope("activity", 1, "/1/")
    with pytest.raises(ValueError):
        access.may_sql("fly", "activity", owner_path="o.path", scope_id="a.id")
    with pytest.raises(ValueError):
        access.decide(SYSTEM, "fly", scope, frozenset())
