"""The job-fair API contract: employers, booths, postings, booth scans and the report."""

from __future__ import annotations

from datetime import datetime

import msgspec

# The hiring funnel, in order; "declined" ends it from any stage.
STAGES: tuple[str, ...] = ("consulted", "resume", "interview", "intent", "signed", "declined")
POSITIVE_STAGES: tuple[str, ...] = STAGES[:5]
STAGE_LABELS: dict[str, str] = {  # English msgids
    "consulted": "Consulted",
    "resume": "Resume received",
    "interview": "Interview",
    "intent": "Preliminary intent",
    "signed": "Signed",
    "declined": "Declined",
}
POSTING_STATUSES: tuple[str, ...] = ("open", "filled", "withdrawn")
POSTING_STATUS_LABELS: dict[str, str] = {
    "open": "Open",
    "filled": "Filled",
    "withdrawn": "Withdrawn",
}
SCAN_RESULT_LABELS: dict[str, str] = {
    "recorded": "Recorded",
    "already": "Already at this stage",
    "superseded": "Kept the further stage",
    "stage_backwards": "Stages only move forward",
    "invalid_ticket": "Not a valid ticket",
    "wrong_activity": "Ticket of another activity",
    "forbidden": "Not your booth",
    "validation_error": "Check the scan",
}
MAX_BATCH = 500


class EmployerIn(msgspec.Struct):
    name: str
    industry: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    enterprise_node: str | None = None  # org node code, when the employer is a member
    approved: bool = True  # an organiser entering an employer approves it


class EmployerOut(msgspec.Struct):
    id: int
    activity_id: int
    name: str
    industry: str
    contact_name: str
    contact_phone_masked: str
    enterprise_node_id: int | None
    approved: bool
    via_invite: bool = False  # entered by the employer from the fair's invite link


class BoothIn(msgspec.Struct):
    number: str
    employer_id: int


class BoothOut(msgspec.Struct):
    id: int
    activity_id: int
    number: str
    employer_id: int
    employer_name: str
    materials: int


class DeviceLinkOut(msgspec.Struct):
    """A booth's device link: opening `path` on a phone signs it in for this booth only,
    with no member account, until the fair ends or the link is revoked (a revocation
    bumps `version`, and every link of an older version stops working)."""

    booth_id: int
    booth_number: str
    version: int
    code: str
    path: str
    valid_until: datetime


class EmployerInviteOut(msgspec.Struct):
    """A fair's employer invite link, for its organisers. While `active`, anyone opening
    `path` may enter their company (unapproved, for the organiser to review) until the
    fair ends; withdrawing the link bumps `version`, and every link handed out before
    stops working. Not active: no link (`code` and `path` are null)."""

    activity_id: int
    active: bool
    version: int
    code: str | None
    path: str | None
    valid_until: datetime


class InvitedFairOut(msgspec.Struct):
    """What an invite link's page shows before an employer enters its company."""

    fair_title: str
    starts_at: datetime
    ends_at: datetime
    venue_name: str


class EmployerJoinIn(msgspec.Struct):
    """A company entering itself through a fair's invite link (the contact's phone is a
    mainland mobile number; the industry may be left empty)."""

    name: str
    contact_name: str
    contact_phone: str
    industry: str = ""


class EmployerJoinedOut(msgspec.Struct):
    """The answer to a company that entered itself: it waits for the organiser's
    approval before it gets a booth."""

    name: str
    fair_title: str
    approved: bool


class PostingIn(msgspec.Struct):
    employer_id: int
    title: str
    headcount: int
    pay_min: int
    pay_max: int
    location: str = ""
    district: str = ""
    requirements: str = ""
    worker_groups: list[str] = msgspec.field(default_factory=list)
    status: str = "open"


class PostingOut(msgspec.Struct):
    id: int
    activity_id: int
    employer_id: int
    employer_name: str
    booth_number: str | None
    title: str
    headcount: int
    pay_min: int
    pay_max: int
    location: str
    district: str
    requirements: str
    worker_groups: list[str]
    status: str
    bookmarked: bool = False


class PostingPage(msgspec.Struct):
    items: list[PostingOut]
    total: int
    page: int
    pages: int


class BoothScanIn(msgspec.Struct):
    booth_id: int
    code: str
    stage: str
    client_id: str
    posting_id: int | None = None
    rating: int | None = None
    note: str = ""
    scanned_at: datetime | None = None


class BoothScanItem(msgspec.Struct):
    code: str
    stage: str
    client_id: str
    posting_id: int | None = None
    rating: int | None = None
    note: str = ""
    scanned_at: datetime | None = None


class BoothScanBatchIn(msgspec.Struct):
    booth_id: int
    scans: list[BoothScanItem]


class BoothScanOut(msgspec.Struct):
    """One scan's answer. `result`: recorded | already | superseded (an earlier offline
    scan of a lower stage: the further stage stays); in a batch also the error codes
    stage_backwards, invalid_ticket, wrong_activity, forbidden, validation_error."""

    result: str
    client_id: str | None = None
    scan_id: int | None = None
    lead_id: int | None = None
    stage: str | None = None  # the lead's stage after this scan
    since: datetime | None = None  # when the lead reached that stage
    name: str | None = None
    phone_masked: str | None = None
    group: str | None = None
    checked_in: bool | None = None  # admitted at the entrance
    message: str | None = None


class BoothScanBatchOut(msgspec.Struct):
    results: list[BoothScanOut]


class UndoOut(msgspec.Struct):
    scan_id: int
    lead_id: int
    stage: str | None  # None: the undo removed the worker from the booth's list


class LeadOut(msgspec.Struct):
    """A worker as the booth's staff see them: the full phone only from preliminary
    intent on, and only when the worker agreed to share it."""

    id: int
    name: str
    phone_masked: str
    phone: str | None
    group: str
    stage: str
    since: datetime
    posting_id: int | None
    posting_title: str | None
    rating: int | None
    note: str
    checked_in: bool
    last_scan_id: int | None = None


class Visit(msgspec.Struct):
    """A booth a worker visited, as the worker's ticket page shows it."""

    booth_number: str
    employer_name: str
    stage: str
    posting_title: str | None
    contact_name: str | None  # the employer's contact, from preliminary intent on
    contact_phone: str | None


class FunnelRow(msgspec.Struct):
    """Workers who reached each stage (a worker counts at every stage up to the furthest
    one reached), those declined, and those at or beyond preliminary intent."""

    id: int | None
    name: str
    consulted: int = 0
    resume: int = 0
    interview: int = 0
    intent: int = 0
    signed: int = 0
    declined: int = 0


class BoothMaterials(msgspec.Struct):
    booth_id: int
    number: str
    employer_name: str
    materials: int


class PostingRef(msgspec.Struct):
    id: int
    title: str
    employer_name: str


class JobfairReport(msgspec.Struct):
    activity_id: int
    confirmed: int  # confirmed registrations
    checked_in: int  # admitted at the entrance
    visitors: int  # distinct workers scanned at any booth
    intent_or_above: int  # distinct workers who reached preliminary intent anywhere
    not_checked_in: int  # distinct workers scanned at a booth but never at the entrance
    overall: FunnelRow
    employers: list[FunnelRow]
    postings: list[FunnelRow]
    unasked_postings: list[PostingRef]
    materials: list[BoothMaterials]
