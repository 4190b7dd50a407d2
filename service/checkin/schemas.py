from __future__ import annotations

from datetime import datetime

import msgspec

# Stable verdict codes: the same on the API, the scanner page and in the scan log.
RESULTS: tuple[str, ...] = (
    "admitted",
    "already_checked_in",
    "wrong_activity",
    "cancelled",
    "revoked",
    "invalid",
    "not_open",
    "waitlisted",
)
# English msgids, translated where shown.
RESULT_LABELS: dict[str, str] = {
    "admitted": "Welcome in",
    "already_checked_in": "Already checked in",
    "wrong_activity": "Ticket for another activity",
    "cancelled": "Registration cancelled",
    "revoked": "Old ticket: a newer one was issued",
    "invalid": "Not a valid ticket",
    "not_open": "Check-in is not open now",
    "waitlisted": "On the waitlist, not confirmed",
}
# green, amber or red on the scanner
RESULT_COLOURS: dict[str, str] = {
    "admitted": "green",
    "already_checked_in": "amber",
    "waitlisted": "amber",
    "not_open": "amber",
}

MAX_BATCH = 500


class CheckinIn(msgspec.Struct):
    activity_id: int
    code: str = msgspec.field(default="")
    client_id: str | None = None
    scanned_at: datetime | None = None
    gate: str = ""


class BatchScan(msgspec.Struct):
    code: str
    client_id: str
    scanned_at: datetime | None = None
    gate: str | None = None  # default: the batch's gate


class BatchIn(msgspec.Struct):
    activity_id: int
    scans: list[BatchScan]
    gate: str = ""


class Attendee(msgspec.Struct):
    name: str
    phone_masked: str


class CheckinOut(msgspec.Struct):
    result: str
    registration_id: int | None = None
    attendee: Attendee | None = None
    first_checked_in_at: datetime | None = None
    first_scanner: str | None = None
    first_gate: str | None = None
    scan_id: int | None = None
    client_id: str | None = None
    walk_in: bool = False
    # What a refused scan needs to say next: when the door opens (not_open), and whose
    # activity the ticket is for (wrong_activity).
    opens_at: datetime | None = None
    ticket_activity: str | None = None


class BatchOut(msgspec.Struct):
    results: list[CheckinOut]


class RosterTicket(msgspec.Struct):
    """What a door holds offline: no full phone, no other personal data."""

    ticket_id: int
    name: str
    phone_masked: str
    status: str  # confirmed | waitlisted | cancelled
    reissue: int
    admitted_at: datetime | None = None
    admitted_client_id: str | None = None
    admitted_gate: str | None = None
    admitted_by: str | None = None


class RosterOut(msgspec.Struct):
    cursor: str  # pass back as ?since= for the changes after this answer
    full: bool
    tickets: list[RosterTicket]


class DoorOut(msgspec.Struct):
    activity_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    opens_at: datetime
    closes_at: datetime
    gates: list[str]
    confirmed: int
    admitted: int
    walk_ins: int
    capacity: int | None
    walk_ins_over_capacity: bool


class WalkInIn(msgspec.Struct):
    activity_id: int
    phone: str
    name: str = ""
    client_id: str | None = None
    gate: str = ""


class ManualIn(msgspec.Struct):
    activity_id: int
    registration_id: int
    client_id: str | None = None
    gate: str = ""


class UndoIn(msgspec.Struct):
    reason: str = ""


class DoorSettingsIn(msgspec.Struct):
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    walk_ins_over_capacity: bool = False
    gates: list[str] = msgspec.field(default_factory=list)
