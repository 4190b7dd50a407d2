"""Job fairs: employers, booths and postings entered by the fair's organisers; workers
browsing and bookmarking postings; the hiring funnel recorded by a scan at a booth; the
fair's report. No HTTP here.

The funnel's rules, in one place:
- stages move forward only (consulted → resume → interview → intent → signed, or
  declined from any of them); a later scan moving back is refused (stage_backwards);
- one lead per worker and booth: re-scanning updates it, never adds another;
- a scan's client id makes it idempotent: a resend answers the first result (the booth is
  a scan point type of service/scans, whose client-id log, batch runner and undo audit
  it uses);
- an offline scan of a lower stage (a batch, or a scan made before the lead's current
  stage) is "superseded": the furthest stage stays, so two devices never fight;
- two phones writing one lead at once: the write that read an older version of it is
  decided again, so the furthest stage stays and there is one lead per worker and booth;
- the last stage change may be undone within UNDO_WINDOW, and the undo is logged;
- a worker never admitted at the entrance may still be recorded, flagged as such.
"""

from __future__ import annotations

import io
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

from service import clock, signing
from service.activities import services as activities
from service.activities.schemas import DoorActivity, DoorRegistration
from service.db import (
    TunedSQLiteEngine,
    engine,
    is_postgres,
    is_unique_violation,
    lock_key,
    qmark,
    run_sql,
    write_transaction,
)
from service.errors import DomainError, Forbidden, NotFound
from service.i18n import gettext, localtime
from service.jobfairs.schemas import (
    MAX_BATCH,
    POSITIVE_STAGES,
    POSTING_STATUSES,
    STAGE_LABELS,
    STAGES,
    BoothIn,
    BoothMaterials,
    BoothOut,
    BoothScanItem,
    DeviceLinkOut,
    EmployerIn,
    EmployerOut,
    FunnelRow,
    JobfairReport,
    LeadOut,
    PostingIn,
    PostingOut,
    PostingPage,
    PostingRef,
    UndoOut,
    Visit,
)
from service.jobfairs.tables import (
    Bookmark,
    Booth,
    Consent,
    Employer,
    Lead,
    Posting,
    StageScan,
)
from service.orgs import access
from service.orgs import services as orgs
from service.orgs.schemas import WORKER_GROUPS, Actor
from service.reports.services import ADMITTED
from service.scans import points
from service.scans import services as scanning
from service.scans.points import ScanContext
from service.text import plain_text
from service.tickets import tokens
from service.tickets.tokens import TicketToken

KIND = "job_fair"
UNDO_WINDOW = timedelta(minutes=5)
PAGE_SIZE = 20
MAX_PUBLIC_LIST = 500
MAX_PAY = 1_000_000
MAX_HEADCOUNT = 100_000
RANK: dict[str, int] = {stage: index + 1 for index, stage in enumerate(STAGES)}
INTENT_RANK = RANK["intent"]
# The stages from which booth staff see a consenting worker's full phone.
PHONE_STAGES = ("intent", "signed")


def stage_label(stage: str) -> str:
    return gettext(STAGE_LABELS[stage])


# --- the fair and who may do what ---------------------------------------------------------


async def _fair(activity_id: int) -> DoorActivity:
    activity = await activities.door_activity(activity_id)
    if activity.kind != KIND:
        raise NotFound("There is no such job fair.")
    return activity


def _organises(actor: Actor, activity: DoorActivity) -> bool:
    return actor.has("organiser", "admin") and actor.reaches(activity.owner_path)


async def organised_fair(actor: Actor, activity_id: int) -> DoorActivity:
    """The fair, for its organisers (others: 403; outside their subtree: 404)."""
    if not actor.has("organiser", "admin"):
        raise Forbidden("Only the fair's organisers can do this.")
    activity = await _fair(activity_id)
    if not actor.reaches(activity.owner_path):
        raise NotFound("There is no such job fair.")
    return activity


async def _visible_fair(actor: Actor, activity_id: int) -> None:
    """Workers see a fair's postings when they may see the fair itself."""
    found = await activities.get_activity(actor, activity_id)
    if found.kind != KIND:
        raise NotFound("There is no such job fair.")


# --- employers ----------------------------------------------------------------------------


def _employer_out(row: dict[str, Any]) -> EmployerOut:
    return EmployerOut(
        id=row["id"],
        activity_id=row["activity_id"],
        name=row["name"],
        industry=row["industry"],
        contact_name=row["contact_name"],
        contact_phone_masked=orgs.mask_phone(row["contact_phone"]) if row["contact_phone"] else "",
        enterprise_node_id=row["enterprise_node_id"],
        approved=row["approved"],
        via_invite=bool(row["via_invite"]),
    )


async def employer_values(data: EmployerIn) -> dict[str, Any]:
    """An employer's columns from what was entered (an organiser's form, or the company's
    own through an invite link: service/jobfairs/invites.py), each checked and cleaned."""
    node_id = None
    if data.enterprise_node:
        try:
            node = await orgs.node_by_code(data.enterprise_node)
        except NotFound:
            raise DomainError(
                "validation_error",
                "Choose a member enterprise from the list.",
                field="enterprise_node",
            ) from None
        if node.kind != "enterprise":
            raise DomainError(
                "validation_error",
                "Choose a member enterprise from the list.",
                field="enterprise_node",
            )
        node_id = node.id
    phone = data.contact_phone.strip()
    if phone:
        try:
            phone = orgs.normalise_phone(phone)
        except DomainError as error:
            raise DomainError("validation_error", error.message, field="contact_phone") from None
    return {
        "name": orgs.clean_name(data.name, limit=100),
        "industry": plain_text(data.industry, field="industry", limit=60),
        "contact_name": plain_text(data.contact_name, field="contact_name", limit=50),
        "contact_phone": phone,
        "enterprise_node_id": node_id,
        "approved": data.approved,
    }


async def list_employers(actor: Actor, activity_id: int) -> list[EmployerOut]:
    await organised_fair(actor, activity_id)
    rows = (
        await Employer.select()
        .where(Employer.activity_id == activity_id)
        .order_by(Employer.id)
        .run()
    )
    return [_employer_out(row) for row in rows]


async def create_employer(actor: Actor, activity_id: int, data: EmployerIn) -> EmployerOut:
    await organised_fair(actor, activity_id)
    values = await employer_values(data)
    rows = await Employer.insert(Employer(activity_id=activity_id, **values)).returning(
        *Employer.all_columns()
    )
    return _employer_out(rows[0])


async def _employer_row(employer_id: int) -> dict[str, Any]:
    row = await Employer.select().where(Employer.id == employer_id).first().run()
    if row is None:
        raise NotFound("There is no such employer.")
    return row


async def update_employer(actor: Actor, employer_id: int, data: EmployerIn) -> EmployerOut:
    row = await _employer_row(employer_id)
    await organised_fair(actor, row["activity_id"])
    values = await employer_values(data)
    await Employer.update(values).where(Employer.id == employer_id).run()
    return _employer_out({**row, **values})


async def set_approved(actor: Actor, employer_id: int, approved: bool) -> EmployerOut:
    row = await _employer_row(employer_id)
    await organised_fair(actor, row["activity_id"])
    await Employer.update({Employer.approved: approved}).where(Employer.id == employer_id).run()
    return _employer_out({**row, "approved": approved})


# --- booths -------------------------------------------------------------------------------


async def _booth_rows(activity_id: int) -> list[dict[str, Any]]:
    return list(
        await Booth.raw(
            "SELECT b.id, b.activity_id, b.number, b.employer_id, b.materials, "
            "e.name AS employer_name FROM jobfair_booth b "
            "JOIN jobfair_employer e ON e.id = b.employer_id "
            "WHERE b.activity_id = {} ORDER BY b.number, b.id",
            activity_id,
        ).run()
    )


def _booth_out(row: dict[str, Any]) -> BoothOut:
    return BoothOut(
        id=row["id"],
        activity_id=row["activity_id"],
        number=row["number"],
        employer_id=row["employer_id"],
        employer_name=row["employer_name"],
        materials=row["materials"],
    )


async def list_booths(actor: Actor, activity_id: int) -> list[BoothOut]:
    await organised_fair(actor, activity_id)
    return [_booth_out(row) for row in await _booth_rows(activity_id)]


