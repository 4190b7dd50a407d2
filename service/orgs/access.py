"""Who may do what, and where: the one rule, in Python and as the SQL hot paths quote.

Global roles reach a node's subtree: an organiser or admin may do every action on a scope
owned inside their subtree. An assignment (org_assignment) gives one member one role at
one scope (door staff of one activity; a booth's or a delivery team's staff next); an
assigned role grants a few actions there, and only while its holder still holds a global
role that may hold it (a staff member demoted to worker no longer scans).

Every file that must change with this rule: this module (`may`, `may_sql`,
`may_sql_params`), the callers that quote `may_sql` (service/checkin/services.py
SCAN_READ, service/jobfairs/services.py BOOTH_SCAN_READ), and
tests/service/test_access_rule.py, the parity test of the two forms (with
tests/service/test_booth_scan_read.py for the booth's read).

A scope kind's room registers it with one line (`register_scope_kind`: how to find the
node that owns one of its scopes; service/activities/services.py registers "activity"),
and a room registers the roles people are assigned to at such scopes with the actions
they grant (`register_assigned_role`; service/checkin/services.py registers door_staff).
This module names no room, scope kind, role or action.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from service.orgs.schemas import Actor
from service.orgs.tables import Assignment

# Global roles that reach every scope owned within their subtree.
SUBTREE_ROLES: tuple[str, ...] = ("organiser", "admin")

# Role codes and scope kinds are quoted into SQL (may_sql): only these characters.
CODE_PATTERN = re.compile(r"[a-z][a-z_]{0,31}")

@dataclass(frozen=True)
class Scope:
    """Where an action happens: a kind of scope, its id, and the path of its owner node."""

    kind: str
    id: int
    owner_path: str


@dataclass(frozen=True)
class AssignedRole:
    """A role given to a member at one scope by an assignment."""

    code: str
    scope_kind: str
    grants: frozenset[str]  # the actions it allows at its scope
    holders: frozenset[str]  # the global roles a member needs to hold it (and to use it)
    managed_by: str  # the action an assigner needs at the scope


OwnerPath = Callable[[int], Awaitable[str | None]]

_SCOPE_KINDS: dict[str, OwnerPath] = {}
_ASSIGNED_ROLES: dict[str, AssignedRole] = {}


def register_scope_kind(kind: str, owner_path: OwnerPath) -> None:
    """A room declares a kind of scope: `owner_path(scope_id)` is the materialised path of
    the node that owns the scope, or None when there is no such scope."""
    assert CODE_PATTERN.fullmatch(kind), f"scope kind {kind!r}: lower-case letters and _"
    _SCOPE_KINDS[kind] = owner_path


def register_assigned_role(role: AssignedRole) -> None:
    """A room declares a role people are assigned to at its scopes, and the actions it
    grants there. Register it before building SQL that quotes `may_sql` for its actions."""
    for code in (role.code, role.scope_kind):
        assert CODE_PATTERN.fullmatch(code), f"{code!r}: lower-case letters and _"
    _ASSIGNED_ROLES[role.code] = role
    _roles_granting.cache_clear()


def actions() -> frozenset[str]:
    """Every action the rule knows: those the registered roles grant or are managed by.
    Asking about another is a programming error."""
    return frozenset(
        action
        for role in _ASSIGNED_ROLES.values()
        for action in (*role.grants, role.managed_by)
    )


def assigned_role(code: str) -> AssignedRole | None:
    return _ASSIGNED_ROLES.get(code)


async def scope_owner_path(kind: str, scope_id: int) -> str | None:
    """The owner node's path of a scope; None for an unknown kind or id."""
    owner_path = _SCOPE_KINDS.get(kind)
    return await owner_path(scope_id) if owner_path is not None else None


@functools.cache
def _roles_granting(action: str, scope_kind: str) -> tuple[AssignedRole, ...]:
    # Cached: asked on every scan at the door (registering a role clears it).
    if action not in actions():
        raise ValueError(f"unknown action {action!r}")
    return tuple(
        role
        for role in _ASSIGNED_ROLES.values()
        if role.scope_kind == scope_kind and action in role.grants
    )


