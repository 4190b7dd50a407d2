"""The heat-relief API contract (msgspec Structs in and out)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

SITE_KINDS: tuple[str, ...] = (
    "construction",
    "sanitation",
    "landscaping",
    "logistics_station",
    "rest_station",
    "other",
)
# English msgids; translated where shown.
SITE_KIND_LABELS: dict[str, str] = {
    "construction": "Construction project",
    "sanitation": "Sanitation depot",
    "landscaping": "Landscaping crew",
    "logistics_station": "Delivery-rider station",
    "rest_station": "Outdoor-worker rest station",
    "other": "Other site",
}
MOVEMENT_REASONS: tuple[str, ...] = (
    "received",
    "issued",
    "delivered",
    "returned",
    "lost",
    "counted",
)
REASON_LABELS: dict[str, str] = {
    "received": "Received",
    "issued": "Issued to a team",
    "delivered": "Delivered",
    "returned": "Returned",
    "lost": "Lost or damaged",
    "counted": "Counted",
}
# Movements an organiser records by hand (deliveries are recorded by the team).
MANUAL_REASONS: tuple[str, ...] = ("received", "issued", "returned", "lost", "counted")
DELIVERY_STATUSES: tuple[str, ...] = ("planned", "out", "delivered", "failed")
STATUS_LABELS: dict[str, str] = {
    "planned": "Planned",
    "out": "Out",
    "delivered": "Delivered",
    "failed": "Failed",
}
# The answers a recorded delivery gets, one per scan.
RESULT_LABELS: dict[str, str] = {
    "delivered": "Delivery recorded.",
    "already_delivered": (
        "This delivery was already recorded from another phone; the organiser will check it."
    ),
    "delivery_failed": "This delivery was marked as failed.",
    "stock_insufficient": "Not enough %(item)s: only %(balance)s %(unit)s left.",
    "wrong_site": "This poster belongs to another site.",
    "wrong_activity": "This poster belongs to another campaign.",
    "invalid_code": "This is not a site poster code.",
    "wrong_code_type": "This is a ticket or another code, not a site poster.",
    "not_found": "There is no such delivery.",
    "forbidden": "You are not in this delivery's team.",
    "invalid": "Something in this record was not right.",
}

# The results a phone can give a poster's code by itself (web/static/site-poster.js).
POSTER_REFUSALS = ("wrong_site", "wrong_activity", "invalid_code", "wrong_code_type")

MAX_QUANTITY = 1_000_000
MAX_BATCH = 500

Quantity = Annotated[int, msgspec.Meta(ge=0, le=MAX_QUANTITY)]
PositiveQuantity = Annotated[int, msgspec.Meta(ge=1, le=MAX_QUANTITY)]
Short = Annotated[str, msgspec.Meta(max_length=200)]


class SiteIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=100)]
    kind: Annotated[str, msgspec.Meta(max_length=24)]
    node: Annotated[str, msgspec.Meta(max_length=60)]  # org node code
    address: Short = ""
    district: Annotated[str, msgspec.Meta(max_length=60)] = ""
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    contact_name: Annotated[str, msgspec.Meta(max_length=50)] = ""
    contact_phone: Annotated[str, msgspec.Meta(max_length=20)] = ""
    head_count: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 0
    notes: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class SiteOut(msgspec.Struct):
    """A site as lists show it: the contact's phone is masked."""

    id: int
    activity_id: int
    code: str
    name: str
    kind: str
    node_code: str
    node_name: str
    district: str
    address: str
    latitude: float | None
    longitude: float | None
    contact_name: str
    contact_phone_masked: str
    head_count: int
    notes: str


class ItemIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]


class HolderBalance(msgspec.Struct):
    team_id: int  # 0: the warehouse
    team_name: str
    balance: int


class ItemOut(msgspec.Struct):
    id: int
    name: str
    unit: str
    owner_code: str
    warehouse: int
    balances: list[HolderBalance]