async def _booth_values(activity_id: int, data: BoothIn) -> dict[str, Any]:
    number = plain_text(data.number, field="number", limit=12)
    if not number:
        raise DomainError("validation_error", "Give the booth a number.", field="number")
    employer = await Employer.select().where(Employer.id == data.employer_id).first().run()
    if employer is None or employer["activity_id"] != activity_id:
        raise DomainError(
            "validation_error", "Choose an employer of this fair.", field="employer_id"
        )
    if not employer["approved"]:
        raise DomainError(
            "validation_error",
            "Approve the employer before giving it a booth.",
            field="employer_id",
        )
    return {"number": number, "employer_id": data.employer_id}


def _booth_taken(error: BaseException) -> DomainError:
    detail = str(error)
    if "employer" in detail:
        return DomainError(
            "conflict", "This employer already has a booth at this fair.", field="employer_id"
        )
    return DomainError("conflict", "Another booth has this number.", field="number")


async def create_booth(actor: Actor, activity_id: int, data: BoothIn) -> BoothOut:
    await organised_fair(actor, activity_id)
    values = await _booth_values(activity_id, data)
    try:
        rows = await Booth.insert(Booth(activity_id=activity_id, **values)).returning(Booth.id)
    except Exception as error:
        if is_unique_violation(error):
            raise _booth_taken(error) from None
        raise
    return await _booth_out_by_id(rows[0]["id"])


async def _booth(booth_id: int) -> dict[str, Any]:
    row = await Booth.select().where(Booth.id == booth_id).first().run()
    if row is None:
        raise NotFound("There is no such booth.")
    return row


async def _booth_out_by_id(booth_id: int) -> BoothOut:
    row = await _booth(booth_id)
    employer = await _employer_row(row["employer_id"])
    return _booth_out({**row, "employer_name": employer["name"]})


async def update_booth(actor: Actor, booth_id: int, data: BoothIn) -> BoothOut:
    row = await _booth(booth_id)
    await organised_fair(actor, row["activity_id"])
    values = await _booth_values(row["activity_id"], data)
    try:
        await Booth.update(values).where(Booth.id == booth_id).run()
    except Exception as error:
        if is_unique_violation(error):
            raise _booth_taken(error) from None
        raise
    return await _booth_out_by_id(booth_id)


# Booth staff: members assigned to one booth (service/orgs/access.py's scoped assignments;
# often an employer's HR people, so any global role may hold it). Organisers of the fair's
# subtree need no assignment.
BOOTH_STAFF = access.AssignedRole(
    code="booth_staff",
    scope_kind="booth",
    grants=frozenset({"record_booth"}),
    holders=frozenset({"worker", "staff", "organiser", "admin"}),
    managed_by="manage_booth",
)


async def booth_owner_path(booth_id: int) -> str | None:
    """The path of the node owning the booth's fair (the scope kind "booth")."""
    row = await Booth.select(Booth.activity_id).where(Booth.id == booth_id).first().run()
    if row is None:
        return None
    try:
        return (await activities.door_activity(row["activity_id"])).owner_path
    except NotFound:
        return None


access.register_scope_kind("booth", booth_owner_path)
access.register_assigned_role(BOOTH_STAFF)


async def _is_booth_staff(actor: Scanner, booth_id: int) -> bool:
    if isinstance(actor, BoothDevice):
        return actor.booth_id == booth_id
    owner_path = await booth_owner_path(booth_id)
    if owner_path is None:
        return False
    return await access.may(actor, "record_booth", access.Scope("booth", booth_id, owner_path))


async def booth_for(actor: Scanner, booth_id: int) -> BoothOut:
    """A booth, for its staff (a signed-in device of this booth included) and the fair's
    organisers (anyone else: 403)."""
    await _scannable_booth(actor, booth_id)
    return await _booth_out_by_id(booth_id)


async def my_booths(actor: Actor) -> list[BoothOut]:
    """The booths this member is assigned to."""
    if actor.member_id is None:
        return []
    ids = await orgs.assigned_scope_ids(actor.member_id, BOOTH_STAFF.code)
    return [await _booth_out_by_id(booth_id) for booth_id in ids]


async def booth_staff(actor: Actor, booth_id: int) -> list[dict[str, Any]]:
    row = await _booth(booth_id)
    await organised_fair(actor, row["activity_id"])
    return await orgs.assignees(BOOTH_STAFF.code, booth_id)


async def assign_booth_staff(actor: Actor, booth_id: int, phone: str) -> None:
    """Assign a member (by phone) to a booth's staff (orgs' scoped assignments)."""
    row = await _booth(booth_id)
    await organised_fair(actor, row["activity_id"])
    await orgs.assign(actor, BOOTH_STAFF.code, booth_id, phone)


async def remove_booth_staff(actor: Actor, booth_id: int, member_id: int) -> None:
    row = await _booth(booth_id)
    await organised_fair(actor, row["activity_id"])
    await orgs.unassign(actor, BOOTH_STAFF.code, booth_id, member_id)


async def count_materials(actor: Actor, booth_id: int, delta: int) -> BoothOut:
    """Add to (or correct down) a booth's count of materials handed out; never below 0."""
    if isinstance(actor, BoothDevice):
        raise Forbidden("A booth device only records stages.")
    await booth_for(actor, booth_id)
    if not -1000 <= delta <= 1000 or delta == 0:
        raise DomainError("validation_error", "Add between 1 and 1000.", field="delta")
    # One conditional write: two phones counting at once both count.
    await Booth.raw(
        "UPDATE jobfair_booth SET materials = materials + {} WHERE id = {} AND materials + {} >= 0",
        delta,
        booth_id,
        delta,
    ).run()
    return await _booth_out_by_id(booth_id)


# --- booth devices: a phone signed in for one booth by a link, with no member account ------

BOOTH_DEVICE = signing.register_code_type(
    "booth_device", tag=2, fields=("booth_id", "activity_id", "version")
)
DEVICE_PATH = "/booth-device/"


@dataclass(frozen=True)
class BoothDevice:
    """Who scans when a phone was signed in by a booth's device link: an employer's HR
    person, not a member. It records stages at its booth (and sees that booth's list, to
    undo a slip) and nothing else: it is never an Actor, so no other rule can mistake it
    for one, and every booth rule above checks it by its booth id."""

    booth_id: int
    activity_id: int
    booth_number: str
    employer_name: str
    valid_until: datetime
    member_id: None = None

    @property
    def name(self) -> str:
        # Kept in the stage log's actor_name (50 characters).
        return f"booth {self.booth_number} device"[:50]


# Whoever may work a booth: a member (staff or organiser) or a booth's signed-in device.
Scanner = Actor | BoothDevice


async def _device_link(booth_id: int) -> DeviceLinkOut:
    row = await _booth(booth_id)
    activity = await _fair(row["activity_id"])
    code = signing.sign(
        BOOTH_DEVICE.name,
        booth_id=booth_id,
        activity_id=row["activity_id"],
        version=row["device_version"],
    )
    return DeviceLinkOut(
        booth_id=booth_id,
        booth_number=row["number"],
        version=row["device_version"],
        code=code,
        path=DEVICE_PATH + code,
        valid_until=activity.ends_at,
    )


async def device_link(actor: Actor, booth_id: int) -> DeviceLinkOut:
    """The booth's current device link, for the fair's organisers (the same link until it
    is revoked; a code is signed afresh from the booth's version each time)."""
    row = await _booth(booth_id)
    await organised_fair(actor, row["activity_id"])
    return await _device_link(booth_id)


async def revoke_device_links(actor: Actor, booth_id: int) -> DeviceLinkOut:
    """Every phone signed in by the booth's links so far is signed out at its next request,
    and the old links stop working; the answer is the booth's new link."""
    row = await _booth(booth_id)
    await organised_fair(actor, row["activity_id"])
    # One atomic write: two organisers revoking at once both revoke.
    await run_sql(
        "UPDATE jobfair_booth SET device_version = device_version + 1 WHERE id = {}", booth_id
    )
    return await _device_link(booth_id)


