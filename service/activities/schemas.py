from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

STATUSES: tuple[str, ...] = ("draft", "published", "closed", "cancelled")
STATUS_LABELS: dict[str, str] = {
    "draft": "Draft",
    "published": "Published",
    "closed": "Closed",
    "cancelled": "Cancelled",
}
REGISTRATION_STATUS_LABELS: dict[str, str] = {
    "confirmed": "Confirmed",
    "waitlisted": "Waitlist",
    "cancelled": "Cancelled",
}


class KindOut(msgspec.Struct):
    """An activity kind as the registry declares it (service/kinds.py)."""

    code: str
    label_zh: str
    label_en: str
    places: bool
    signup: bool
    tickets: bool
    door: bool


class VenueIn(msgspec.Struct):
    name: str = ""
    address: str = ""


class ActivityIn(msgspec.Struct):
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = None
    description: str = ""
    venue: VenueIn | None = None
    online_url: str = ""
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    owner: str | None = None  # node code; default: the organiser's own node
    eligible_nodes: list[str] = msgspec.field(default_factory=list)  # node codes (subtrees)
    eligible_groups: list[str] = msgspec.field(default_factory=list)
    campaign: str = ""
    # The kind's own details (its room validates them); absent keeps what is stored.
    details: dict[str, Any] | None = None


class CancelIn(msgspec.Struct):
    reason: str = ""


class CapacityIn(msgspec.Struct):
    capacity: int


class ActivityOut(msgspec.Struct):
    id: int
    kind: str
    title: str
    description: str
    owner_code: str
    owner_name: str
    venue_name: str
    venue_address: str
    online_url: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    confirmed: int
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    status: str
    cancel_reason: str
    eligible_nodes: list[str]
    eligible_groups: list[str]
    campaign: str
    details: dict[str, Any] | None = None

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.confirmed)


def has_room(capacity: int | None, taken: int) -> bool:
    """The seat rule read in Python: the same as HAS_ROOM in service/activities/services.py,
    which every seat write quotes (tests/service/test_seat_rule.py ties the two)."""
    return capacity is None or taken < capacity


class RegistrationOut(msgspec.Struct):
    id: int
    activity_id: int
    status: str
    waitlist_position: int | None
    ticket_code: str | None
    created_at: datetime


class MyPlace(msgspec.Struct):
    """Where the member stands for one activity: confirmed, or waitlisted at a place."""

    status: str
    waitlist_position: int | None


class MyRegistrationOut(msgspec.Struct):
    registration: RegistrationOut
    activity: ActivityOut


class RosterEntry(msgspec.Struct):
    """A registration as organisers see it: the phone is masked."""

    id: int
    member_id: int
    name: str
    phone_masked: str
    node_name: str
    group: str
    status: str
    waitlist_position: int | None
    created_at: datetime


class CancelledOut(msgspec.Struct):
    id: int
    status: str


class DoorActivity(msgspec.Struct):
    """What the door needs of an activity."""

    id: int
    kind: str
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime
    owner_path: str
    venue_name: str
    capacity: int | None
    confirmed: int


class DoorRegistration(msgspec.Struct):
    """A registration as a door sees it: the phone is masked."""

    id: int
    activity_id: int
    member_id: int
    status: str
    name: str
    phone_masked: str
    updated_at: datetime


class MessageActivity(msgspec.Struct):
    """What a message to a member says about an activity."""

    title: str
    starts_at: datetime
    venue_name: str
    online_url: str
    status: str