class MovementIn(msgspec.Struct, forbid_unknown_fields=True):
    """A movement recorded by an organiser. `team_id` names the team issued to, returned
    from, lost by or counted (absent: the warehouse). A count gives `quantity` = the number
    found."""

    reason: Annotated[str, msgspec.Meta(max_length=16)]
    quantity: Quantity
    team_id: int | None = None
    note: Short = ""


class LedgerRow(msgspec.Struct):
    id: int
    item_id: int
    reason: str
    quantity: int
    from_team: int | None
    to_team: int | None
    delivery_id: int | None
    counted: int | None
    expected: int | None
    note: str
    actor_name: str
    created_at: datetime


class MovementOut(msgspec.Struct):
    entry: LedgerRow
    balances: list[HolderBalance]
    matches: bool | None = None  # for a count: the number found was the balance


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    member_phones: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=20)]], msgspec.Meta(max_length=50)
    ] = []


class TeamMemberOut(msgspec.Struct):
    id: int
    name: str
    phone_masked: str


class TeamOut(msgspec.Struct):
    id: int
    activity_id: int
    name: str
    members: list[TeamMemberOut]


class PlannedLine(msgspec.Struct, forbid_unknown_fields=True):
    item_id: int
    quantity: Quantity


class DeliveryIn(msgspec.Struct, forbid_unknown_fields=True):
    site_id: int
    team_id: int
    planned_date: date
    items: Annotated[list[PlannedLine], msgspec.Meta(max_length=50)] = []


class DeliveryLineOut(msgspec.Struct):
    item_id: int
    item_name: str
    unit: str
    planned: int
    handed: int


class DeliveryOut(msgspec.Struct):
    id: int
    activity_id: int
    site: SiteOut  # its code is empty for a team: the poster at the site is the proof
    site_code_hash: str  # SHA-256 of the site's short code, to check a typed code offline
    team_id: int
    team_name: str
    planned_date: date
    status: str
    failure_reason: str
    delivered_at: datetime | None
    by_hand: bool
    lines: list[DeliveryLineOut]
    reached: dict[str, int]
    flagged: int  # further confirmations from other phones, for the organiser to check


class FailIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class DeliveryScanIn(msgspec.Struct, forbid_unknown_fields=True):
    delivery_id: int
    client_id: Annotated[str, msgspec.Meta(min_length=8, max_length=64)]
    recorded_at: datetime
    quantities: Annotated[dict[str, Quantity], msgspec.Meta(max_length=50)] = {}
    reached: Annotated[dict[str, Quantity], msgspec.Meta(max_length=20)] = {}
    site_code: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    by_hand_reason: Short = ""


class DeliveryBatchIn(msgspec.Struct, forbid_unknown_fields=True):
    scans: Annotated[list[DeliveryScanIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class ScanResult(msgspec.Struct):
    client_id: str
    delivery_id: int
    result: str
    message: str
    flagged: bool = False
    item_id: int | None = None  # for stock_insufficient: the item short
    balance: int | None = None  # … and what the team still carries


class DeliveryBatchOut(msgspec.Struct):
    results: list[ScanResult]


class PhoneIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: Annotated[str, msgspec.Meta(max_length=20)]


# --- a worker's "received" at a site ------------------------------------------------------

ACK_LABELS: dict[str, str] = {
    "received": "Thank you: your receipt at %(site)s is counted.",
    "already_received": "Already counted today at %(site)s. Thank you.",
    "invalid_code": "This is not a site poster code.",
    "wrong_code_type": "This is a ticket or another code, not a site poster.",
    "not_open": "This campaign is not running.",
}


class AcknowledgementIn(msgspec.Struct, forbid_unknown_fields=True):
    """The poster's code: the QR's signed code, or the short code printed under it."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AcknowledgementOut(msgspec.Struct):
    result: str  # received, already_received, invalid_code, wrong_code_type, not_open
    message: str
    site_name: str | None = None
    day: date | None = None
