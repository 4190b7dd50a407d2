"""Check-in: the door is the first scan point type of service/scans. Cheap checks first
(parse, signature, client id, scan time), then one read of the door and the ticket, then
decide and record. Every answer has a stable result code and is idempotent by the
scanner's client id (the shared client-id log), so an offline scanner can resend its
queue safely; its queue is settled by the shared batch runner, and undo is audited in
the shared undo audit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from service import clock, kinds
from service.activities import services as activities
from service.activities.schemas import DoorActivity, DoorRegistration
from service.checkin.schemas import (
    MAX_BATCH,
    Attendee,
    BatchScan,
    CheckinOut,
    DoorOut,
    DoorSettingsIn,
    RosterOut,
    RosterTicket,
)
from service.checkin.tables import CheckinSettings, Scan, standing_admission, standing_admission_sql
from service.db import is_postgres, lock_key, run_sql, write_transaction
from service.errors import DomainError, Forbidden, NotFound
from service.orgs import access
from service.orgs import services as orgs
from service.orgs.schemas import Actor
from service.scans import points
from service.scans import services as scanning
from service.scans.points import ScanContext
from service.seams import SEAMS
from service.text import plain_text
from service.tickets import services as tickets
from service.tickets import tokens
from service.tickets.tokens import TicketToken

OPENS_BEFORE_START = timedelta(minutes=60)
# Roster changes are fetched with this much overlap, so a change committed while the last
# answer was being read is not missed (the scanner merges by ticket id).
ROSTER_OVERLAP = timedelta(seconds=10)
WALK_IN_RACE = timedelta(minutes=1)  # a place confirmed this recently came from the door
GATE_MAX = 40
MAX_GATES = 20


@dataclass(frozen=True)
class Door:
    activity: DoorActivity
    opens_at: datetime
    closes_at: datetime
    walk_ins_over_capacity: bool
    gates: tuple[str, ...]


# --- who may scan, and the door's settings ------------------------------------------------


async def _settings_row(activity_id: int) -> dict[str, Any] | None:
    # Raw SQL: read on every scan (see door_registration in activities).
    rows = await CheckinSettings.raw(
        "SELECT opens_at, closes_at, walk_ins_over_capacity, gates FROM checkin_settings "
        "WHERE activity_id = {}",
        activity_id,
    ).run()
    return rows[0] if rows else None


def _door_from(activity: DoorActivity, settings: dict[str, Any] | None) -> Door:
    found_kind = kinds.find(activity.kind)
    if found_kind is None or not found_kind.door:
        raise DomainError("no_door", "This activity has no door to check in at.")
    settings = settings or {}
    return Door(
        activity=activity,
        opens_at=settings.get("opens_at") or activity.starts_at - OPENS_BEFORE_START,
        closes_at=settings.get("closes_at") or activity.ends_at,
        walk_ins_over_capacity=bool(settings.get("walk_ins_over_capacity")),
        gates=tuple(line for line in (settings.get("gates") or "").splitlines() if line),
    )


# Door staff: people assigned to one activity scan at its door (organisers of its subtree
# need no assignment). Registered before SCAN_READ, which quotes the rule's SQL form.
DOOR_STAFF = access.AssignedRole(
    code="door_staff",
    scope_kind="activity",
    grants=frozenset({"scan"}),
    holders=frozenset({"staff", "organiser", "admin"}),
    managed_by="manage_door",
)
access.register_assigned_role(DOOR_STAFF)


def _scope(activity: DoorActivity) -> access.Scope:
    return access.Scope("activity", activity.id, activity.owner_path)


async def _may_scan(actor: Actor, activity: DoorActivity) -> bool:
    """Organisers of the activity's subtree, and staff assigned to its door (the rule and
    its SQL form in SCAN_READ: service/orgs/access.py)."""
    return await access.may(actor, "scan", _scope(activity))


def _may_check_in(actor: Actor) -> None:
    if not actor.has("staff", "organiser", "admin"):
        raise Forbidden("Only door staff and organisers can check people in.")


def _not_on_staff() -> Forbidden:
    return Forbidden("You are not on the door staff of this activity.")


async def door(actor: Actor, activity_id: int) -> Door:
    """The door of an activity, for those who may scan there (403 for anyone else)."""
    _may_check_in(actor)
    activity = await activities.door_activity(activity_id)
    if not await _may_scan(actor, activity):
        raise _not_on_staff()
    return _door_from(activity, await _settings_row(activity_id))


# --- the one read of a scan ---------------------------------------------------------------

# Everything a scan is decided on, in one statement: the activity and its door settings,
# whether the scanner may scan there (access.may_sql, the SQL form of access.may), and
# the ticket's registration, holder and reissue counter. It reads the activities', orgs'
# and tickets' tables itself, where ARCHITECTURE.md has rooms ask each other's services:
# at the door every statement costs more CPU than its query (QUALITY.md B3,
# tests/bench/profile_door.py), and the four look-ups it replaces were the larger part of
# a verdict. Nothing of it is cached, so a
# cancellation, a revocation or a closed door counts from the very next scan.
SCAN_READ = (
    "SELECT a.id, a.kind, a.title, a.status, a.starts_at, a.ends_at, a.venue_name, "
    "a.capacity, a.taken, o.path AS owner_path, s.opens_at, s.closes_at, "
    "s.walk_ins_over_capacity, s.gates, "
    + access.may_sql("scan", "activity", owner_path="o.path", scope_id="a.id")
    + " AS may_scan, r.id AS registration_id, "
    "r.activity AS registration_activity, r.member AS registration_member, "
    "r.status AS registration_status, r.updated_at AS registration_updated_at, "
    "m.name AS holder_name, m.phone AS holder_phone, t.reissue "
    "FROM activity a JOIN org_node o ON o.id = a.owner "
    "LEFT JOIN checkin_settings s ON s.activity_id = a.id "
    "LEFT JOIN activity_registration r ON r.id = {} "
    "LEFT JOIN org_member m ON m.id = r.member "
    "LEFT JOIN ticket_state t ON t.registration_id = r.id "
    "WHERE a.id = {}"
)


@dataclass(frozen=True)
class _Ticket:
    """What the one read found of the scanned ticket."""

    registration: DoorRegistration | None
    reissue: int


async def _scan_read(
    activity_id: int, ticket_id: int | None, scanner: Actor | None
) -> dict[str, Any] | None:
    scanner_params = access.may_sql_params(scanner, "scan", "activity")
    rows = await run_sql(SCAN_READ, *scanner_params, ticket_id, activity_id)
    return rows[0] if rows else None


def _door_of(row: dict[str, Any]) -> Door:
    activity = activities.door_activity_of(row)
    return _door_from(activity, row)


def _ticket_of(row: dict[str, Any] | None) -> _Ticket:
    if row is None or row["registration_id"] is None:
        return _Ticket(None, 0)
    registration = DoorRegistration(
        id=row["registration_id"],
        activity_id=row["registration_activity"],
        member_id=row["registration_member"],
        status=row["registration_status"],
        name=row["holder_name"],
        phone_masked=orgs.mask_phone(row["holder_phone"]),
        updated_at=row["registration_updated_at"],
    )
    return _Ticket(registration, int(row["reissue"] or 0))


def _token(code: Any) -> TicketToken | None:
    try:
        return tokens.verify_ticket(code if isinstance(code, str) else "")
    except tokens.BadToken:
        return None


async def scannable_activities(actor: Actor) -> list[DoorActivity]:
    """Activities this actor may scan at that have not ended: those of the organiser's
    subtree, and those a staff member is assigned to."""
    if not actor.has("staff", "organiser", "admin"):
        return []
    assigned: list[int] = []
    if actor.member_id is not None:
        assigned = await orgs.assigned_scope_ids(actor.member_id, DOOR_STAFF.code)
    subtree = actor.node_path if actor.has("organiser", "admin") else None
    return await activities.door_activities(assigned, subtree, ending_after=clock.now())


async def _organised_door(actor: Actor, activity_id: int) -> Door:
    if not actor.has(*access.SUBTREE_ROLES):
        raise Forbidden()
    activity = await activities.door_activity(activity_id)
    if not await access.may(actor, "manage_door", _scope(activity)):
        raise NotFound("There is no such activity.")
    return _door_from(activity, await _settings_row(activity_id))


def _gate(found: Door, gate: str) -> str:
    gate = plain_text(gate, field="gate", limit=GATE_MAX)
    if found.gates and gate not in found.gates:
        raise DomainError("validation_error", "Choose a gate from the list.", field="gate")
    return gate


# --- deciding a scan ----------------------------------------------------------------------


def _attendee(registration: DoorRegistration | None) -> Attendee | None:
    if registration is None:
        return None
    return Attendee(name=registration.name, phone_masked=registration.phone_masked)


def _ticket_id(found_activity_id: int, token: TicketToken | None) -> int | None:
    """The registration worth reading for this token (none for a bad code or another
    activity's ticket: their verdict needs no read)."""
    if token is None or token.activity_id != found_activity_id:
        return None
    return token.ticket_id


def _judge_ticket(
    found: Door, token: TicketToken | None, ticket: _Ticket, at: datetime
) -> tuple[str, DoorRegistration | None]:
    """Everything that needs no lock: the verdict, or "admit" when only the admission
    record remains to be decided."""
    if token is None:
        return "invalid", None
    if token.activity_id != found.activity.id:
        return "wrong_activity", None
    registration = ticket.registration
    if registration is None or registration.activity_id != token.activity_id:
        return "invalid", None
    if registration.status == "cancelled":
        return "cancelled", registration
    if token.reissue < ticket.reissue:
        return "revoked", registration
    if token.reissue > ticket.reissue:
        return "invalid", None
    return _judge_registration(found, registration, at), registration


def _judge_registration(found: Door, registration: DoorRegistration, at: datetime) -> str:
    if found.activity.status == "cancelled" or registration.status == "cancelled":
        return "cancelled"
    if registration.status == "waitlisted":
        return "waitlisted"
    if found.activity.status == "draft" or not found.opens_at <= at <= found.closes_at:
        return "not_open"
    return "admit"


async def _admission(registration_id: int) -> dict[str, Any] | None:
    return (
        await Scan.select()
        .where((Scan.registration_id == registration_id) & standing_admission())
        .first()
        .run()
    )


@dataclass(frozen=True)
class _NewScan:
    """A row of the scan log about to be written."""

    activity_id: int
    registration_id: int | None
    result: str
    gate: str
    scanner_id: int | None
    scanner_name: str
    client_id: str | None
    scanned_at: datetime
    recorded_at: datetime
    walk_in: bool
    first_scan_id: int | None = None


def _scan_row(
    actor: Actor,
    found: Door,
    result: str,
    *,
    registration_id: int | None,
    client_id: str | None,
    at: datetime,
    gate: str,
    walk_in: bool = False,
    first_scan_id: int | None = None,
) -> _NewScan:
    return _NewScan(
        activity_id=found.activity.id,
        registration_id=registration_id,
        result=result,
        gate=gate,
        scanner_id=actor.member_id,
        scanner_name=actor.name[:50],
        client_id=client_id,
        scanned_at=at,
        recorded_at=clock.now(),
        walk_in=walk_in,
        first_scan_id=first_scan_id,
    )


# The door's code among scan point types: stored in the shared client-id log and undo
# audit, and quoted by the statements below that write the log row themselves.
DOOR = "door"

# Raw SQL for the scan log: a verdict is written on every scan at the door.
INSERT_SCAN = (
    "INSERT INTO checkin_scan (activity_id, registration_id, result, gate, scanner_id, "
    "scanner_name, client_id, scanned_at, recorded_at, walk_in, first_scan_id) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING id"
)
# The admission rule is formatted in (a constant, checkin.tables): no input.
INSERT_ADMISSION = (
    "INSERT INTO checkin_scan (activity_id, registration_id, result, gate, scanner_id, "  # noqa: S608
    "scanner_name, client_id, scanned_at, recorded_at, walk_in, first_scan_id) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
    f"ON CONFLICT (registration_id) WHERE {standing_admission_sql()} "
    "DO NOTHING RETURNING id"
)
# PostgreSQL: a verdict and its client id's row of the shared log, in one statement.
# Constants only are formatted in (the log's columns, the door's code): no input.
INSERT_SCAN_LOGGED_PG = (
    "WITH scan AS (INSERT INTO checkin_scan (activity_id, registration_id, result, gate, "  # noqa: S608
    "scanner_id, scanner_name, client_id, scanned_at, recorded_at, walk_in, first_scan_id) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
    "RETURNING id, activity_id, client_id, scanner_id, recorded_at), "
    f"logged AS (INSERT INTO scan_client_log ({scanning.CLIENT_LOG_COLUMNS}) "
    f"SELECT '{DOOR}', activity_id, client_id, scanner_id, id, recorded_at FROM scan) "
    "SELECT id FROM scan"
)
STANDING_ADMISSION = (
    "SELECT id, scanned_at, scanner_name, gate FROM checkin_scan "  # noqa: S608
    "WHERE registration_id = {} AND " + standing_admission_sql()
)
# PostgreSQL: a live scan's admission, or else its duplicate of the standing admission,
# with its client id's row of the shared log, in one statement (one round trip, no
# BEGIN/COMMIT). Its parts share one snapshot: when the admission that refused this one
# committed after it was taken, `standing` finds nothing, no row is written, and the
# caller decides under the ticket's lock. A client id sent before fails the whole
# statement on a unique index (the scan log's or the client-id log's): nothing stays.
LIVE_ADMISSION_PG = (
    "WITH scan (activity_id, registration_id, result, gate, scanner_id, scanner_name, "  # noqa: S608
    "client_id, scanned_at, recorded_at, walk_in, first_scan_id) AS (VALUES ({}::integer, "
    "{}::integer, {}::varchar, {}::varchar, {}::integer, {}::varchar, {}::varchar, "
    "{}::timestamptz, {}::timestamptz, {}::boolean, {}::integer)), "
    "admission AS (INSERT INTO checkin_scan (activity_id, registration_id, result, gate, "
    "scanner_id, scanner_name, client_id, scanned_at, recorded_at, walk_in) "
    "SELECT activity_id, registration_id, 'admitted', gate, scanner_id, scanner_name, "
    "client_id, scanned_at, recorded_at, walk_in FROM scan "
    f"ON CONFLICT (registration_id) WHERE {standing_admission_sql()} "
    "DO NOTHING RETURNING id), "
    "standing AS (SELECT c.id, c.scanned_at, c.scanner_name, c.gate FROM checkin_scan c "
    "JOIN scan ON c.registration_id = scan.registration_id "
    f"WHERE {standing_admission_sql('c')} "
    "AND NOT EXISTS (SELECT 1 FROM admission)), "
    "duplicate AS (INSERT INTO checkin_scan (activity_id, registration_id, result, gate, "
    "scanner_id, scanner_name, client_id, scanned_at, recorded_at, walk_in, first_scan_id) "
    "SELECT scan.activity_id, scan.registration_id, 'already_checked_in', scan.gate, "
    "scan.scanner_id, scan.scanner_name, scan.client_id, scan.scanned_at, scan.recorded_at, "
    "scan.walk_in, standing.id FROM scan JOIN standing ON true RETURNING id), "
    f"logged AS (INSERT INTO scan_client_log ({scanning.CLIENT_LOG_COLUMNS}) "
    f"SELECT '{DOOR}', scan.activity_id, scan.client_id, scan.scanner_id, "
    "COALESCE((SELECT id FROM admission), (SELECT id FROM duplicate)), scan.recorded_at "
    "FROM scan WHERE scan.client_id IS NOT NULL "
    "AND (EXISTS (SELECT 1 FROM admission) OR EXISTS (SELECT 1 FROM duplicate))) "
    "SELECT (SELECT id FROM admission) AS admitted_id, "
    "(SELECT id FROM duplicate) AS duplicate_id, standing.id AS first_id, "
    "standing.scanned_at, standing.scanner_name, standing.gate "
    "FROM scan LEFT JOIN standing ON true"
)


def _values(scan: _NewScan) -> tuple[Any, ...]:
    return (
        scan.activity_id,
        scan.registration_id,
        scan.result,
        scan.gate,
        scan.scanner_id,
        scan.scanner_name,
        scan.client_id,
        scan.scanned_at,
        scan.recorded_at,
        scan.walk_in,
        scan.first_scan_id,
    )


async def _log(scan: _NewScan, scan_id: int) -> None:
    """The scan's client id in the shared log (inside the scan's transaction)."""
    await scanning.log_client_id(
        DOOR, scan.activity_id, scan.client_id, scan.scanner_id, scan_id, scan.recorded_at
    )


async def _insert(scan: _NewScan) -> int:
    """Record a verdict, and its client id in the shared log (one statement on
    PostgreSQL; one statement without a client id)."""
    if scan.client_id is None:
        rows = await run_sql(INSERT_SCAN, *_values(scan))
    elif is_postgres():
        rows = await run_sql(INSERT_SCAN_LOGGED_PG, *_values(scan))
    else:
        async with write_transaction():
            rows = await run_sql(INSERT_SCAN, *_values(scan))
            await _log(scan, int(rows[0]["id"]))
    return int(rows[0]["id"])


async def _insert_admission(scan: _NewScan) -> int | None:
    """Record an admission unless one stands already (then None)."""
    async with write_transaction():
        rows = await run_sql(INSERT_ADMISSION, *_values(replace(scan, result="admitted")))
        if rows:
            await _log(scan, int(rows[0]["id"]))
    return int(rows[0]["id"]) if rows else None


async def _record_live(scan: _NewScan) -> tuple[int, dict[str, Any] | None] | None:
    """A live scan's admission, or its duplicate of the standing admission: (the new
    scan's id, the standing admission when a duplicate). None when neither could be
    decided here (see LIVE_ADMISSION_PG; or the standing admission was undone meanwhile):
    nothing was written, and the caller decides under the ticket's lock."""
    if is_postgres():
        # The scan's own result and first_scan_id are not used: the statement decides.
        (row,) = await run_sql(LIVE_ADMISSION_PG, *_values(scan))
        if row["admitted_id"] is not None:
            return int(row["admitted_id"]), None
        if row["duplicate_id"] is None:
            return None
        first = {
            "id": row["first_id"],
            "scanned_at": row["scanned_at"],
            "scanner_name": row["scanner_name"],
            "gate": row["gate"],
        }
        return int(row["duplicate_id"]), first
    # SQLite runs one writer at a time: one transaction sees the standing admission.
    async with write_transaction():
        admitted = await _insert_admission(scan)
        if admitted is not None:
            return admitted, None
        standing = await run_sql(STANDING_ADMISSION, scan.registration_id)
        if not standing:
            return None
        first = dict(standing[0])
        duplicate = replace(scan, result="already_checked_in", first_scan_id=first["id"])
        return await _insert(duplicate), first


async def _admit(
    actor: Actor,
    found: Door,
    registration_id: int,
    *,
    client_id: str | None,
    at: datetime,
    gate: str,
    walk_in: bool,
    offline: bool = False,
) -> tuple[int, dict[str, Any] | None]:
    """Record the admission, or the duplicate: (the new scan's id, the standing admission
    when this scan is a duplicate). Among offline scans (a synced queue, whose scanner
    already showed its own verdict) the earliest wins: one made before the recorded
    admission takes its place. A scan answered live never displaces a standing admission,
    whatever its phone's clock says: that would show green twice."""
    if SEAMS.serialise_admissions and not offline:
        # Live scans: one statement decides (one transaction on SQLite), guarded by the
        # partial unique index.
        recorded = await _record_live(
            _scan_row(
                actor,
                found,
                "admitted",
                registration_id=registration_id,
                client_id=client_id,
                at=at,
                gate=gate,
                walk_in=walk_in,
            )
        )
        if recorded is not None:
            return recorded
    seen_earlier = None if SEAMS.serialise_admissions else await _admission(registration_id)
    async with write_transaction():
        if SEAMS.serialise_admissions:
            await lock_key(f"checkin:{registration_id}")
            first = await _admission(registration_id)
        else:  # the control run: a decision made on a read from before the transaction
            first = seen_earlier

        def scan(result: str, first_scan_id: int | None = None) -> _NewScan:
            return _scan_row(
                actor,
                found,
                result,
                registration_id=registration_id,
                client_id=client_id,
                at=at,
                gate=gate,
                walk_in=walk_in,
                first_scan_id=first_scan_id,
            )

        if first is None:
            if not SEAMS.serialise_admissions:  # the control run (its index is dropped)
                return await _insert(scan("admitted")), None
            # A live scan takes no lock: it may have admitted the ticket since the read.
            admitted = await _insert_admission(scan("admitted"))
            if admitted is not None:
                return admitted, None
            first = await _admission(registration_id)
            assert first is not None, "the one-admission index refused, so one stands"
            return await _insert(scan("already_checked_in", first["id"])), first
        if not offline or at >= first["scanned_at"]:
            return await _insert(scan("already_checked_in", first["id"])), first
        # Two offline scanners admitted one ticket: this scan came first. The later one
        # becomes the duplicate, and its scanner sees that after its next roster sync.
        await Scan.update({Scan.result: "superseded"}).where(Scan.id == first["id"]).run()
        winner = await _insert(scan("admitted"))
        await (
            Scan.update({Scan.result: "already_checked_in", Scan.first_scan_id: winner})
            .where(Scan.id == first["id"])
            .run()
        )
        return winner, None


async def _answer(scan_id: int) -> CheckinOut:
    """The answer a scan was given, rebuilt from the scan log (so a replay matches)."""
    row = await Scan.select().where(Scan.id == scan_id).first().run()
    assert row is not None
    return await _answer_row(row)


async def _answer_row(row: dict[str, Any]) -> CheckinOut:
    registration = (
        await activities.door_registration(row["registration_id"])
        if row["registration_id"]
        else None
    )
    out = CheckinOut(
        result=row["result"],
        registration_id=row["registration_id"],
        attendee=_attendee(registration),
        scan_id=row["id"],
        client_id=row["client_id"],
        walk_in=row["walk_in"],
    )
    if row["result"] in {"admitted", "already_checked_in"}:
        first = row
        if row["first_scan_id"]:
            first = await Scan.select().where(Scan.id == row["first_scan_id"]).first().run()
        if first is not None:
            out.first_checked_in_at = first["scanned_at"]
            out.first_scanner = first["scanner_name"]
            out.first_gate = first["gate"]
    return out


# --- the door as a scan point type ----------------------------------------------------------


@dataclass(frozen=True)
class _DoorScan:
    """What a scanner sent to a door: the verified code (None: not a good one), the gate,
    and the door when a batch has read it already (its tickets are read one by one)."""

    token: TicketToken | None
    gate: str
    door: Door | None = None


@dataclass(frozen=True)
class _DoorReading:
    """The one read of a scan at a door. `ticket` is None for a look-up or a walk-in,
    whose registration is known without a code."""

    door: Door
    token: TicketToken | None
    ticket: _Ticket | None
    gate: str


@dataclass(frozen=True)
class _Verdict:
    """A verdict code, or "admit" when only the admission record remains to be decided."""

    result: str
    registration: DoorRegistration | None
    walk_in: bool = False


class DoorPoint:
    """An activity's door (point id: the activity id). Its "not open" is a verdict kept in
    the scan log, as it always was, so the mechanism's point_closed is never answered:
    a door is a point that exists while its activity does."""

    code = DOOR
    duplicate_results = frozenset({"already_checked_in"})
    # Its hot path writes the client-id log row inside its one statement.
    logs_client_ids = True

    async def read(self, scan: ScanContext, payload: _DoorScan) -> _DoorReading:
        actor: Actor = scan.actor
        found = payload.door
        if found is None:
            ticket_id = _ticket_id(scan.point_id, payload.token)
            row = await _scan_read(scan.point_id, ticket_id, actor)
            if row is None:
                raise NotFound("There is no such activity.")
            found = _door_of(row)
            if not row["may_scan"]:
                raise _not_on_staff()
            ticket = _ticket_of(row)
        else:
            # Read when its turn comes: an earlier scan of the batch may change it.
            ticket_id = _ticket_id(found.activity.id, payload.token)
            ticket = _ticket_of(
                await _scan_read(found.activity.id, ticket_id, None) if ticket_id else None
            )
        return _DoorReading(found, payload.token, ticket, _gate(found, payload.gate))

    def is_open(self, reading: _DoorReading) -> bool:
        return True

    def decide(self, scan: ScanContext, reading: _DoorReading) -> _Verdict:
        assert reading.ticket is not None
        verdict, registration = _judge_ticket(reading.door, reading.token, reading.ticket, scan.at)
        return _Verdict(verdict, registration)

    async def record(
        self, scan: ScanContext, reading: _DoorReading, verdict: _Verdict
    ) -> tuple[int, CheckinOut]:
        return await _decided(scan, reading, verdict)

    async def answer(self, scan: ScanContext, record_id: int) -> CheckinOut:
        return await _answer(record_id)

    def result_of(self, answer: CheckinOut) -> str:
        return answer.result


DOOR_POINT = points.register(DoorPoint())


def _scan_context(
    actor: Actor,
    activity_id: int,
    client_id: str | None,
    scanned_at: datetime | None = None,
    *,
    offline: bool = False,
) -> ScanContext:
    return scanning.context(
        DOOR,
        activity_id,
        actor,
        scanner_id=actor.member_id,
        scanner_name=actor.name,
        client_id=client_id,
        scanned_at=scanned_at,
        offline=offline,
    )


async def _decided(
    scan: ScanContext, reading: _DoorReading, verdict: _Verdict
) -> tuple[int, CheckinOut]:
    """Record a verdict in the scan log (or the admission) and answer with it (built
    from what is known, so a verdict costs no read after its write)."""
    actor: Actor = scan.actor
    found, registration, result = reading.door, verdict.registration, verdict.result
    first: dict[str, Any] | None = None
    if result == "admit":
        assert registration is not None
        scan_id, first = await _admit(
            actor,
            found,
            registration.id,
            client_id=scan.client_id,
            at=scan.at,
            gate=reading.gate,
            walk_in=verdict.walk_in,
            offline=scan.offline,
        )
        result = "admitted" if first is None else "already_checked_in"
    else:
        scan_id = await _insert(
            _scan_row(
                actor,
                found,
                result,
                registration_id=registration.id if registration else None,
                client_id=scan.client_id,
                at=scan.at,
                gate=reading.gate,
            )
        )
    out = CheckinOut(
        result=result,
        registration_id=registration.id if registration else None,
        attendee=_attendee(registration),
        scan_id=scan_id,
        client_id=scan.client_id,
        walk_in=verdict.walk_in and result == "admitted",
    )
    if result == "admitted":
        out.first_checked_in_at, out.first_scanner, out.first_gate = (
            scan.at,
            actor.name[:50],
            reading.gate,
        )
    elif first is not None:
        out.first_checked_in_at = first["scanned_at"]
        out.first_scanner = first["scanner_name"]
        out.first_gate = first["gate"]
    elif result == "not_open":
        out.opens_at = found.opens_at
    elif result == "wrong_activity" and reading.token is not None:
        # Read only for this rare refusal: the door can then say where the ticket belongs.
        other = await activities.message_activity(reading.token.activity_id)
        out.ticket_activity = other.title if other else None
    return scan_id, out


async def check_in(
    actor: Actor,
    activity_id: int,
    code: str,
    *,
    client_id: str | None = None,
    scanned_at: datetime | None = None,
    gate: str = "",
) -> CheckinOut:
    """Decide one scanned code. The same client id again returns the first answer and
    writes nothing.

    Two statements in all: the signature is checked without the database, one read
    brings the door, the scanner's place on its staff and the ticket (SCAN_READ), and one
    write records the verdict with its client id (LIVE_ADMISSION_PG on PostgreSQL)."""
    _may_check_in(actor)
    token = _token(code)
    scan = _scan_context(actor, activity_id, client_id, scanned_at)
    return await scanning.decide(scan, _DoorScan(token, gate))


async def check_in_batch(
    actor: Actor, activity_id: int, scans: Sequence[BatchScan], *, gate: str = ""
) -> list[CheckinOut]:
    """An offline scanner's queue, settled by the shared batch runner: decided oldest
    first (so the earliest scan of a ticket wins), answered in the order sent."""

    async def decide_one(found: Door, queued: BatchScan) -> CheckinOut:
        scan = _scan_context(
            actor, found.activity.id, queued.client_id, queued.scanned_at, offline=True
        )
        sent_gate = gate if queued.gate is None else queued.gate
        return await scanning.decide(scan, _DoorScan(_token(queued.code), sent_gate, found))

    settled = await scanning.run_batch(
        DOOR,
        scans,
        open_point=lambda: door(actor, activity_id),
        decide_one=decide_one,
        scanned_at=lambda queued: queued.scanned_at,
        client_id=lambda queued: queued.client_id,
        limit=MAX_BATCH,
    )
    return settled.answers


async def admit_registration(
    actor: Actor,
    activity_id: int,
    registration_id: int,
    *,
    client_id: str | None = None,
    gate: str = "",
) -> CheckinOut:
    """Manual look-up at the door: admit by registration, without a code."""
    found = await door(actor, activity_id)
    gate = _gate(found, gate)
    scan = _scan_context(actor, activity_id, client_id)
    if replayed := await scanning.replay(DOOR_POINT, scan):
        return replayed
    registration = await activities.door_registration(registration_id)
    if registration is None or registration.activity_id != activity_id:
        raise NotFound("There is no such registration.")
    verdict = _judge_registration(found, registration, scan.at)
    return await scanning.record(
        DOOR_POINT, scan, _DoorReading(found, None, None, gate), _Verdict(verdict, registration)
    )


async def walk_in(
    actor: Actor,
    activity_id: int,
    phone: str,
    name: str = "",
    *,
    client_id: str | None = None,
    gate: str = "",
) -> CheckinOut:
    """Register someone at the door by phone and admit them. A phone the union does not
    know yet becomes a member of the activity's organisation (a name is then needed)."""
    found = await door(actor, activity_id)
    gate = _gate(found, gate)
    scan = _scan_context(actor, activity_id, client_id)
    if replayed := await scanning.replay(DOOR_POINT, scan):
        return replayed
    if found.activity.status != "published" and found.activity.status != "closed":
        raise DomainError("not_open", "Check-in is not open now.")
    if not found.opens_at <= scan.at <= found.closes_at:
        raise DomainError("not_open", "Check-in is not open now.")
    phone = orgs.normalise_phone(phone)
    try:
        registration_id, before = await _place_walk_in(found, phone, name)
    except DomainError:
        raise
    except Exception:
        # The same new phone walked in at two gates at once and the other gate's member
        # won: it stands now, and a second try takes it.
        if await orgs.member_id_for_phone(phone) is None:
            raise
        registration_id, before = await _place_walk_in(found, phone, name)
    registration = await activities.door_registration(registration_id)
    # A walk-in had no place before coming to the door. The same person walking in at two
    # gates at once finds the other gate's fresh place: confirmed just now, at the door, it
    # is still a walk-in, whichever gate's admission stands.
    placed_here = registration is not None and registration.updated_at >= scan.at - WALK_IN_RACE
    return await scanning.record(
        DOOR_POINT,
        scan,
        _DoorReading(found, None, None, gate),
        _Verdict("admit", registration, walk_in=before != "confirmed" or placed_here),
    )


async def _place_walk_in(found: Door, phone: str, name: str) -> tuple[int, str | None]:
    """(the walk-in's registration, its status before). A new member and their place
    are one transaction: a full door creates nobody."""
    activity_id = found.activity.id
    async with write_transaction():
        member_id = await orgs.member_id_for_phone(phone)
        if member_id is None:
            if not plain_text(name, field="name").strip():
                raise DomainError(
                    "validation_error",
                    "No member has this phone number yet. Add their name to register them.",
                    field="name",
                )
            owner = await orgs.node_for_path(found.activity.owner_path)
            member_id = await orgs.register_self(phone, name, owner.code, "other")
        before = await activities.door_member_status(activity_id, member_id)
        registration_id = await activities.admit_walk_in(
            activity_id, member_id, over_capacity=found.walk_ins_over_capacity
        )
    return registration_id, before


async def undo(actor: Actor, scan_id: int, reason: str) -> CheckinOut:
    """Take back a mistaken admission; the ticket can be scanned again. Kept in the audit
    log with who, when and why."""
    row = await Scan.select().where(Scan.id == scan_id).first().run()
    if row is None:
        raise NotFound("There is no such scan.")
    await door(actor, row["activity_id"])
    reason = plain_text(reason, field="reason", limit=300)
    async with write_transaction():
        undone = (
            await Scan.update({Scan.undone_at: clock.now()})
            .where((Scan.id == scan_id) & standing_admission())
            .returning(Scan.id)
            .run()
        )
        if not undone:
            raise DomainError("invalid_status", "Only an admission that stands can be undone.")
        await scanning.audit_undo(
            DOOR,
            row["activity_id"],
            scan_id,
            action="undo_admission",
            actor_id=actor.member_id,
            actor_name=actor.name,
            reason=reason,
        )
    return await _answer(scan_id)


# --- what the door shows and holds -------------------------------------------------------


async def door_state(actor: Actor, activity_id: int) -> DoorOut:
    """The door as a scanner sees it (403 for those who may not scan there)."""
    return await _door_out(await door(actor, activity_id))


async def door_settings(actor: Actor, activity_id: int) -> DoorOut:
    """The door as its organisers set it up (another node's organiser gets not_found)."""
    return await _door_out(await _organised_door(actor, activity_id))


async def _door_out(found: Door) -> DoorOut:
    activity_id = found.activity.id
    counts = await _counts(activity_id)
    return DoorOut(
        activity_id=activity_id,
        title=found.activity.title,
        starts_at=found.activity.starts_at,
        ends_at=found.activity.ends_at,
        opens_at=found.opens_at,
        closes_at=found.closes_at,
        gates=list(found.gates),
        confirmed=found.activity.confirmed,
        admitted=counts["admitted"],
        walk_ins=counts["walk_ins"],
        capacity=found.activity.capacity,
        walk_ins_over_capacity=found.walk_ins_over_capacity,
    )


async def _counts(activity_id: int) -> dict[str, int]:
    """Admissions across every gate: one number, however many gates there are."""
    rows = await Scan.raw(
        "SELECT COUNT(*) AS admitted, "
        "COALESCE(SUM(CASE WHEN walk_in THEN 1 ELSE 0 END), 0) AS walk_ins "
        "FROM checkin_scan WHERE activity_id = {} AND " + standing_admission_sql(),
        activity_id,
    ).run()
    return {"admitted": int(rows[0]["admitted"]), "walk_ins": int(rows[0]["walk_ins"])}


def _cursor(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise DomainError(
            "validation_error", "since must be a cursor from an earlier answer.", field="since"
        ) from None
    if moment.tzinfo is None:
        raise DomainError(
            "validation_error", "since must be a cursor from an earlier answer.", field="since"
        )
    return moment


async def roster(actor: Actor, activity_id: int, since: str | None = None) -> RosterOut:
    """What a door needs offline: every ticket of the activity, or those changed since the
    cursor of an earlier answer (status, reissue or admission)."""
    await door(actor, activity_id)
    changed_since = _cursor(since)
    cursor = clock.now()
    if changed_since is None:
        registrations = await activities.door_registrations(activity_id)
    else:
        after = changed_since - ROSTER_OVERLAP
        touched = {
            row["registration_id"]
            for row in await Scan.select(Scan.registration_id)
            .where(
                (Scan.activity_id == activity_id)
                & Scan.registration_id.is_not_null()
                & ((Scan.recorded_at >= after) | (Scan.undone_at >= after))
            )
            .run()
        }
        touched |= set(await tickets.changed_since(activity_id, after))
        registrations = await activities.door_registrations(
            activity_id, ids=sorted(touched), changed_since=after
        )
    ids = [registration.id for registration in registrations]
    reissue = await tickets.reissues(ids)
    admissions = {
        row["registration_id"]: row
        for row in await Scan.select(
            Scan.registration_id, Scan.scanned_at, Scan.client_id, Scan.gate, Scan.scanner_name
        )
        .where(Scan.registration_id.is_in(ids or [0]) & standing_admission())
        .run()
    }
    out = []
    for registration in registrations:
        admission = admissions.get(registration.id)
        out.append(
            RosterTicket(
                ticket_id=registration.id,
                name=registration.name,
                phone_masked=registration.phone_masked,
                status=registration.status,
                reissue=reissue[registration.id],
                admitted_at=admission["scanned_at"] if admission else None,
                admitted_client_id=admission["client_id"] if admission else None,
                admitted_gate=admission["gate"] if admission else None,
                admitted_by=admission["scanner_name"] if admission else None,
            )
        )
    return RosterOut(cursor=cursor.isoformat(), full=changed_since is None, tickets=out)


async def search(actor: Actor, activity_id: int, query: str) -> list[RosterTicket]:
    """Manual look-up at the door by name or the last four digits of the phone."""
    await door(actor, activity_id)
    found = await activities.door_search(activity_id, query)
    admissions = {
        row["registration_id"]: row
        for row in await Scan.select(Scan.registration_id, Scan.scanned_at, Scan.gate)
        .where(Scan.registration_id.is_in([r.id for r in found] or [0]) & standing_admission())
        .run()
    }
    return [
        RosterTicket(
            ticket_id=r.id,
            name=r.name,
            phone_masked=r.phone_masked,
            status=r.status,
            reissue=0,
            admitted_at=admissions[r.id]["scanned_at"] if r.id in admissions else None,
            admitted_gate=admissions[r.id]["gate"] if r.id in admissions else None,
        )
        for r in found
    ]


# --- organisers' door setup ---------------------------------------------------------------


async def update_settings(actor: Actor, activity_id: int, data: DoorSettingsIn) -> DoorOut:
    found = await _organised_door(actor, activity_id)
    for moment in (data.opens_at, data.closes_at):
        if moment is not None and moment.tzinfo is None:
            raise DomainError("validation_error", "Give times with their time zone.")
    opens = data.opens_at or found.activity.starts_at - OPENS_BEFORE_START
    closes = data.closes_at or found.activity.ends_at
    if closes <= opens:
        raise DomainError(
            "validation_error", "Check-in must close after it opens.", field="closes_at"
        )
    gates = list(dict.fromkeys(plain_text(g, field="gates", limit=GATE_MAX) for g in data.gates))
    gates = [gate for gate in gates if gate]
    if len(gates) > MAX_GATES:
        raise DomainError(
            "validation_error",
            "An activity can have at most %(limit)s gates.",
            field="gates",
            limit=MAX_GATES,
        )
    values = {
        "opens_at": data.opens_at,
        "closes_at": data.closes_at,
        "walk_ins_over_capacity": data.walk_ins_over_capacity,
        "gates": "\n".join(gates),
    }
    async with write_transaction():
        exists = (
            await CheckinSettings.exists().where(CheckinSettings.activity_id == activity_id).run()
        )
        if exists:
            await (
                CheckinSettings.update(values)
                .where(CheckinSettings.activity_id == activity_id)
                .run()
            )
        else:
            await CheckinSettings.insert(CheckinSettings(activity_id=activity_id, **values)).run()
    return await door_settings(actor, activity_id)


async def door_staff(actor: Actor, activity_id: int) -> list[dict[str, Any]]:
    """The staff assigned to an activity's door: member id, name, masked phone."""
    await _organised_door(actor, activity_id)
    return await orgs.assignees(DOOR_STAFF.code, activity_id)


async def assign_staff(actor: Actor, activity_id: int, phone: str) -> list[dict[str, Any]]:
    """Give a staff member the door of this activity (they need the staff role)."""
    await _organised_door(actor, activity_id)
    await orgs.assign(actor, DOOR_STAFF.code, activity_id, phone)
    return await door_staff(actor, activity_id)


async def remove_staff(actor: Actor, activity_id: int, member_id: int) -> list[dict[str, Any]]:
    await _organised_door(actor, activity_id)
    await orgs.unassign(actor, DOOR_STAFF.code, activity_id, member_id)
    return await door_staff(actor, activity_id)


async def recent_admissions(actor: Actor, activity_id: int, limit: int = 10) -> list[CheckinOut]:
    """The latest admissions at this door, newest first, for undo."""
    await door(actor, activity_id)
    rows = (
        await Scan.select()
        .where((Scan.activity_id == activity_id) & standing_admission())
        .order_by(Scan.id, ascending=False)
        .limit(limit)
        .run()
    )
    return [await _answer_row(row) for row in rows]


async def admitted_members(activity_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(activity id, member id) of every admission not undone at these activities: who
    attended, for rooms that act on attendance (reading notes, reports)."""
    if not activity_ids:
        return []
    # Only "{}" placeholders are joined into the statement; the ids go as parameters.
    marks = ", ".join("{}" for _ in activity_ids)
    rows = await run_sql(
        "SELECT s.activity_id, r.member FROM checkin_scan s "  # noqa: S608
        "JOIN activity_registration r ON r.id = s.registration_id "
        f"WHERE {standing_admission_sql('s')} AND s.activity_id IN ({marks})",
        *activity_ids,
    )
    return [(row["activity_id"], row["member"]) for row in rows]
