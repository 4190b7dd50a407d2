"""The organisation tree and its members; every organiser query is scoped to a subtree."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from piccolo.columns import Varchar
from piccolo.columns.combination import Combinable
from pypinyin import lazy_pinyin

from service import clock
from service.db import engine, is_unique_violation, lock_key, write_transaction
from service.errors import DomainError, Forbidden, NotFound
from service.i18n import DEFAULT_LANGUAGE, LANGUAGES
from service.orgs import access
from service.orgs.schemas import (
    NODE_KINDS,
    ROLES,
    SYSTEM,
    WORKER_GROUPS,
    Actor,
    MemberIn,
    MemberOut,
    MemberPage,
    MemberPatch,
    NodeIn,
    NodeOut,
)
from service.orgs.tables import Assignment, Member, Node
from service.text import plain_text

PHONE_PATTERN = re.compile(r"^1[3-9][0-9]{9}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
NAME_MAX = 50
NODE_NAME_MAX = 100
SEARCH_MAX = 50
MAX_OFFSET = 1_000_000
MAX_DEPTH = 6


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits; spaces, dashes and a +86 prefix are allowed."""
    # NFKC turns the full-width digits Chinese input methods type into ASCII ones.
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw or ""))
    for prefix in ("+86", "0086"):
        digits = digits.removeprefix(prefix)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not PHONE_PATTERN.match(digits):
        raise DomainError(
            "validation_error",
            "Enter an 11-digit mainland mobile number starting with 1, such as 13800138000.",
            field="phone",
        )
    return digits


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


def clean_name(raw: str, *, field: str = "name", limit: int = NAME_MAX) -> str:
    name = plain_text(raw, field=field)
    if not name:
        raise DomainError("validation_error", "Enter a name.", field=field)
    if len(name) > limit:
        raise DomainError(
            "validation_error",
            "Keep the name to %(limit)s characters or fewer.",
            field=field,
            limit=limit,
        )
    return name


def clean_group(raw: str | None) -> str:
    group = (raw or "").strip() or "other"
    if group not in WORKER_GROUPS:
        raise DomainError("validation_error", "Choose a worker group from the list.", field="group")
    return group


def clean_roles(raw: Iterable[str]) -> list[str]:
    roles = sorted({role.strip() for role in raw if role.strip()} or {"worker"})
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise DomainError(
            "validation_error",
            "Unknown role %(role)s: use worker, staff, organiser or admin.",
            field="roles",
            role=unknown[0],
        )
    return roles


def _require(actor: Actor, *roles: str) -> None:
    if not actor.has(*roles):
        raise Forbidden()


# --- nodes ------------------------------------------------------------------------------


def _node_out(row: dict[str, Any]) -> NodeOut:
    return NodeOut(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        kind=row["kind"],
        parent_id=row["parent"],
        depth=row["depth"],
        path=row["path"],
    )


def tree_nearness(actor: Actor, node_path: str) -> int:
    """How many levels of the tree a node shares with the actor's (more: nearer), for
    lists that put what is near the worker first (reading rooms, heat-relief sites).
    Paths are "/1/4/9/": the shared levels are the slashes of the common prefix."""
    mine = actor.node_path
    if node_path.startswith(mine):
        return mine.count("/")
    shared = 0
    for index, (a, b) in enumerate(zip(mine, node_path, strict=False)):
        if a != b:
            break
        if a == "/":
            shared = index
    return node_path[: shared + 1].count("/")


async def list_nodes(within_path: str = "/") -> list[NodeOut]:
    """The tree in depth-first order (sorted by path ids, so children follow parents)."""
    rows = await Node.select().where(Node.path.like(f"{within_path}%")).run()
    rows.sort(key=lambda row: [int(part) for part in row["path"].strip("/").split("/")])
    return [_node_out(row) for row in rows]


async def node_by_code(code: str) -> NodeOut:
    code = (code or "").strip()
    row = (
        await Node.select().where(Node.code == code).first().run()
        if CODE_PATTERN.match(code)
        else None
    )
    if row is None:
        raise DomainError(
            "unknown_node",
            "There is no organisation with the code %(code)s.",
            field="node",
            code=code,
        )
    return _node_out(row)


