"""Job-fair tables: employers, booths, postings, bookmarks, consent, and the hiring
funnel (one lead per worker and booth, plus the log of every stage scan).

Other rooms' rows (activity, registration, member, org node) are referenced by id only,
the way the door's tables do it; within the room, ids point at this room's tables.
"""

from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Employer(Table, tablename="jobfair_employer"):
    activity_id = Integer(index=True)
    name = Varchar(length=100)
    enterprise_node_id = Integer(null=True, default=None)  # when it is a member enterprise
    industry = Varchar(length=60, default="")
    contact_name = Varchar(length=50, default="")
    contact_phone = Varchar(length=20, default="")  # shown masked in every list
    approved = Boolean(default=False)
    # Entered by the employer itself from the fair's invite link (service: invites), so
    # the organiser knows to check it before approving.
    via_invite = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class EmployerInvite(Table, tablename="jobfair_employer_invite"):
    """A fair's employer invite link (one row per fair). The version is written in the
    link's code; withdrawing the link bumps it, so every link handed out before stops
    working, and a link created afterwards is a new one (service: invites)."""

    activity_id = Integer(unique=True)
    version = Integer(default=1)
    active = Boolean(default=False)
    updated_at = Timestamptz(default=TimestamptzNow())


class Booth(Table, tablename="jobfair_booth"):
    """A booth of a fair; a unique index (migration) allows one booth per employer and
    fair, and one booth per number and fair."""

    activity_id = Integer(index=True)
    number = Varchar(length=12)
    employer_id = Integer()
    materials = Integer(default=0)  # leaflets and brochures handed out
    # The version written in the booth's device links; revoking bumps it, and a link of
    # an older version no longer signs a phone in (service: booth_device).
    device_version = Integer(default=1)


class Posting(Table, tablename="jobfair_posting"):
    activity_id = Integer(index=True)
    employer_id = Integer(index=True)
    title = Varchar(length=100)
    headcount = Integer()
    pay_min = Integer()  # yuan per month
    pay_max = Integer()
    location = Varchar(length=200, default="")
    district = Varchar(length=40, default="", index=True)
    requirements = Text(default="")
    worker_groups = Varchar(length=200, default="")  # comma-separated group codes
    status = Varchar(length=12, default="open")  # open | filled | withdrawn
    created_at = Timestamptz(default=TimestamptzNow())


class Bookmark(Table, tablename="jobfair_bookmark"):
    member_id = Integer(index=True)
    posting_id = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class Consent(Table, tablename="jobfair_consent"):
    """A worker's consent to share the phone with employers where intent is reached
    (off unless a row says so); one row per member and fair."""

    activity_id = Integer()
    member_id = Integer()
    share_phone = Boolean(default=False)
    updated_at = Timestamptz(default=TimestamptzNow())


class Lead(Table, tablename="jobfair_lead"):
    """One worker at one booth: the current stage and the furthest positive stage reached.
    A unique index (migration) keeps one row per booth and registration."""

    activity_id = Integer(index=True)
    booth_id = Integer(index=True)
    registration_id = Integer()
    member_id = Integer(index=True)
    posting_id = Integer(null=True, default=None)  # None: general interest
    stage = Varchar(length=12)
    peak = Integer(default=0)  # rank of the furthest positive stage reached
    stage_at = Timestamptz()  # scanner's time of the current stage
    rating = Integer(null=True, default=None)
    note = Varchar(length=200, default="")
    name = Varchar(length=50, default="")
    phone_masked = Varchar(length=20, default="")
    worker_group = Varchar(length=20, default="other")
    checked_in = Boolean(default=False)  # admitted at the entrance when first scanned
    created_at = Timestamptz(default=TimestamptzNow())
    # Bumped by every write of the lead (a scan, an undo): a write decided on a read of
    # the lead changes it only while the version is still the one read (compare-and-set),
    # so two phones racing never lose the furthest stage (services: the booth's record).
    version = Integer(default=0)


class StageScan(Table, tablename="jobfair_stage_scan"):
    """Every stage scan and undo, with what the lead was before (for undo and audit).
    client_id is unique, and also in the shared client-id log (service/scans), where a
    resent scan is answered from: its first result, nothing written."""

    activity_id = Integer(index=True)
    booth_id = Integer(index=True)
    lead_id = Integer(null=True, default=None, index=True)
    client_id = Varchar(length=64, null=True, default=None, unique=True)
    action = Varchar(length=12)  # scan | undo
    result = Varchar(length=20)  # recorded | already | superseded | undone
    stage = Varchar(length=12, default="")
    posting_id = Integer(null=True, default=None)
    scanned_at = Timestamptz()
    recorded_at = Timestamptz(default=TimestamptzNow())
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=50, default="")
    before_stage = Varchar(length=12, null=True, default=None)
    before_peak = Integer(default=0)
    before_stage_at = Timestamptz(null=True, default=None)
    before_posting_id = Integer(null=True, default=None)
    undone_at = Timestamptz(null=True, default=None)
    undo_of = Integer(null=True, default=None)
