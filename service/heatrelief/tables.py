"""Heat-relief tables: sites, supplies and their ledger, teams and the delivery plan.

Stock balances live in `heatrelief_stock`, one row per item and holder (team 0 is the
warehouse). A balance changes only through services.take_stock / put_stock, and the
table carries a CHECK (balance >= 0) added by hand in a migration (Piccolo cannot
declare one): the conditional write keeps balances exact, the check is the last guard.
"""

from piccolo.columns import (
    Boolean,
    Date,
    DoublePrecision,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

WAREHOUSE = 0  # the holder id of an item's warehouse in Stock.team_id and the ledger


class Site(Table, tablename="heatrelief_site"):
    """A place outdoor workers are reached: a building site, a depot, a rest station."""

    activity_id = Integer(index=True)
    code = Varchar(length=24, unique=True)  # printed on the site's poster
    name = Varchar(length=100)
    site_kind = Varchar(length=24)
    node_id = Integer(index=True)
    district = Varchar(length=60, default="")
    address = Varchar(length=200, default="")
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    contact_name = Varchar(length=50, default="")
    contact_phone = Varchar(length=20, default="")
    head_count = Integer(default=0)
    notes = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Item(Table, tablename="heatrelief_item"):
    """A supply (bottled water, herbal tea…) held by an organisation's warehouse."""

    owner_id = Integer(index=True)  # org node
    owner_path = Varchar(length=255, index=True)
    name = Varchar(length=60)
    unit = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow())


class Stock(Table, tablename="heatrelief_stock"):
    """How much of an item a holder has: the warehouse (team_id 0) or a delivery team."""

    item_id = Integer()
    team_id = Integer(default=WAREHOUSE)
    balance = Integer(default=0)


class LedgerEntry(Table, tablename="heatrelief_ledger"):
    """One stock movement. `from_team` / `to_team` are holders (0: the warehouse), NULL
    where the stock comes from or goes outside (received, delivered, lost)."""

    item_id = Integer(index=True)
    reason = Varchar(length=16)
    quantity = Integer()
    from_team = Integer(null=True, default=None)
    to_team = Integer(null=True, default=None)
    activity_id = Integer(null=True, default=None, index=True)
    delivery_id = Integer(null=True, default=None)
    counted = Integer(null=True, default=None)  # for a count: the number found
    expected = Integer(null=True, default=None)  # for a count: the balance before it
    note = Varchar(length=200, default="")
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=50, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Team(Table, tablename="heatrelief_team"):
    activity_id = Integer(index=True)
    name = Varchar(length=60)


class Delivery(Table, tablename="heatrelief_delivery"):
    """One planned visit of a team to a site: planned → out → delivered, or failed."""

    activity_id = Integer(index=True)
    site_id = Integer(index=True)
    team_id = Integer(index=True)
    planned_date = Date()
    status = Varchar(length=12, default="planned")
    failure_reason = Varchar(length=200, default="")
    delivered_at = Timestamptz(null=True, default=None)  # on the recording phone's clock
    recorded_by = Integer(null=True, default=None)
    recorded_by_name = Varchar(length=50, default="")
    by_hand = Boolean(default=False)  # confirmed without the site's code
    created_at = Timestamptz(default=TimestamptzNow())


class DeliveryLine(Table, tablename="heatrelief_delivery_line"):
    delivery_id = Integer(index=True)
    item_id = Integer()
    planned = Integer(default=0)
    handed = Integer(default=0)


class DeliveryReach(Table, tablename="heatrelief_delivery_reach"):
    """Workers reached by one delivery, a count per worker group (no one's location)."""

    delivery_id = Integer(index=True)
    worker_group = Varchar(length=24)
    reached = Integer(default=0)


class DeliveryScan(Table, tablename="heatrelief_delivery_scan"):
    """Every delivery record sent by a phone, with the answer it got: a repeated client id
    answers the stored result; a second phone confirming a delivered site is flagged."""

    client_id = Varchar(length=64, unique=True)
    delivery_id = Integer(null=True, default=None, index=True)
    activity_id = Integer(null=True, default=None, index=True)
    result = Varchar(length=24)
    flagged = Boolean(default=False)
    detail = Text(default="")  # the quantities and counts sent, as JSON (for the organiser)
    recorder_id = Integer(null=True, default=None)
    recorder_name = Varchar(length=50, default="")
    recorded_at = Timestamptz()  # on the phone's clock
    received_at = Timestamptz(default=TimestamptzNow())


class SiteAcknowledgement(Table, tablename="heatrelief_site_ack"):
    """A worker at a site said "received" from their own phone: counted as a reached
    worker once per member, site and day (a unique index, added by hand in a migration),
    apart from the teams' counts. Only the site is stored, never where the phone was."""

    site_id = Integer(index=True)
    activity_id = Integer(index=True)
    member_id = Integer()
    worker_group = Varchar(length=24, default="")
    day = Date()  # the local day of the acknowledgement
    created_at = Timestamptz(default=TimestamptzNow())


class DeliveryPhoto(Table, tablename="heatrelief_delivery_photo"):
    """The optional photo that proves a delivery: checked to be an image, stored shrunk as
    a JPEG under the data dir (`file` is its name there), one per delivery (the newest)."""

    delivery_id = Integer(unique=True)
    file = Varchar(length=80)
    width = Integer()
    height = Integer()
    size = Integer()  # bytes stored
    uploaded_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WorkerDistrict(Table, tablename="heatrelief_worker_district"):
    """The district (街道) a worker said they work in, picked from the sites' districts, so
    a campaign's page shows that district's sites first. A name only: no location."""

    member_id = Integer(unique=True)
    district = Varchar(length=60)
    picked_at = Timestamptz(default=TimestamptzNow())