def link_qr_svg(url: str) -> str:
    """A device link's QR (an address, so byte mode; drawn only on the organiser's page)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image(image_factory=qrcode.image.svg.SvgPathImage).save(out)
    return out.getvalue().decode("utf-8")


async def booth_device(code: str | None) -> BoothDevice:
    """The device a device link (or the cookie holding it) signs in, checked afresh on
    every request: a genuine booth_device code of the booth's current version, for a fair
    that has not ended. Anything else is refused with the reason in the user's language."""
    if not code:
        raise Forbidden("This phone is not signed in for a booth: open the booth's device link.")
    try:
        found = signing.verify(code, BOOTH_DEVICE.name)
    except signing.BadCode:
        raise Forbidden("This is not a booth device link.") from None
    booth = await Booth.select().where(Booth.id == found.fields["booth_id"]).first().run()
    if booth is None or booth["activity_id"] != found.fields["activity_id"]:
        raise Forbidden("This booth no longer exists.")
    if booth["device_version"] != found.fields["version"]:
        raise Forbidden(
            "This device link was revoked by the organiser. Ask them for the booth's new link."
        )
    try:
        activity = await _fair(booth["activity_id"])
    except NotFound:
        raise Forbidden("This booth no longer exists.") from None
    if activity.status == "cancelled" or clock.now() >= activity.ends_at:
        raise Forbidden("The fair is over: this device link no longer works.")
    employer = await _employer_row(booth["employer_id"])
    return BoothDevice(
        booth_id=booth["id"],
        activity_id=booth["activity_id"],
        booth_number=booth["number"],
        employer_name=employer["name"],
        valid_until=activity.ends_at,
    )


# --- postings -----------------------------------------------------------------------------


def _groups(raw: Sequence[str]) -> list[str]:
    groups = []
    for group in raw:
        if group not in WORKER_GROUPS:
            raise DomainError(
                "validation_error", "Choose a worker group from the list.", field="worker_groups"
            )
        if group not in groups:
            groups.append(group)
    return groups


async def _posting_values(activity_id: int, data: PostingIn) -> dict[str, Any]:
    title = plain_text(data.title, field="title", limit=100)
    if not title:
        raise DomainError("validation_error", "Give the job a title.", field="title")
    if not 0 < data.headcount <= MAX_HEADCOUNT:
        raise DomainError("validation_error", "Headcount must be at least 1.", field="headcount")
    if not 0 <= data.pay_min <= MAX_PAY or not 0 <= data.pay_max <= MAX_PAY:
        raise DomainError("validation_error", "Give the pay in yuan per month.", field="pay_min")
    if data.pay_min > data.pay_max:
        raise DomainError(
            "validation_error",
            "The lowest pay cannot be above the highest.",
            field="pay_min",
        )
    if data.status not in POSTING_STATUSES:
        raise DomainError("validation_error", "Choose a status from the list.", field="status")
    employer = await Employer.select().where(Employer.id == data.employer_id).first().run()
    if employer is None or employer["activity_id"] != activity_id:
        raise DomainError(
            "validation_error", "Choose an employer of this fair.", field="employer_id"
        )
    return {
        "employer_id": data.employer_id,
        "title": title,
        "headcount": data.headcount,
        "pay_min": data.pay_min,
        "pay_max": data.pay_max,
        "location": plain_text(data.location, field="location", limit=200),
        "district": plain_text(data.district, field="district", limit=40),
        "requirements": plain_text(
            data.requirements, field="requirements", limit=1000, multiline=True
        ),
        "worker_groups": ",".join(_groups(data.worker_groups)),
        "status": data.status,
    }


POSTING_SELECT = (
    "SELECT p.id, p.activity_id, p.employer_id, p.title, p.headcount, p.pay_min, p.pay_max, "
    "p.location, p.district, p.requirements, p.worker_groups, p.status, "
    "e.name AS employer_name, b.number AS booth_number FROM jobfair_posting p "
    "JOIN jobfair_employer e ON e.id = p.employer_id "
    "LEFT JOIN jobfair_booth b ON b.employer_id = p.employer_id AND b.activity_id = p.activity_id "
)


def _posting_out(row: dict[str, Any], bookmarked: set[int] | None = None) -> PostingOut:
    return PostingOut(
        id=row["id"],
        activity_id=row["activity_id"],
        employer_id=row["employer_id"],
        employer_name=row["employer_name"],
        booth_number=row["booth_number"],
        title=row["title"],
        headcount=row["headcount"],
        pay_min=row["pay_min"],
        pay_max=row["pay_max"],
        location=row["location"],
        district=row["district"],
        requirements=row["requirements"],
        worker_groups=[g for g in row["worker_groups"].split(",") if g],
        status=row["status"],
        bookmarked=row["id"] in (bookmarked or set()),
    )


async def _posting_by_id(posting_id: int) -> PostingOut:
    rows = await run_sql(POSTING_SELECT + "WHERE p.id = {}", posting_id)
    if not rows:
        raise NotFound("There is no such job.")
    return _posting_out(rows[0])


async def list_postings(actor: Actor, activity_id: int) -> list[PostingOut]:
    """Every posting of the fair for its organisers; for anyone else who may see the
    fair, the open postings of approved employers (the first MAX_PUBLIC_LIST)."""
    activity = await _fair(activity_id)
    if not _organises(actor, activity):
        await _visible_fair(actor, activity_id)
        rows = await run_sql(
            POSTING_SELECT + "WHERE p.activity_id = {} AND p.status = 'open' "
            "AND e.approved = {} ORDER BY e.id, p.id LIMIT {}",
            activity_id,
            True,
            MAX_PUBLIC_LIST,
        )
        marks = await _bookmarks(actor)
        return [_posting_out(row, marks) for row in rows]
    rows = await run_sql(
        POSTING_SELECT + "WHERE p.activity_id = {} ORDER BY e.id, p.id", activity_id
    )
    return [_posting_out(row) for row in rows]


async def create_posting(actor: Actor, activity_id: int, data: PostingIn) -> PostingOut:
    await organised_fair(actor, activity_id)
    values = await _posting_values(activity_id, data)
    rows = await Posting.insert(Posting(activity_id=activity_id, **values)).returning(Posting.id)
    return await _posting_by_id(rows[0]["id"])


async def _may_edit_posting(actor: Actor, activity_id: int, employer_id: int) -> None:
    """Organisers, and the staff of the employer's own booth."""
    activity = await _fair(activity_id)
    if _organises(actor, activity):
        return
    booth = (
        await Booth.select(Booth.id)
        .where((Booth.activity_id == activity_id) & (Booth.employer_id == employer_id))
        .first()
        .run()
    )
    if booth is None or not await _is_booth_staff(actor, booth["id"]):
        raise Forbidden("Only the fair's organisers and the employer's booth staff can edit this.")


async def editable_posting(actor: Actor, posting_id: int) -> PostingOut:
    posting = await _posting_by_id(posting_id)
    await _may_edit_posting(actor, posting.activity_id, posting.employer_id)
    return posting