async def root_node() -> NodeOut:
    row = await Node.select().where(Node.parent.is_null()).order_by(Node.id).first().run()
    if row is None:
        raise DomainError(
            "unknown_node", "The organisation tree is empty: add the federation first."
        )
    return _node_out(row)


async def create_node(actor: Actor, data: NodeIn) -> NodeOut:
    _require(actor, "admin")
    code = (data.code or "").strip()
    if not CODE_PATTERN.match(code):
        raise DomainError(
            "validation_error",
            "Use 1 to 32 letters, digits, - or _ for the code.",
            field="code",
        )
    name = clean_name(data.name, limit=NODE_NAME_MAX)
    if data.kind not in NODE_KINDS:
        raise DomainError("validation_error", "Choose the kind of organisation.", field="kind")
    async with write_transaction():
        parent = await node_by_code(data.parent) if data.parent else None
        if parent is None and await Node.exists().where(Node.parent.is_null()).run():
            raise DomainError(
                "validation_error",
                "Choose the parent organisation.",
                field="parent",
            )
        if parent is not None:
            if not actor.reaches(parent.path):
                raise Forbidden()
            if parent.depth + 1 >= MAX_DEPTH:
                raise DomainError(
                    "validation_error", "The tree cannot be deeper here.", field="parent"
                )
        if await Node.exists().where(Node.code == code).run():
            raise DomainError(
                "conflict",
                "The code %(code)s is already used.",
                field="code",
                code=code,
            )
        inserted = (
            await Node.insert(
                Node(
                    code=code,
                    name=name,
                    kind=data.kind,
                    parent=parent.id if parent else None,
                    path="",
                    depth=parent.depth + 1 if parent else 0,
                )
            )
            .returning(Node.id)
            .run()
        )
        node_id = inserted[0]["id"]
        path = f"{parent.path if parent else '/'}{node_id}/"
        await Node.update({Node.path: path}).where(Node.id == node_id).run()
    return await node_by_code(code)


@dataclass(frozen=True)
class FirstRun:
    federation: NodeOut
    admin: MemberOut
    created_federation: bool
    created_admin: bool


async def init_federation(
    federation_name: str, admin_phone: str, admin_name: str, *, code: str = "federation"
) -> FirstRun:
    """The first run of an empty installation: the federation (the root node) and its
    first admin. Running it again with the same federation is a no-op (a missing admin is
    added); a different federation is refused, since an installation has one root."""
    name = clean_name(federation_name, field="federation", limit=NODE_NAME_MAX)
    phone = normalise_phone(admin_phone)
    person = clean_name(admin_name)
    async with write_transaction():
        root = await Node.select().where(Node.parent.is_null()).order_by(Node.id).first().run()
        if root is not None and root["name"] != name:
            raise DomainError(
                "conflict",
                "This installation already has the federation %(name)s; it has only one.",
                field="federation",
                name=root["name"],
            )
        existing = (
            await Member.select(Member.id, Member.roles).where(Member.phone == phone).first().run()
        )
        if existing is not None and "admin" not in existing["roles"].split(","):
            raise DomainError(
                "conflict",
                "The phone number %(phone)s belongs to a member who is not an admin.",
                field="phone",
                phone=mask_phone(phone),
            )
    created_federation = root is None
    if created_federation:
        federation = await create_node(
            SYSTEM, NodeIn(code=code, name=name, kind="federation", parent=None)
        )
    else:
        federation = _node_out(root)
    created_admin = existing is None
    if created_admin:
        admin = await create_member(
            SYSTEM,
            MemberIn(phone=phone, name=person, node=federation.code, roles=["admin", "organiser"]),
        )
    else:
        admin = await get_member(SYSTEM, existing["id"])
    return FirstRun(federation, admin, created_federation, created_admin)


# --- members ----------------------------------------------------------------------------


MEMBER_COLUMNS = (
    Member.id,
    Member.name,
    Member.phone,
    Member.worker_group,
    Member.roles,
    Member.language,
    Member.created_at,
    Member.node.id.as_alias("node_id"),
    Member.node.code.as_alias("node_code"),
    Member.node.name.as_alias("node_name"),
    Member.node.path.as_alias("node_path"),
)