def _reaches_subtree(actor: Actor, owner_path: str) -> bool:
    return actor.has(*SUBTREE_ROLES) and owner_path.startswith(actor.node_path)


def _assignable_codes(actor: Actor | None, action: str, scope_kind: str) -> list[str]:
    """The assigned roles that would let this actor do the action at a scope of this kind,
    were they assigned there: those whose holders' global roles the actor holds."""
    if actor is None or actor.member_id is None:
        return []
    return [role.code for role in _roles_granting(action, scope_kind) if actor.has(*role.holders)]


def decide(actor: Actor | None, action: str, scope: Scope, assigned: frozenset[str]) -> bool:
    """The rule, given the roles `assigned` to the actor at this scope."""
    _roles_granting(action, scope.kind)  # refuses an unknown action
    if actor is None:
        return False
    if _reaches_subtree(actor, scope.owner_path):
        return True
    return not assigned.isdisjoint(_assignable_codes(actor, action, scope.kind))


async def assigned_at(member_id: int, scope_kind: str, scope_id: int) -> frozenset[str]:
    """The roles assigned to a member at one scope."""
    rows = await Assignment.raw(
        "SELECT role FROM org_assignment WHERE scope_kind = {} AND scope_id = {} "
        "AND member_id = {}",
        scope_kind,
        scope_id,
        member_id,
    ).run()
    return frozenset(row["role"] for row in rows)


async def may(actor: Actor | None, action: str, scope: Scope) -> bool:
    """May this actor do this action at this scope? Reads the assignments only when the
    actor's global roles do not decide already."""
    if actor is None:
        return False
    if _reaches_subtree(actor, scope.owner_path) or not _assignable_codes(
        actor, action, scope.kind
    ):
        return decide(actor, action, scope, frozenset())
    assert actor.member_id is not None
    return decide(actor, action, scope, await assigned_at(actor.member_id, scope.kind, scope.id))


# --- the same rule as SQL, for hot paths that decide in one statement ---------------------


def may_sql(action: str, scope_kind: str, *, owner_path: str, scope_id: str) -> str:
    """A boolean SQL expression of `may`, for a statement in which `owner_path` and
    `scope_id` are SQL expressions of the scope's owner path and id. Its parameters
    (`{}`) are `may_sql_params(actor, action, scope_kind)`, in that order."""
    granting = _roles_granting(action, scope_kind)
    # Role codes and scope kinds are constants of the registering rooms (CODE_PATTERN,
    # checked when registered), never user input.
    by_role = " OR ".join(
        f"(g.role = '{role.code}' AND CAST({{}} AS BOOLEAN))" for role in granting
    )
    assigned = (
        f" OR EXISTS (SELECT 1 FROM org_assignment g WHERE g.scope_kind = '{scope_kind}' "  # noqa: S608
        f"AND g.scope_id = {scope_id} AND g.member_id = {{}} AND ({by_role}))"
        if granting
        else ""
    )
    return f"((CAST({{}} AS BOOLEAN) AND {owner_path} LIKE {{}}){assigned})"


def may_sql_params(actor: Actor | None, action: str, scope_kind: str) -> tuple[object, ...]:
    """The parameters of `may_sql`: whether the actor holds a subtree role, the prefix of
    the paths their subtree covers, and, when some assigned role grants the action, the
    actor's member id and whether they may hold each such role."""
    granting = _roles_granting(action, scope_kind)
    holds_subtree_role = actor is not None and actor.has(*SUBTREE_ROLES)
    # Node paths are digits and slashes: no LIKE wildcard to escape.
    params: list[object] = [holds_subtree_role, f"{actor.node_path}%" if actor else ""]
    if granting:
        may_hold = set(_assignable_codes(actor, action, scope_kind))
        params.append(actor.member_id if actor is not None else None)
        params.extend(role.code in may_hold for role in granting)
    return tuple(params)