async def update_posting(actor: Actor, posting_id: int, data: PostingIn) -> PostingOut:
    current = await _posting_by_id(posting_id)
    await _may_edit_posting(actor, current.activity_id, current.employer_id)
    if data.employer_id != current.employer_id:
        # Booth staff may not move a posting to another employer.
        await _may_edit_posting(actor, current.activity_id, data.employer_id)
    values = await _posting_values(current.activity_id, data)
    await Posting.update(values).where(Posting.id == posting_id).run()
    return await _posting_by_id(posting_id)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search_postings(
    actor: Actor,
    activity_id: int,
    *,
    query: str = "",
    min_pay: int | None = None,
    group: str = "",
    district: str = "",
    bookmarked_only: bool = False,
    page: int = 1,
) -> PostingPage:
    """Open postings of approved employers, for workers: keyword (title, employer,
    requirements), pay at least, worker group, district; 20 a page."""
    await _visible_fair(actor, activity_id)
    query = plain_text(query, field="q", limit=50)
    district = plain_text(district, field="district", limit=40)
    if group and group not in WORKER_GROUPS:
        raise DomainError("validation_error", "Choose a worker group from the list.", field="group")
    if min_pay is not None and not 0 <= min_pay <= MAX_PAY:
        raise DomainError("validation_error", "Give the pay in yuan per month.", field="pay")
    page = max(1, min(page, 10_000))
    where = ["p.activity_id = {}", "p.status = 'open'", "e.approved = {}"]
    params: list[Any] = [activity_id, True]
    if query:
        where.append(
            "(p.title LIKE {} ESCAPE '\\' OR e.name LIKE {} ESCAPE '\\' "
            "OR p.requirements LIKE {} ESCAPE '\\')"
        )
        params += [_like(query)] * 3
    if min_pay is not None:
        where.append("p.pay_max >= {}")
        params.append(min_pay)
    if group:
        where.append("(',' || p.worker_groups || ',') LIKE {}")
        params.append(f"%,{group},%")
    if district:
        where.append("p.district = {}")
        params.append(district)
    marks = await _bookmarks(actor)
    if bookmarked_only:
        where.append("p.id IN (" + ",".join(["{}"] * len(marks or {0})) + ")")
        params += sorted(marks or {0})
    clause = "WHERE " + " AND ".join(where)
    total_rows = await run_sql(
        "SELECT COUNT(*) AS n FROM jobfair_posting p "  # noqa: S608 (only {} placeholders vary)
        "JOIN jobfair_employer e ON e.id = p.employer_id " + clause,
        *params,
    )
    total = int(total_rows[0]["n"])
    rows = await run_sql(
        POSTING_SELECT + clause + " ORDER BY p.pay_max DESC, p.id LIMIT {} OFFSET {}",
        *params,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    return PostingPage(
        items=[_posting_out(row, marks) for row in rows],
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
    )


async def districts(activity_id: int) -> list[str]:
    rows = (
        await Posting.select(Posting.district)
        .where((Posting.activity_id == activity_id) & (Posting.district != ""))
        .distinct()
        .order_by(Posting.district)
        .run()
    )
    return [row["district"] for row in rows]


async def _bookmarks(actor: Actor) -> set[int]:
    if actor.member_id is None:
        return set()
    rows = (
        await Bookmark.select(Bookmark.posting_id)
        .where(Bookmark.member_id == actor.member_id)
        .run()
    )
    return {row["posting_id"] for row in rows}


async def set_bookmark(actor: Actor, posting_id: int, on: bool) -> PostingOut:
    """Bookmark a posting (or drop the bookmark); the same answer when repeated."""
    if actor.member_id is None:
        raise Forbidden("Sign in to bookmark jobs.")
    posting = await _posting_by_id(posting_id)
    await _visible_fair(actor, posting.activity_id)
    async with write_transaction():
        await lock_key(f"jobfair-bookmark:{actor.member_id}")
        await (
            Bookmark.delete()
            .where((Bookmark.member_id == actor.member_id) & (Bookmark.posting_id == posting_id))
            .run()
        )
        if on:
            await Bookmark.insert(Bookmark(member_id=actor.member_id, posting_id=posting_id)).run()
    posting.bookmarked = on
    return posting


# --- consent ------------------------------------------------------------------------------


async def consent(actor: Actor, activity_id: int) -> bool:
    if actor.member_id is None:
        return False
    return await _consents(activity_id, actor.member_id)


async def _consents(activity_id: int, member_id: int) -> bool:
    row = (
        await Consent.select(Consent.share_phone)
        .where((Consent.activity_id == activity_id) & (Consent.member_id == member_id))
        .first()
        .run()
    )
    return bool(row and row["share_phone"])


async def set_consent(actor: Actor, activity_id: int, share_phone: bool) -> bool:
    """The worker's own choice, for one fair: share the phone with employers where
    preliminary intent is reached. Off unless set."""
    if actor.member_id is None:
        raise Forbidden("Sign in first.")
    await _visible_fair(actor, activity_id)
    async with write_transaction():
        await lock_key(f"jobfair-consent:{activity_id}:{actor.member_id}")
        await (
            Consent.delete()
            .where((Consent.activity_id == activity_id) & (Consent.member_id == actor.member_id))
            .run()
        )
        await Consent.insert(
            Consent(
                activity_id=activity_id,
                member_id=actor.member_id,
                share_phone=share_phone,
                updated_at=clock.now(),
            )
        ).run()
    return share_phone


async def sign_up(actor: Actor, activity_id: int, *, share_phone: bool) -> None:
    """Sign up for the fair with the consent tick given beside the button."""
    await _visible_fair(actor, activity_id)
    await activities.register(actor, activity_id)
    await set_consent(actor, activity_id, share_phone)


# --- the hiring funnel at a booth ---------------------------------------------------------

# Admitted at the entrance: quoted from the reports room's ADMITTED (the door's rule, one
# spelling for every SQL that counts admissions); tests/service/test_jobfairs.py ties it
# to the door's own roster.
CHECKED_IN_SQL = (
    "SELECT s.registration_id FROM checkin_scan s WHERE s.activity_id = {} AND "  # noqa: S608
    + ADMITTED
)


async def checked_in_registrations(activity_id: int) -> set[int]:
    return {row["registration_id"] for row in await run_sql(CHECKED_IN_SQL, activity_id)}


# --- the booth as a scan point (service/scans) ----------------------------------------------

# The booth's code among scan point types: stored in the shared client-id log and undo
# audit, and quoted by the writes below, which log a scan's client id themselves.
BOOTH = "booth"
# A write of a lead changes it only while its version is the one the scan read
# (compare-and-set). A scan that lost to another phone's write is decided again on a fresh
# read, this many times in all, and then answered conflict with nothing written.
MAX_TRIES = 5

# Everything a booth scan is decided on, in one statement: the booth and its fair, whether
# the scanner may record there (access.may_sql, the SQL form of access.may), the ticket's
# registration, holder and reissue counter, whether it was admitted at the entrance (the
# reports room's ADMITTED, as CHECKED_IN_SQL quotes it), the worker's lead at this booth
# with its version, and the posting named. It reads the activities', orgs', tickets' and
# checkin's tables itself, as the door's SCAN_READ does, for speed (QUALITY.md B9). Every
# file that must change with it: this statement, _reading_of and the rules it feeds
# (_worker, _posting_of, _judge), and tests/service/test_booth_scan_read.py, its parity
# test against the rooms' own services (activities.door_registration,
# tickets.current_reissue, orgs.actor_for_member, checked_in_registrations, access.may,
# and the Lead and Posting tables read through Piccolo).
BOOTH_SCAN_READ = (
    "SELECT b.id, b.activity_id, b.employer_id, a.kind, "  # noqa: S608 (constants only)
    + access.may_sql("record_booth", "booth", owner_path="o.path", scope_id="b.id")
    + " AS may_record, r.id AS registration_id, r.activity AS registration_activity, "
    "r.member AS registration_member, r.status AS registration_status, "
    "r.updated_at AS registration_updated_at, m.name AS holder_name, "
    "m.phone AS holder_phone, m.worker_group AS holder_group, t.reissue, "
    "EXISTS (SELECT 1 FROM checkin_scan s WHERE s.activity_id = b.activity_id "
    "AND s.registration_id = r.id AND " + ADMITTED + ") AS checked_in, "
    "l.id AS lead_id, l.version AS lead_version, l.stage AS lead_stage, "
    "l.peak AS lead_peak, l.stage_at AS lead_stage_at, l.posting_id AS lead_posting_id, "
    "l.rating AS lead_rating, l.note AS lead_note, l.name AS lead_name, "
    "l.phone_masked AS lead_phone_masked, l.worker_group AS lead_group, "
    "l.checked_in AS lead_checked_in, "
    "p.activity_id AS posting_activity, p.employer_id AS posting_employer "
    "FROM jobfair_booth b JOIN activity a ON a.id = b.activity_id "
    "JOIN org_node o ON o.id = a.owner "
    "LEFT JOIN activity_registration r ON r.id = {} "
    "LEFT JOIN org_member m ON m.id = r.member "
    "LEFT JOIN ticket_state t ON t.registration_id = r.id "
    "LEFT JOIN jobfair_lead l ON l.booth_id = b.id AND l.registration_id = r.id "
    "LEFT JOIN jobfair_posting p ON p.id = {} "
    "WHERE b.id = {}"
)

# The writes of a decided scan. A new lead is inserted unless another phone's first scan of
# the worker got there first (one lead per booth and registration: jobfair_lead_once); a
# lead is changed only at the version read. Either way no row comes back when it lost,
# and the scan is decided again.
INSERT_LEAD = (
    "INSERT INTO jobfair_lead (activity_id, booth_id, registration_id, member_id, "
    "posting_id, stage, peak, stage_at, rating, note, name, phone_masked, worker_group, "
    "checked_in, created_at, version) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 0) "
    "ON CONFLICT (booth_id, registration_id) DO NOTHING RETURNING id"
)
UPDATE_LEAD = (
    "UPDATE jobfair_lead SET posting_id = {}, stage = {}, peak = {}, stage_at = {}, "
    "rating = {}, note = {}, checked_in = {}, version = version + 1 "
    "WHERE id = {} AND version = {} RETURNING id"
)
STAGE_SCAN_COLUMNS = (
    "activity_id, booth_id, client_id, result, stage, posting_id, scanned_at, recorded_at, "
    "actor_id, actor_name, before_stage, before_peak, before_stage_at, before_posting_id, "
    "lead_id, action"
)
INSERT_STAGE_SCAN = (
    f"INSERT INTO jobfair_stage_scan ({STAGE_SCAN_COLUMNS}) "  # noqa: S608 (a constant)
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 'scan') RETURNING id"
)
# PostgreSQL: the lead's write, the stage scan and its client id's row of the shared log
# in one statement (one round trip, no BEGIN/COMMIT). A lead write that lost writes
# nothing else; a client id sent before fails the whole statement on a unique index.
# Constants only are formatted in (the columns, the booth's code): no input.
_RECORD_PG = (
    "WITH lead AS ({lead}), "  # noqa: S608
    f"scan AS (INSERT INTO jobfair_stage_scan ({STAGE_SCAN_COLUMNS}) "
    "SELECT {}::integer, {}::integer, {}::varchar, {}::varchar, {}::varchar, {}::integer, "
    "{}::timestamptz, {}::timestamptz, {}::integer, {}::varchar, {}::varchar, {}::integer, "
    "{}::timestamptz, {}::integer, lead.id, 'scan' FROM lead "
    "RETURNING id, booth_id, client_id, actor_id, recorded_at), "
    f"logged AS (INSERT INTO scan_client_log ({scanning.CLIENT_LOG_COLUMNS}) "
    f"SELECT '{BOOTH}', booth_id, client_id, actor_id, id, recorded_at FROM scan "
    "WHERE client_id IS NOT NULL) "
    "SELECT lead.id AS lead_id, scan.id AS scan_id FROM lead JOIN scan ON true"
)
RECORD_NEW_LEAD_PG = _RECORD_PG.replace("{lead}", INSERT_LEAD)
RECORD_LEAD_PG = _RECORD_PG.replace("{lead}", UPDATE_LEAD)