def _member_out(row: dict[str, Any]) -> MemberOut:
    return MemberOut(
        id=row["id"],
        name=row["name"],
        phone_masked=mask_phone(row["phone"]),
        node_id=row["node_id"],
        node_code=row["node_code"],
        node_name=row["node_name"],
        group=row["worker_group"],
        roles=row["roles"].split(","),
        language=row["language"],
        created_at=row["created_at"],
    )


def actor_from_row(row: dict[str, Any]) -> Actor:
    return Actor(
        member_id=row["id"],
        node_id=row["node_id"],
        node_path=row["node_path"],
        roles=frozenset(row["roles"].split(",")),
        language=row["language"],
        name=row["name"],
        group=row["worker_group"],
    )


async def actor_for_member(member_id: int) -> Actor | None:
    # Raw SQL: this runs on every signed-in request, and building the joined select in
    # Piccolo costs more than the query itself (tests/bench/test_door.py profile).
    rows = await Member.raw(
        "SELECT m.id, m.name, m.worker_group, m.roles, m.language, n.id AS node_id, "
        "n.path AS node_path FROM org_member m JOIN org_node n ON n.id = m.node "
        "WHERE m.id = {}",
        member_id,
    ).run()
    return actor_from_row(rows[0]) if rows else None


async def node_for_path(path: str) -> NodeOut:
    row = await Node.select().where(Node.path == path).first().run()
    if row is None:
        raise NotFound("There is no such organisation.")
    return _node_out(row)


async def member_contact(member_id: int) -> dict[str, Any]:
    """What messaging needs of a member: phone, name, language."""
    row = (
        await Member.select(Member.phone, Member.name, Member.language)
        .where(Member.id == member_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("There is no such member.")
    return row


async def member_cards(member_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Id, name and masked phone of some members, in the order given."""
    rows = (
        await Member.select(Member.id, Member.name, Member.phone)
        .where(Member.id.is_in(list(member_ids) or [0]))
        .run()
    )
    by_id = {
        row["id"]: {"id": row["id"], "name": row["name"], "phone_masked": mask_phone(row["phone"])}
        for row in rows
    }
    return [by_id[member_id] for member_id in member_ids if member_id in by_id]


async def member_id_for_phone(phone: str) -> int | None:
    row = await Member.select(Member.id).where(Member.phone == phone).first().run()
    return row["id"] if row else None


async def get_member(actor: Actor, member_id: int) -> MemberOut:
    _require(actor, "organiser", "admin")
    row = await Member.select(*MEMBER_COLUMNS).where(Member.id == member_id).first().run()
    if row is None or not actor.reaches(row["node_path"]):
        # Out of scope looks the same as missing: no probing of other nodes' members.
        raise NotFound("No such member in your organisations.")
    return _member_out(row)


async def own_profile(actor: Actor) -> tuple[MemberOut, str]:
    """The member's own record and their full phone number (the one place it is shown)."""
    assert actor.member_id is not None
    row = await Member.select(*MEMBER_COLUMNS).where(Member.id == actor.member_id).first().run()
    if row is None:
        raise NotFound()
    return _member_out(row), row["phone"]


async def search_members(
    actor: Actor, query: str = "", *, node_code: str | None = None, limit: int = 20, offset: int = 0
) -> MemberPage:
    """Members in the actor's subtree, by name or by the last four digits of the phone."""
    _require(actor, "organiser", "admin")
    query = plain_text(query, field="q")
    offset = max(0, min(offset, MAX_OFFSET))
    if len(query) > SEARCH_MAX:
        raise DomainError("validation_error", "Search for at most 50 characters.", field="q")
    scope = actor.node_path
    if node_code:
        node = await node_by_code(node_code)
        if not actor.reaches(node.path):
            raise Forbidden()
        scope = node.path
    where = Member.node.path.like(f"{scope}%")
    match = member_match(query, phone=Member.phone, name=Member.name)
    if match is not None:
        where &= match
    limit = max(1, min(limit, 100))
    rows = await (
        Member.select(*MEMBER_COLUMNS)
        .where(where)
        .order_by(Member.name_sort, Member.name)
        .limit(limit)
        .offset(max(0, offset))
        .run()
    )
    total = await Member.count().where(where).run()
    return MemberPage(items=[_member_out(row) for row in rows], total=total)


def member_match(
    query: str, *, phone: Varchar, name: Varchar, phone_prefix: bool = True
) -> Combinable | None:
    """The filter for a search box: four digits are the end of a phone number, more digits
    its start (only where full numbers may be looked up: `phone_prefix`), anything else
    part of a name (case-insensitive)."""
    query = unicodedata.normalize("NFKC", query).strip()
    if query.isdigit() and len(query) == 4:
        return phone.like(f"%{query}")
    if query.isdigit():
        return phone.like(f"{query}%") if phone_prefix else None
    # LIKE wildcards typed by the user are dropped, not escaped: SQLite has no default
    # escape character.
    literal = re.sub(r"[%_\\]", "", query)
    if not literal:
        return None
    # SQLite's LIKE is already case-insensitive for ASCII; it has no ILIKE.
    sqlite = engine().engine_type == "sqlite"
    return (name.like if sqlite else name.ilike)(f"%{literal}%")


def name_sort_key(name: str) -> str:
    """How a name sorts for people here: by its pinyin (Latin letters as they are)."""
    return " ".join(lazy_pinyin(name, errors="default")).lower()[:200]


def named(raw: str) -> dict[str, str]:
    """A member's cleaned name with its sort key: every write of a name goes through it."""
    name = clean_name(raw)
    return {"name": name, "name_sort": name_sort_key(name)}


async def _member_values(actor: Actor, data: MemberIn) -> dict[str, Any]:
    node = await node_by_code(data.node) if data.node else await root_node()
    if not actor.reaches(node.path):
        raise Forbidden("You can only add members to your own organisations.")
    return {
        "phone": normalise_phone(data.phone),
        **named(data.name),
        "node": node.id,
        "worker_group": clean_group(data.group),
        "roles": ",".join(clean_roles(data.roles)),
    }


async def create_member(actor: Actor, data: MemberIn) -> MemberOut:
    _require(actor, "admin")
    values = await _member_values(actor, data)
    duplicate = DomainError(
        "duplicate_phone", "This phone number already belongs to a member.", field="phone"
    )
    try:
        async with write_transaction():
            if await Member.exists().where(Member.phone == values["phone"]).run():
                raise duplicate
            inserted = await Member.insert(Member(**values)).returning(Member.id).run()
    except Exception as error:
        # Concurrent creates of one phone on PostgreSQL: the unique index refuses the rest.
        if is_unique_violation(error):
            raise duplicate from error
        raise
    return await get_member(actor, inserted[0]["id"])


async def register_self(
    phone: str, name: str, node_code: str, group: str, language: str | None = None
) -> int:
    """A worker joins after verifying their phone: the worker role only."""
    values = {
        "language": language if language in LANGUAGES else DEFAULT_LANGUAGE,
        "phone": normalise_phone(phone),
        **named(name),
        "node": (await node_by_code(node_code)).id,
        "worker_group": clean_group(group),
        "roles": "worker",
    }
    try:
        async with write_transaction():
            existing = await member_id_for_phone(values["phone"])
            if existing is not None:
                return existing
            inserted = await Member.insert(Member(**values)).returning(Member.id).run()
    except Exception as error:
        # The same phone signing up twice at once: the first one's member is theirs.
        winner = await member_id_for_phone(values["phone"]) if is_unique_violation(error) else None
        if winner is None:
            raise
        return winner
    return int(inserted[0]["id"])


# The one rule that keeps an installation administrable: whatever changes members (the
# API, the member page, an import), the federation keeps at least one admin at its root
# node (an admin placed lower reaches only a subtree). Checked after the writes, inside
# their transaction, so a refusal rolls them back.
FEDERATION_ADMINS_LOCK = "org:federation-admins"


async def _federation_admin_count() -> int:
    rows = await Member.raw(
        "SELECT COUNT(*) AS n FROM org_member m JOIN org_node n ON n.id = m.node "
        "WHERE n.parent IS NULL AND (',' || m.roles || ',') LIKE '%,admin,%'"
    ).run()
    return int(rows[0]["n"])


async def _keep_a_federation_admin(admins_before: int) -> None:
    if admins_before > 0 and await _federation_admin_count() == 0:
        raise DomainError(
            "last_admin",
            "This is the federation's last admin: make someone else an admin first.",
            field="roles",
        )


async def _lock_federation_admins() -> int:
    """Inside write_transaction(): serialise changes that could demote admins (two admins
    demoting each other at once on PostgreSQL), and count the admins before them."""
    await lock_key(FEDERATION_ADMINS_LOCK)
    return await _federation_admin_count()


async def patch_member(actor: Actor, member_id: int, patch: MemberPatch) -> MemberOut:
    """A partial update: fields left out keep their current values."""
    _require(actor, "admin")
    current = await get_member(actor, member_id)
    return await update_member(
        actor,
        member_id,
        MemberIn(
            # An empty phone keeps the current number (update_member reads it).
            phone="" if patch.phone is msgspec.UNSET else patch.phone,
            name=current.name if patch.name is msgspec.UNSET else patch.name,
            node=current.node_code if patch.node is msgspec.UNSET else patch.node,
            group=current.group if patch.group is msgspec.UNSET else patch.group,
            roles=current.roles if patch.roles is msgspec.UNSET else patch.roles,
        ),
    )


async def update_member(actor: Actor, member_id: int, data: MemberIn) -> MemberOut:
    _require(actor, "admin")
    await get_member(actor, member_id)
    if not data.phone.strip():
        # An empty phone on an edit keeps the current number (it is never shown in full).
        current = await Member.select(Member.phone).where(Member.id == member_id).first().run()
        data = msgspec.structs.replace(data, phone=current["phone"] if current else "")
    values = await _member_values(actor, data)
    async with write_transaction():
        admins_before = await _lock_federation_admins()
        clash = await member_id_for_phone(values["phone"])
        if clash is not None and clash != member_id:
            raise DomainError(
                "duplicate_phone",
                "This phone number already belongs to a member.",
                field="phone",
            )
        await Member.update(values).where(Member.id == member_id).run()
        await _keep_a_federation_admin(admins_before)
    return await get_member(actor, member_id)


async def set_language(member_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise DomainError("validation_error", "Choose 中文 or English.", field="language")
    async with write_transaction():
        await Member.update({Member.language: language}).where(Member.id == member_id).run()


async def update_own_profile(actor: Actor, name: str, group: str) -> None:
    assert actor.member_id is not None
    values = {**named(name), "worker_group": clean_group(group)}
    async with write_transaction():
        await Member.update(values).where(Member.id == actor.member_id).run()


# --- import -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    errors: list[tuple[int, str]]  # (line number, English message with params applied)


IMPORT_COLUMNS = ("phone", "name", "node", "group", "roles")


async def import_members(rows: Sequence[tuple[int, dict[str, str]]]) -> ImportResult:
    """Create or update members from (line number, row) pairs; all or nothing.

    Every bad row is reported by its line number; when any row is bad nothing is written.
    """
    from service.i18n import gettext

    nodes = {node.code: node for node in await list_nodes()}
    root = await root_node()
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    cleaned: list[dict[str, Any]] = []
    for line, row in rows:
        try:
            phone = normalise_phone(row.get("phone", ""))
            if phone in seen:
                raise DomainError(
                    "validation_error",
                    "The phone number is repeated from line %(line)s.",
                    line=seen[phone],
                )
            seen[phone] = line
            node_code = (row.get("node") or "").strip()
            if node_code and node_code not in nodes:
                raise DomainError(
                    "unknown_node",
                    "There is no organisation with the code %(code)s.",
                    code=node_code,
                )
            cleaned.append(
                {
                    "phone": phone,
                    **named(row.get("name", "")),
                    "node": nodes[node_code].id if node_code else root.id,
                    "worker_group": clean_group(row.get("group")),
                    "roles": ",".join(clean_roles((row.get("roles") or "").split(";"))),
                }
            )
        except DomainError as error:
            errors.append((line, gettext(error.message, **error.params)))
    if errors:
        return ImportResult(created=0, updated=0, errors=errors)
    created = updated = 0
    async with write_transaction():
        admins_before = await _lock_federation_admins()
        for values in cleaned:
            existing = await member_id_for_phone(values["phone"])
            if existing is None:
                await Member.insert(Member(**values)).run()
                created += 1
            else:
                await Member.update(values).where(Member.id == existing).run()
                updated += 1
        await _keep_a_federation_admin(admins_before)
    return ImportResult(created=created, updated=updated, errors=[])


# --- scoped assignments -----------------------------------------------------------------


def _assigned_role(role: str) -> access.AssignedRole:
    found = access.assigned_role(role)
    if found is None:
        raise DomainError("unknown_role", "There is no such assignment role.", field="role")
    return found


async def _assignable_scope(actor: Actor, role: str, scope_id: int) -> access.Scope:
    """The scope of an assignment change, once the actor may make it there: forbidden for
    someone no global role lets assign, unknown_scope for a scope that does not exist,
    out_of_reach for one owned outside the actor's subtree."""
    assigned = _assigned_role(role)
    if not actor.has(*access.SUBTREE_ROLES):
        raise Forbidden()
    owner_path = await access.scope_owner_path(assigned.scope_kind, scope_id)
    if owner_path is None:
        raise DomainError("unknown_scope", "There is nothing here to assign people to.")
    scope = access.Scope(assigned.scope_kind, scope_id, owner_path)
    if not await access.may(actor, assigned.managed_by, scope):
        raise DomainError(
            "out_of_reach", "You can only assign people within your own organisations."
        )
    return scope


async def assign(actor: Actor, role: str, scope_id: int, phone: str) -> int:
    """Give the member with this phone a role at one scope (its kind is the role's): the
    member's id. Nothing is written when any check fails."""
    assigned = _assigned_role(role)
    scope = await _assignable_scope(actor, role, scope_id)
    member_id = await member_id_for_phone(normalise_phone(phone))
    if member_id is None:
        raise DomainError("unknown_member", "No member has this phone number.", field="phone")
    member = await actor_for_member(member_id)
    if member is None or not member.has(*assigned.holders):
        raise DomainError(
            "not_assignable",
            "No staff member has this phone number. An admin can give them the staff role.",
            field="phone",
        )
    duplicate = DomainError(
        "duplicate_assignment", "This person is already assigned here.", field="phone"
    )
    try:
        async with write_transaction():
            if (
                await Assignment.exists()
                .where(
                    (Assignment.scope_kind == scope.kind)
                    & (Assignment.scope_id == scope.id)
                    & (Assignment.role == role)
                    & (Assignment.member_id == member_id)
                )
                .run()
            ):
                raise duplicate
            await Assignment.insert(
                Assignment(
                    member_id=member_id,
                    role=role,
                    scope_kind=scope.kind,
                    scope_id=scope.id,
                    assigned_by=actor.member_id,
                    assigned_at=clock.now(),
                )
            ).run()
    except Exception as error:
        # Two organisers adding the same person at once: the unique index refuses one.
        if is_unique_violation(error):
            raise duplicate from error
        raise
    return member_id


async def unassign(actor: Actor, role: str, scope_id: int, member_id: int) -> None:
    """Take a role at one scope back from a member (nothing happens if they had none)."""
    scope = await _assignable_scope(actor, role, scope_id)
    async with write_transaction():
        await (
            Assignment.delete()
            .where(
                (Assignment.scope_kind == scope.kind)
                & (Assignment.scope_id == scope.id)
                & (Assignment.role == role)
                & (Assignment.member_id == member_id)
            )
            .run()
        )


async def assignees(role: str, scope_id: int) -> list[dict[str, Any]]:
    """Who holds a role at one scope, in the order they were assigned: id, name, masked
    phone. The caller has checked that its actor may see them."""
    assigned = _assigned_role(role)
    rows = (
        await Assignment.select(Assignment.member_id)
        .where(
            (Assignment.scope_kind == assigned.scope_kind)
            & (Assignment.scope_id == scope_id)
            & (Assignment.role == role)
        )
        .order_by(Assignment.id)
        .run()
    )
    return await member_cards([row["member_id"] for row in rows])


async def assigned_scope_ids(member_id: int, role: str) -> list[int]:
    """The scopes at which a member holds a role (an activity's id for door staff)."""
    assigned = _assigned_role(role)
    rows = (
        await Assignment.select(Assignment.scope_id)
        .where(
            (Assignment.member_id == member_id)
            & (Assignment.role == role)
            & (Assignment.scope_kind == assigned.scope_kind)
        )
        .order_by(Assignment.id)
        .run()
    )
    return [row["scope_id"] for row in rows]