class _LeadMoved(Exception):
    """Another phone's write changed the lead between this scan's read and its write:
    nothing was written, and the scan is decided again on a fresh read."""


def _lead_moved() -> DomainError:
    return DomainError(
        "conflict", "Another phone changed this worker's stage at the same moment. Try again."
    )


@dataclass(frozen=True)
class _Worker:
    registration_id: int
    member_id: int
    name: str
    phone_masked: str
    group: str


@dataclass(frozen=True)
class _Lead:
    """A worker's lead at a booth, as read with the version its write must still find."""

    id: int
    version: int
    stage: str
    peak: int
    stage_at: datetime
    posting_id: int | None
    rating: int | None
    note: str
    name: str
    phone_masked: str
    group: str
    checked_in: bool


@dataclass(frozen=True)
class _BoothScan:
    """What a phone sent to a booth: the verified ticket (None: not a good code), the
    stage and its details. `opened`: a batch has checked who scans there once already."""

    token: TicketToken | None
    stage: str
    posting_id: int | None
    rating: int | None
    note: str
    opened: bool = False


@dataclass(frozen=True)
class _BoothReading:
    """The one read of a booth scan (BOOTH_SCAN_READ), with what was sent."""

    sent: _BoothScan
    booth_id: int
    activity_id: int
    employer_id: int
    registration: DoorRegistration | None
    reissue: int
    group: str  # the ticket holder's worker group
    checked_in: bool  # admitted at the entrance
    lead: _Lead | None
    posting: tuple[int, int] | None  # the named posting's fair and employer


@dataclass(frozen=True)
class _LeadAfter:
    """The lead as a scan leaves it."""

    stage: str
    peak: int
    stage_at: datetime
    posting_id: int | None
    rating: int | None
    note: str
    checked_in: bool


@dataclass(frozen=True)
class _Verdict:
    result: str  # recorded | already | superseded
    worker: _Worker
    posting_id: int | None  # the posting this scan named (checked)
    after: _LeadAfter


@dataclass(frozen=True)
class _Refusal:
    """A scan refused: nothing is written (a resend of a recorded scan still replays)."""

    error: DomainError


def _reading_of(row: dict[str, Any], sent: _BoothScan) -> _BoothReading:
    registration = None
    if row["registration_id"] is not None:
        registration = DoorRegistration(
            id=row["registration_id"],
            activity_id=row["registration_activity"],
            member_id=row["registration_member"],
            status=row["registration_status"],
            name=row["holder_name"],
            phone_masked=orgs.mask_phone(row["holder_phone"]),
            updated_at=_as_datetime(row["registration_updated_at"]),
        )
    lead = None
    if row["lead_id"] is not None:
        lead = _Lead(
            id=row["lead_id"],
            version=int(row["lead_version"]),
            stage=row["lead_stage"],
            peak=int(row["lead_peak"]),
            stage_at=_as_datetime(row["lead_stage_at"]),
            posting_id=row["lead_posting_id"],
            rating=row["lead_rating"],
            note=row["lead_note"],
            name=row["lead_name"],
            phone_masked=row["lead_phone_masked"],
            group=row["lead_group"],
            checked_in=bool(row["lead_checked_in"]),
        )
    posting = None
    if row["posting_activity"] is not None:
        posting = (row["posting_activity"], row["posting_employer"])
    return _BoothReading(
        sent=sent,
        booth_id=row["id"],
        activity_id=row["activity_id"],
        employer_id=row["employer_id"],
        registration=registration,
        reissue=int(row["reissue"] or 0),
        group=row["holder_group"] or "other",
        checked_in=bool(row["checked_in"]),
        lead=lead,
        posting=posting,
    )


def _worker(
    activity_id: int,
    token: TicketToken | None,
    registration: DoorRegistration | None,
    reissue: int,
    group: str,
) -> _Worker:
    """The confirmed registration a ticket stands for at this fair, or the refusal (the
    signature was checked by the ticket verifier; the reissue counter catches revoked
    codes)."""
    if token is None:
        raise DomainError("invalid_ticket", "This is not a valid ticket.", field="code")
    if token.activity_id != activity_id:
        raise DomainError("wrong_activity", "This ticket is for another activity.", field="code")
    if (
        registration is None
        or registration.activity_id != activity_id
        or registration.status != "confirmed"
        or token.reissue != reissue
    ):
        raise DomainError("invalid_ticket", "This ticket is no longer valid.", field="code")
    return _Worker(
        registration_id=registration.id,
        member_id=registration.member_id,
        name=registration.name,
        phone_masked=registration.phone_masked,
        group=group,
    )


def _posting_of(reading: _BoothReading) -> int | None:
    """The posting a scan named, if it is one of this booth's employer at this fair."""
    posting_id = reading.sent.posting_id
    if posting_id is None:
        return None
    if reading.posting is None or reading.posting[0] != reading.activity_id:
        raise DomainError(
            "validation_error", "This job is not offered at this fair.", field="posting_id"
        )
    if reading.posting[1] != reading.employer_id:
        raise DomainError(
            "validation_error", "This job is not offered at this booth.", field="posting_id"
        )
    return posting_id


def _judge(scan: ScanContext, reading: _BoothReading) -> _Verdict:
    """The funnel's rules (see the top of this module), from the reading alone."""
    sent = reading.sent
    if sent.stage not in STAGES:
        raise DomainError("validation_error", "Choose a stage from the list.", field="stage")
    if sent.rating is not None and not 1 <= sent.rating <= 5:
        raise DomainError("validation_error", "Rate from 1 to 5.", field="rating")
    note = plain_text(sent.note, field="note", limit=200)
    worker = _worker(
        reading.activity_id, sent.token, reading.registration, reading.reissue, reading.group
    )
    posting_id = _posting_of(reading)
    rank = RANK[sent.stage]
    peak_of = rank if sent.stage in POSITIVE_STAGES else 0
    lead = reading.lead
    if lead is None:
        after = _LeadAfter(
            stage=sent.stage,
            peak=peak_of,
            stage_at=scan.at,
            posting_id=posting_id,
            rating=sent.rating,
            note=note,
            checked_in=reading.checked_in,
        )
        return _Verdict("recorded", worker, posting_id, after)
    kept = _LeadAfter(
        stage=lead.stage,
        peak=lead.peak,
        stage_at=lead.stage_at,
        posting_id=lead.posting_id,
        rating=sent.rating if sent.rating is not None else lead.rating,
        note=note or lead.note,
        checked_in=reading.checked_in or lead.checked_in,
    )
    current = RANK[lead.stage]
    if rank == current:
        if posting_id is not None:
            kept = replace(kept, posting_id=posting_id)
        return _Verdict("already", worker, posting_id, kept)
    if rank > current:
        moved = replace(
            kept,
            stage=sent.stage,
            peak=max(lead.peak, peak_of),
            stage_at=scan.at,
            posting_id=posting_id if posting_id is not None else lead.posting_id,
        )
        return _Verdict("recorded", worker, posting_id, moved)
    if scan.offline or scan.at < lead.stage_at:
        return _Verdict("superseded", worker, posting_id, kept)
    raise DomainError(
        "stage_backwards",
        "Already at %(stage)s since %(time)s: stages only move forward. "
        "Undo the last stage within 5 minutes instead.",
        field="stage",
        stage=stage_label(lead.stage),
        time=localtime(lead.stage_at, short=True),
    )


def _lead_write(reading: _BoothReading, verdict: _Verdict, now: datetime) -> tuple[Any, ...]:
    """The parameters of INSERT_LEAD (no lead yet) or UPDATE_LEAD."""
    after, lead, worker = verdict.after, reading.lead, verdict.worker
    if lead is None:
        return (
            reading.activity_id,
            reading.booth_id,
            worker.registration_id,
            worker.member_id,
            after.posting_id,
            after.stage,
            after.peak,
            after.stage_at,
            after.rating,
            after.note,
            worker.name[:50],
            worker.phone_masked,
            worker.group,
            after.checked_in,
            now,
        )
    return (
        after.posting_id,
        after.stage,
        after.peak,
        after.stage_at,
        after.rating,
        after.note,
        after.checked_in,
        lead.id,
        lead.version,
    )


def _stage_scan(
    scan: ScanContext, reading: _BoothReading, verdict: _Verdict, now: datetime
) -> tuple[Any, ...]:
    """The parameters of the stage scan's row, but its lead's id (INSERT_STAGE_SCAN)."""
    lead = reading.lead
    return (
        reading.activity_id,
        reading.booth_id,
        scan.client_id,
        verdict.result,
        reading.sent.stage,
        verdict.posting_id,
        scan.at,
        now,
        scan.scanner_id,
        scan.scanner_name,
        lead.stage if lead else None,
        lead.peak if lead else 0,
        lead.stage_at if lead else None,
        lead.posting_id if lead else None,
    )


async def _write(
    scan: ScanContext, reading: _BoothReading, verdict: _Verdict
) -> tuple[int, int] | None:
    """Write a decided scan: the lead, the stage scan and its client id's row of the
    shared log, all or nothing. (lead id, stage scan id); None when the lead's write lost
    to another phone's (nothing written)."""
    now = clock.now()
    lead_params = _lead_write(reading, verdict, now)
    scan_params = _stage_scan(scan, reading, verdict, now)
    if is_postgres():
        statement = RECORD_NEW_LEAD_PG if reading.lead is None else RECORD_LEAD_PG
        rows = await run_sql(statement, *lead_params, *scan_params)
        return (int(rows[0]["lead_id"]), int(rows[0]["scan_id"])) if rows else None
    lead_sql = qmark(INSERT_LEAD if reading.lead is None else UPDATE_LEAD)

    def write(connection: sqlite3.Connection) -> tuple[int, int] | None:
        # On the writer's thread, inside BEGIN IMMEDIATE … COMMIT (db.write_in_thread):
        # one hand-off for the three statements; a unique index refusing the client id
        # rolls all of them back.
        won = connection.execute(lead_sql, lead_params).fetchall()
        if not won:
            return None
        lead_id = int(won[0]["id"])
        (row,) = connection.execute(qmark(INSERT_STAGE_SCAN), (*scan_params, lead_id)).fetchall()
        scan_id = int(row["id"])
        if scan.client_id is not None:
            connection.execute(
                qmark(scanning.INSERT_CLIENT_LOG),
                (BOOTH, reading.booth_id, scan.client_id, scan.scanner_id, scan_id, now),
            )
        return lead_id, scan_id

    db = engine()
    assert isinstance(db, TunedSQLiteEngine)
    return await db.write_in_thread(write)


class BoothPoint:
    """A job-fair booth (point id: the booth's id). A scan moves one worker's lead there
    forward; a lower stage made earlier or offline is kept as superseded, a refused scan
    writes nothing. A booth takes scans while it exists (a device link ends with the fair)."""

    code = BOOTH
    duplicate_results = frozenset({"already", "superseded"})
    # Its write logs the client id in the same statement (transaction on SQLite).
    logs_client_ids = True

    async def read(self, scan: ScanContext, sent: _BoothScan) -> _BoothReading:
        actor: Scanner = scan.actor
        if isinstance(actor, BoothDevice) and actor.booth_id != scan.point_id:
            raise Forbidden("This phone is signed in for another booth.")
        # A device's booth is its own (checked above); a batch checked its scanner once.
        checks_staff = not sent.opened and not isinstance(actor, BoothDevice)
        rows = await run_sql(
            BOOTH_SCAN_READ,
            *access.may_sql_params(actor if checks_staff else None, "record_booth", "booth"),
            sent.token.ticket_id if sent.token else None,
            sent.posting_id,
            scan.point_id,
        )
        if not rows:
            raise NotFound("There is no such booth.")
        if rows[0]["kind"] != KIND:
            raise NotFound("There is no such job fair.")
        if checks_staff and not rows[0]["may_record"]:
            raise Forbidden("You are not on the staff of this booth.")
        return _reading_of(rows[0], sent)

    def is_open(self, reading: _BoothReading) -> bool:
        return True

    def decide(self, scan: ScanContext, reading: _BoothReading) -> _Verdict | _Refusal:
        try:
            return _judge(scan, reading)
        except DomainError as refusal:
            return _Refusal(refusal)

    async def record(
        self, scan: ScanContext, reading: _BoothReading, verdict: _Verdict | _Refusal
    ) -> tuple[int, dict[str, Any]]:
        if isinstance(verdict, _Refusal):
            # A resend answers as the first time, even when the same scan would be refused
            # now (the lead moved on since, the ticket was cancelled since).
            replayed = await scanning.replay(self, scan)
            if replayed is not None:
                return int(replayed["scan_id"]), replayed
            raise verdict.error
        written = await _write(scan, reading, verdict)
        if written is None:
            raise _LeadMoved()
        lead_id, scan_id = written
        lead, after = reading.lead, verdict.after
        # The answer from what is in hand (a resend reads the same values back: _answer).
        return scan_id, {
            "result": verdict.result,
            "client_id": scan.client_id,
            "scan_id": scan_id,
            "lead_id": lead_id,
            "stage": after.stage,
            "since": after.stage_at,
            "name": lead.name if lead else verdict.worker.name[:50],
            "phone_masked": lead.phone_masked if lead else verdict.worker.phone_masked,
            "group": lead.group if lead else verdict.worker.group,
            "checked_in": after.checked_in,
        }

    async def answer(self, scan: ScanContext, record_id: int) -> dict[str, Any]:
        return await _answer(record_id)

    def result_of(self, answer: dict[str, Any]) -> str:
        return str(answer["result"])


BOOTH_POINT = points.register(BoothPoint())


async def _answer(scan_id: int) -> dict[str, Any]:
    """A scan's answer as first given (a resent client id gets exactly this)."""
    scan = await StageScan.select().where(StageScan.id == scan_id).first().run()
    assert scan is not None
    lead = None
    if scan["lead_id"] is not None:
        lead = await Lead.select().where(Lead.id == scan["lead_id"]).first().run()
    return _answer_of(scan, lead)


def _answer_of(scan: dict[str, Any], lead: dict[str, Any] | None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "result": scan["result"],
        "client_id": scan["client_id"],
        "scan_id": scan["id"],
        "lead_id": scan["lead_id"],
    }
    if lead is not None:
        answer.update(
            stage=lead["stage"],
            since=lead["stage_at"],
            name=lead["name"],
            phone_masked=lead["phone_masked"],
            group=lead["worker_group"],
            checked_in=lead["checked_in"],
        )
    return answer


def _ticket(code: Any) -> TicketToken | None:
    try:
        return tokens.verify_ticket(code if isinstance(code, str) else "")
    except tokens.BadToken:
        return None


def _scan_context(
    actor: Scanner,
    booth_id: int,
    client_id: str | None,
    scanned_at: datetime | None,
    *,
    offline: bool,
) -> ScanContext:
    """A booth scan's context, its cheap checks done: every booth scan needs its client
    id (a phone retries a scan it got no answer to)."""
    return scanning.context(
        BOOTH,
        booth_id,
        actor,
        scanner_id=actor.member_id,
        scanner_name=actor.name,
        client_id=scanning.client_id_of(client_id, required=True),
        scanned_at=scanned_at,
        offline=offline,
    )


async def _decided(scan: ScanContext, sent: _BoothScan) -> dict[str, Any]:
    """One scan through the shared mechanism (read, decide, record), decided again on a
    fresh read while its write loses to another phone's, MAX_TRIES times at most."""
    for _ in range(MAX_TRIES):
        try:
            answer: dict[str, Any] = await scanning.decide(scan, sent)
        except _LeadMoved:
            continue
        return answer
    raise _lead_moved()


async def _scannable_booth(actor: Scanner, booth_id: int) -> dict[str, Any]:
    """The booth's row, for its staff (a device of this booth included) and the fair's
    organisers (anyone else: 403)."""
    if isinstance(actor, BoothDevice):
        if actor.booth_id != booth_id:
            raise Forbidden("This phone is signed in for another booth.")
        return await _booth(booth_id)
    booth = await _booth(booth_id)
    activity = await _fair(booth["activity_id"])
    if not (_organises(actor, activity) or await _is_booth_staff(actor, booth_id)):
        raise Forbidden("You are not on the staff of this booth.")
    return booth


async def record_stage(
    actor: Scanner,
    booth_id: int,
    code: str,
    posting_id: int | None,
    stage: str,
    *,
    client_id: str,
    rating: int | None = None,
    note: str = "",
    scanned_at: datetime | None = None,
    offline: bool = False,
) -> dict[str, Any]:
    """Record a worker's stage at a booth; returns the answer (see BoothScanOut).

    Two statements in all: the ticket's signature is checked without the database, one
    read brings the booth, the scanner's place on its staff, the ticket, the entrance and
    the worker's lead (BOOTH_SCAN_READ), and one write records the lead, the scan and its
    client id (one statement on PostgreSQL, one hand-off to the writer on SQLite).

    `offline` (the batch form) settles a lower stage as "superseded" instead of refusing
    it: two devices that recorded different stages offline end at the furthest one.
    """
    scan = _scan_context(actor, booth_id, client_id, scanned_at, offline=offline)
    return await _decided(scan, _BoothScan(_ticket(code), stage, posting_id, rating, note))


async def record_batch(
    actor: Scanner, booth_id: int, scans: Sequence[BoothScanItem]
) -> list[dict[str, Any]]:
    """An offline device's queue, settled by the shared batch runner earliest first; each
    scan gets its own answer (an error code for a bad one), and a resent batch writes
    nothing new. Every queued scan needs its client id (or the whole batch is refused)."""

    async def decide_one(booth: dict[str, Any], item: BoothScanItem) -> dict[str, Any]:
        sent = _BoothScan(
            _ticket(item.code), item.stage, item.posting_id, item.rating, item.note, opened=True
        )
        try:
            scan = _scan_context(actor, booth["id"], item.client_id, item.scanned_at, offline=True)
            return await _decided(scan, sent)
        except DomainError as error:
            return {
                "result": error.code,
                "client_id": item.client_id,
                "message": gettext(error.message, **error.params),
            }

    settled = await scanning.run_batch(
        BOOTH,
        scans,
        open_point=lambda: _scannable_booth(actor, booth_id),  # the whole batch, or none
        decide_one=decide_one,
        scanned_at=lambda item: item.scanned_at,
        client_id=lambda item: item.client_id,
        limit=MAX_BATCH,
    )
    return settled.answers


RESTORE_LEAD = (
    "UPDATE jobfair_lead SET stage = {}, peak = {}, stage_at = {}, posting_id = {}, "
    "version = version + 1 WHERE id = {} AND version = {} RETURNING id"
)
DROP_LEAD = "DELETE FROM jobfair_lead WHERE id = {} AND version = {} RETURNING id"


async def undo_stage(actor: Scanner, scan_id: int) -> UndoOut:
    """Undo a booth scan's stage change within UNDO_WINDOW of recording it, if it is the
    lead's latest change; the undo is kept beside the scan and in the shared undo audit.
    Like a scan, it changes the lead only at the version it read."""
    scan = await StageScan.select().where(StageScan.id == scan_id).first().run()
    if scan is None or scan["action"] != "scan":
        raise NotFound("There is no such scan.")
    await booth_for(actor, scan["booth_id"])
    for _ in range(MAX_TRIES):
        try:
            return await _undo(actor, scan_id)
        except _LeadMoved:
            continue
    raise _lead_moved()


async def _undo(actor: Scanner, scan_id: int) -> UndoOut:
    now = clock.now()
    async with write_transaction():
        fresh = await StageScan.select().where(StageScan.id == scan_id).first().run()
        if fresh is None or fresh["undone_at"] is not None or fresh["result"] != "recorded":
            raise DomainError("conflict", "This scan has nothing left to undo.")
        if now - fresh["recorded_at"] > UNDO_WINDOW:
            raise DomainError("conflict", "A stage can be undone only within 5 minutes.")
        lead = await Lead.select().where(Lead.id == fresh["lead_id"]).first().run()
        latest = (
            await StageScan.select(StageScan.id)
            .where(
                (StageScan.lead_id == fresh["lead_id"])
                & (StageScan.result == "recorded")
                & StageScan.undone_at.is_null()
            )
            .order_by(StageScan.id, ascending=False)
            .first()
            .run()
        )
        if lead is None or latest is None or latest["id"] != scan_id:
            raise DomainError("conflict", "Only the latest stage can be undone.")
        stage = fresh["before_stage"]
        if stage is None:
            won = await run_sql(DROP_LEAD, lead["id"], lead["version"])
        else:
            won = await run_sql(
                RESTORE_LEAD,
                stage,
                fresh["before_peak"],
                fresh["before_stage_at"],
                fresh["before_posting_id"],
                lead["id"],
                lead["version"],
            )
        if not won:
            raise _LeadMoved()  # a scan of the worker came in between: read again
        await StageScan.update({StageScan.undone_at: now}).where(StageScan.id == scan_id).run()
        await StageScan.insert(
            StageScan(
                activity_id=fresh["activity_id"],
                booth_id=fresh["booth_id"],
                lead_id=fresh["lead_id"],
                action="undo",
                result="undone",
                stage=fresh["stage"],
                scanned_at=now,
                recorded_at=now,
                actor_id=actor.member_id,
                actor_name=actor.name[:50],
                undo_of=scan_id,
            )
        ).run()
        await scanning.audit_undo(
            BOOTH,
            fresh["booth_id"],
            scan_id,
            action="undo_stage",
            actor_id=actor.member_id,
            actor_name=actor.name,
            reason="",
        )
    return UndoOut(scan_id=scan_id, lead_id=fresh["lead_id"], stage=stage)


async def booth_leads(actor: Scanner, booth_id: int) -> list[LeadOut]:
    """The booth's own list of workers, newest first. The full phone only from
    preliminary intent on, and only for a worker who agreed to share it."""
    await booth_for(actor, booth_id)
    rows = await run_sql(
        "SELECT l.*, p.title AS posting_title, "
        "(SELECT MAX(s.id) FROM jobfair_stage_scan s WHERE s.lead_id = l.id "
        "AND s.result = 'recorded' AND s.undone_at IS NULL) AS last_scan_id "
        "FROM jobfair_lead l LEFT JOIN jobfair_posting p ON p.id = l.posting_id "
        "WHERE l.booth_id = {} ORDER BY l.stage_at DESC, l.id DESC",
        booth_id,
    )
    consenting = {
        row["member_id"]
        for row in await Consent.select(Consent.member_id)
        .where(
            Consent.member_id.is_in([r["member_id"] for r in rows] or [0])
            & (Consent.share_phone == True)  # noqa: E712 (a Piccolo expression)
            & Consent.activity_id.is_in(list({r["activity_id"] for r in rows}) or [0])
        )
        .run()
    }
    out = []
    for row in rows:
        phone = None
        if row["stage"] in PHONE_STAGES and row["member_id"] in consenting:
            phone = (await orgs.member_contact(row["member_id"]))["phone"]
        out.append(
            LeadOut(
                id=row["id"],
                name=row["name"],
                phone_masked=row["phone_masked"],
                phone=phone,
                group=row["worker_group"],
                stage=row["stage"],
                since=_as_datetime(row["stage_at"]),
                posting_id=row["posting_id"],
                posting_title=row["posting_title"],
                rating=row["rating"],
                note=row["note"],
                checked_in=bool(row["checked_in"]),
                last_scan_id=row["last_scan_id"],
            )
        )
    return out


def _as_datetime(value: Any) -> datetime:
    """SQLite hands raw-SQL timestamps back as text."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


async def booth_postings(booth: BoothOut) -> list[PostingOut]:
    rows = await run_sql(
        POSTING_SELECT + "WHERE p.activity_id = {} AND p.employer_id = {} ORDER BY p.id",
        booth.activity_id,
        booth.employer_id,
    )
    return [_posting_out(row) for row in rows]


# --- the worker's visits ------------------------------------------------------------------


async def my_visits(actor: Actor, registration_id: int) -> list[Visit]:
    """The booths a worker's ticket was scanned at; the employer's contact where the
    worker reached preliminary intent."""
    ticket = await activities.my_ticket(actor, registration_id)  # the worker's own, or 404
    if ticket.activity.kind != KIND:
        return []
    rows = await run_sql(
        "SELECT l.stage, l.peak, b.number, e.name AS employer_name, e.contact_name, "
        "e.contact_phone, p.title AS posting_title FROM jobfair_lead l "
        "JOIN jobfair_booth b ON b.id = l.booth_id "
        "JOIN jobfair_employer e ON e.id = b.employer_id "
        "LEFT JOIN jobfair_posting p ON p.id = l.posting_id "
        "WHERE l.registration_id = {} ORDER BY b.number",
        registration_id,
    )
    return [
        Visit(
            booth_number=row["number"],
            employer_name=row["employer_name"],
            stage=row["stage"],
            posting_title=row["posting_title"],
            contact_name=row["contact_name"] if row["peak"] >= INTENT_RANK else None,
            contact_phone=row["contact_phone"] if row["peak"] >= INTENT_RANK else None,
        )
        for row in rows
    ]


# --- the report ---------------------------------------------------------------------------


def _count_into(row: FunnelRow, lead: dict[str, Any]) -> None:
    for stage in POSITIVE_STAGES:
        if lead["peak"] >= RANK[stage]:
            setattr(row, stage, getattr(row, stage) + 1)
    if lead["stage"] == "declined":
        row.declined += 1


async def jobfair_report(actor: Actor, activity_id: int) -> JobfairReport:
    activity = await organised_fair(actor, activity_id)
    return await _report(activity)


async def _report(activity: DoorActivity) -> JobfairReport:
    activity_id = activity.id
    employers = (
        await Employer.select(Employer.id, Employer.name)
        .where(Employer.activity_id == activity_id)
        .order_by(Employer.id)
        .run()
    )
    postings = await run_sql(
        POSTING_SELECT + "WHERE p.activity_id = {} ORDER BY e.id, p.id", activity_id
    )
    booths = await _booth_rows(activity_id)
    employer_of_booth = {row["id"]: row["employer_id"] for row in booths}
    leads = (
        await Lead.select(
            Lead.booth_id, Lead.member_id, Lead.posting_id, Lead.stage, Lead.peak, Lead.checked_in
        )
        .where(Lead.activity_id == activity_id)
        .run()
    )
    overall = FunnelRow(id=None, name="")
    per_employer = {row["id"]: FunnelRow(id=row["id"], name=row["name"]) for row in employers}
    per_posting = {row["id"]: FunnelRow(id=row["id"], name=row["title"]) for row in postings}
    asked: set[int] = set()
    for lead in leads:
        _count_into(overall, lead)
        employer_id = employer_of_booth.get(lead["booth_id"])
        if employer_id in per_employer:
            _count_into(per_employer[employer_id], lead)
        if lead["posting_id"] in per_posting:
            _count_into(per_posting[lead["posting_id"]], lead)
            asked.add(lead["posting_id"])
    checked_in = await checked_in_registrations(activity_id)
    return JobfairReport(
        activity_id=activity_id,
        confirmed=activity.confirmed,
        checked_in=len(checked_in),
        visitors=len({lead["member_id"] for lead in leads}),
        intent_or_above=len({lead["member_id"] for lead in leads if lead["peak"] >= INTENT_RANK}),
        not_checked_in=len({lead["member_id"] for lead in leads if not lead["checked_in"]}),
        overall=overall,
        employers=list(per_employer.values()),
        postings=list(per_posting.values()),
        unasked_postings=[
            PostingRef(id=row["id"], title=row["title"], employer_name=row["employer_name"])
            for row in postings
            if row["id"] not in asked
        ],
        materials=[
            BoothMaterials(
                booth_id=row["id"],
                number=row["number"],
                employer_name=row["employer_name"],
                materials=row["materials"],
            )
            for row in booths
        ],
    )


async def report_sections(activity_id: int) -> list[Any]:
    """The fair's part of the activity report page (and its exports)."""
    from service.reports.schemas import ReportSection

    report = await _report(await _fair(activity_id))
    if not (report.employers or report.materials or report.postings):
        return []  # a fair whose employers were never entered has no funnel to show
    heads = [gettext(STAGE_LABELS[stage]) for stage in STAGES]

    def funnel(rows: list[FunnelRow]) -> list[list[str]]:
        # Two columns (name, then the stages in a line): seven columns do not fit a phone.
        return [
            [
                row.name,
                " · ".join(f"{heads[i]} {getattr(row, stage)}" for i, stage in enumerate(STAGES)),
            ]
            for row in rows
        ]

    return [
        ReportSection(
            kind="jobfair_overall",
            title=gettext("Job fair: the hiring funnel"),
            rows=[
                [gettext("Checked in at the entrance"), str(report.checked_in)],
                [gettext("Workers at any booth"), str(report.visitors)],
                [gettext("Workers at or beyond preliminary intent"), str(report.intent_or_above)],
                [gettext("Scanned at a booth, never at the entrance"), str(report.not_checked_in)],
                *(
                    [heads[i], str(getattr(report.overall, stage))]
                    for i, stage in enumerate(STAGES)
                ),
            ],
        ),
        ReportSection(
            kind="jobfair_employers",
            title=gettext("Funnel per employer"),
            rows=funnel(report.employers),
        ),
        ReportSection(
            kind="jobfair_postings",
            title=gettext("Funnel per job"),
            rows=funnel(report.postings),
        ),
        ReportSection(
            kind="jobfair_unasked",
            title=gettext("Jobs nobody asked about"),
            rows=[[row.title, row.employer_name] for row in report.unasked_postings],
        ),
        ReportSection(
            kind="jobfair_materials",
            title=gettext("Materials handed out per booth"),
            rows=[[row.number, row.employer_name, str(row.materials)] for row in report.materials],
        ),
    ]
