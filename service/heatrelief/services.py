"""Heat-relief deliveries (送清凉): the rules. No HTTP here.

The stock rule, in one place: a balance (the warehouse's or a team's, per item) changes
only through `take_stock` and `put_stock`, inside `db.write_transaction()`. Taking is one
conditional UPDATE (`… AND balance >= :q RETURNING balance`), so no interleaving of
concurrent deliveries, allocations or offline replays can drive a balance below zero; the
table's CHECK (balance >= 0, migration heatrelief_2026_12_04t16_37_13) is the last guard.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec

from service import clock, db, signing
from service.activities import services as activities
from service.activities.schemas import DoorActivity
from service.errors import DomainError, Forbidden, NotFound
from service.heatrelief.schemas import (
    ACK_LABELS,
    DELIVERY_STATUSES,
    MANUAL_REASONS,
    RESULT_LABELS,
    SITE_KINDS,
    AcknowledgementIn,
    AcknowledgementOut,
    DeliveryIn,
    DeliveryLineOut,
    DeliveryOut,
    DeliveryScanIn,
    HolderBalance,
    ItemIn,
    ItemOut,
    LedgerRow,
    MovementIn,
    MovementOut,
    ScanResult,
    SiteIn,
    SiteOut,
    TeamIn,
    TeamMemberOut,
    TeamOut,
)
from service.heatrelief.tables import (
    WAREHOUSE,
    Delivery,
    DeliveryLine,
    DeliveryPhoto,
    DeliveryReach,
    DeliveryScan,
    Item,
    LedgerEntry,
    Site,
    SiteAcknowledgement,
    Stock,
    Team,
    WorkerDistrict,
)
from service.i18n import gettext
from service.orgs import access
from service.orgs import services as orgs
from service.orgs.schemas import WORKER_GROUPS, Actor, NodeOut
from service.scans import points
from service.scans import services as scanning
from service.scans.points import ScanContext
from service.seams import SEAMS

KIND_CODE = "heat_relief"
MAX_LIST = 500
MAX_SITES = 2000


class StockInsufficient(DomainError):
    """A movement would take a balance below zero: 409 with the balance left."""

    def __init__(self, item_id: int, team_id: int, balance: int, item: str, unit: str) -> None:
        super().__init__(
            "stock_insufficient",
            RESULT_LABELS["stock_insufficient"],
            field="quantity",
            item=item,
            balance=balance,
            unit=unit,
        )
        self.item_id = item_id
        self.team_id = team_id
        self.balance = balance

    @property
    def status_code(self) -> int:
        return 409


# --- access -------------------------------------------------------------------------------


def _require_organiser(actor: Actor) -> None:
    if not actor.has("organiser", "admin"):
        raise Forbidden()


async def _campaign(activity_id: int) -> DoorActivity:
    activity = await activities.door_activity(activity_id)
    if activity.kind != KIND_CODE:
        raise NotFound("This activity is not a heat-relief campaign.")
    return activity


async def _managed_campaign(actor: Actor, activity_id: int) -> DoorActivity:
    """The campaign, if the actor organises it (its node's subtree)."""
    _require_organiser(actor)
    activity = await _campaign(activity_id)
    if not actor.reaches(activity.owner_path):
        raise NotFound("There is no such activity.")
    return activity


async def manages(actor: Actor | None, activity_id: int) -> bool:
    if actor is None:
        return False
    try:
        await _managed_campaign(actor, activity_id)
    except DomainError:
        return False
    return True


# A delivery team is a scope (service/orgs/access.py): its members are assignments of
# this role there, and record its deliveries; organisers of the campaign's subtree may
# too, without an assignment.
TEAM_SCOPE = "delivery_team"
TEAM_MEMBER = access.AssignedRole(
    code="delivery_team_member",
    scope_kind=TEAM_SCOPE,
    grants=frozenset({"deliver"}),
    holders=frozenset({"worker", "staff", "organiser", "admin"}),
    managed_by="manage_delivery_team",
)


async def _team_owner_path(team_id: int) -> str | None:
    team = await Team.select(Team.activity_id).where(Team.id == team_id).first()
    if team is None:
        return None
    try:
        return (await _campaign(team["activity_id"])).owner_path
    except DomainError:
        return None


access.register_scope_kind(TEAM_SCOPE, _team_owner_path)
access.register_assigned_role(TEAM_MEMBER)


async def _my_team_ids(actor: Actor) -> set[int]:
    if actor.member_id is None:
        return set()
    return set(await orgs.assigned_scope_ids(actor.member_id, TEAM_MEMBER.code))


async def _may_record(actor: Actor, delivery: Mapping[str, Any]) -> bool:
    owner_path = (await _campaign(delivery["activity_id"])).owner_path
    scope = access.Scope(TEAM_SCOPE, delivery["team_id"], owner_path)
    return await access.may(actor, "deliver", scope)


# --- sites --------------------------------------------------------------------------------


def _clean_text(raw: str, field: str, message: str, *, required: bool = False) -> str:
    text = " ".join((raw or "").split())
    if required and not text:
        raise DomainError("validation_error", message, field=field)
    return text


def _new_site_code() -> str:
    # 60 random bits in base32: printed on the site's poster, not guessable.
    return "HR" + secrets.token_hex(8).upper()[:12]


async def create_site(actor: Actor, activity_id: int, data: SiteIn) -> SiteOut:
    await _managed_campaign(actor, activity_id)
    name = _clean_text(data.name, "name", "Give the site a name.", required=True)
    if data.kind not in SITE_KINDS:
        raise DomainError("validation_error", "Choose a kind of site from the list.", field="kind")
    node = await orgs.node_by_code(data.node)
    if not actor.reaches(node.path):
        raise DomainError(
            "validation_error", "Choose an organisation you look after.", field="node"
        )
    if (data.latitude is None) != (data.longitude is None):
        raise DomainError(
            "validation_error", "Give both latitude and longitude, or neither.", field="latitude"
        )
    phone = data.contact_phone.strip()
    if phone:
        try:
            phone = orgs.normalise_phone(phone)
        except DomainError as error:
            raise DomainError("validation_error", error.message, field="contact_phone") from error
    count = await Site.count().where(Site.activity_id == activity_id).run()
    if count >= MAX_SITES:
        raise DomainError("validation_error", "This campaign has as many sites as it can hold.")
    async with db.write_transaction():
        row = (
            await Site.insert(
                Site(
                    activity_id=activity_id,
                    code=_new_site_code(),
                    name=name,
                    site_kind=data.kind,
                    node_id=node.id,
                    district=_clean_text(data.district, "district", ""),
                    address=_clean_text(data.address, "address", ""),
                    latitude=data.latitude,
                    longitude=data.longitude,
                    contact_name=_clean_text(data.contact_name, "contact_name", ""),
                    contact_phone=phone,
                    head_count=data.head_count,
                    notes=(data.notes or "").strip(),
                )
            )
            .returning(Site.id)
            .run()
        )
    return (await _sites_out([row[0]["id"]]))[0]


async def _sites_out(site_ids: Sequence[int]) -> list[SiteOut]:
    rows = await Site.select().where(Site.id.is_in(list(site_ids) or [0])).run()
    return await _site_rows_out(rows)


async def _site_rows_out(
    rows: list[dict[str, Any]], nodes: Mapping[int, NodeOut] | None = None
) -> list[SiteOut]:
    if nodes is None:
        nodes = {node.id: node for node in await orgs.list_nodes("/")} if rows else {}
    out = []
    for row in rows:
        node = nodes.get(row["node_id"])
        out.append(
            SiteOut(
                id=row["id"],
                activity_id=row["activity_id"],
                code=row["code"],
                name=row["name"],
                kind=row["site_kind"],
                node_code=node.code if node else "",
                node_name=node.name if node else "",
                district=row["district"],
                address=row["address"],
                latitude=row["latitude"],
                longitude=row["longitude"],
                contact_name=row["contact_name"],
                contact_phone_masked=orgs.mask_phone(row["contact_phone"])
                if row["contact_phone"]
                else "",
                head_count=row["head_count"],
                notes=row["notes"],
            )
        )
    return out


async def list_sites(actor: Actor, activity_id: int) -> list[SiteOut]:
    await _managed_campaign(actor, activity_id)
    rows = (
        await Site.select()
        .where(Site.activity_id == activity_id)
        .order_by(Site.district)
        .order_by(Site.name)
        .limit(MAX_SITES)
        .run()
    )
    return await _site_rows_out(rows)


# A site poster's QR: a typed signed code (service/signing.py), so a phone can check it
# offline and a forged, altered or foreign code (a ticket) is told apart. The tag is
# written in every printed poster: never reuse it.
SITE_POSTER = signing.register_code_type("site_poster", tag=4, fields=("site_id", "activity_id"))


def poster_code(site: SiteOut) -> str:
    """What a site's poster QR holds: the site and its campaign, signed."""
    return signing.sign(SITE_POSTER.name, site_id=site.id, activity_id=site.activity_id)


async def posters(
    actor: Actor, activity_id: int, site_id: int | None = None
) -> list[tuple[SiteOut, str, bytes]]:
    """Each site's poster (one site, or every site of the campaign): the site, its code
    and the code's QR as SVG."""
    from service.tickets import services as tickets

    sites = await list_sites(actor, activity_id)
    if site_id is not None:
        sites = [site for site in sites if site.id == site_id]
        if not sites:
            raise NotFound("There is no such site.")
    return [(site, poster_code(site), tickets.qr_svg(poster_code(site))) for site in sites]


@dataclass(frozen=True)
class Vicinity:
    """What the app knows of where a worker works, to put a campaign's nearest sites first.
    No location is asked for or kept: the district is one the worker picked from the sites'
    districts, else the one most of their own organisation's sites in the campaign are in;
    `source` says which ("picked", "organisation"), None when neither is known."""

    district: str | None
    source: str | None
    actor: Actor


def _own_district(sites: Sequence[SiteOut], node_id: int | None, nodes: Mapping[int, Any]) -> str:
    """The district most of the campaign's sites of the worker's own node are in ("" when
    none is): a sanitation worker's depot, a rider's station."""
    node = nodes.get(node_id) if node_id is not None else None
    counts: dict[str, int] = {}
    for site in sites:
        if node is not None and site.node_code == node.code and site.district:
            counts[site.district] = counts.get(site.district, 0) + 1
    return min(counts, key=lambda district: (-counts[district], district)) if counts else ""


def nearest_first(
    sites: Sequence[SiteOut],
    visits: Mapping[int, list[dict[str, str]]],
    vicinity: Vicinity,
    node_paths: Mapping[str, str],
    today: date,
) -> list[SiteOut]:
    """A campaign's sites for one worker: those in the worker's district first, then the
    rest by how much of the organisation tree their node shares with the worker's (the
    same union, then the same federation), each group by when it is next planned, then in
    route order. With no district known: every site by when it is next planned."""
    route_index = {site.id: index for index, site in enumerate(route_order(sites))}

    def next_planned(site: SiteOut) -> tuple[int, str]:
        coming = [
            v["date"]
            for v in visits.get(site.id, [])
            if v["status"] in ("planned", "out") and v["date"] >= today.isoformat()
        ]
        return (0, min(coming)) if coming else (1, "")

    if vicinity.district is None:
        return sorted(sites, key=lambda site: (next_planned(site), route_index[site.id]))
    return sorted(
        sites,
        key=lambda site: (
            site.district != vicinity.district,
            -orgs.tree_nearness(vicinity.actor, node_paths.get(site.node_code, "/")),
            next_planned(site),
            route_index[site.id],
        ),
    )


async def campaign_summaries(
    activity_ids: Sequence[int], sites_shown: int, viewer: Actor | None = None
) -> dict[int, dict[str, Any]]:
    """Each campaign's sites for its activity page (no contacts), with the dates each is
    planned for, and how many there are: the first `sites_shown` in route order, or, for a
    `viewer`, nearest the viewer first (`nearest_first`), with the district used and where
    it came from. A fixed number of reads whatever the number of campaigns and sites."""
    ids = list(activity_ids) or [0]
    rows = await Site.select().where(Site.activity_id.is_in(ids)).run()
    plans = await Delivery.select(Delivery.site_id, Delivery.planned_date, Delivery.status).where(
        Delivery.activity_id.is_in(ids)
    )
    visits: dict[int, list[dict[str, str]]] = {}
    for plan in sorted(plans, key=lambda plan: plan["planned_date"]):
        visits.setdefault(plan["site_id"], []).append(
            {"date": plan["planned_date"].isoformat(), "status": plan["status"]}
        )
    nodes = {node.id: node for node in await orgs.list_nodes("/")} if rows else {}
    node_paths = {node.code: node.path for node in nodes.values()}
    sites = await _site_rows_out(rows, nodes)
    picked = await picked_district(viewer) if viewer is not None else None
    today = clock.now().astimezone(_zone()).date()
    out: dict[int, dict[str, Any]] = {}
    for activity_id in activity_ids:
        campaign = [site for site in sites if site.activity_id == activity_id]
        near: dict[str, Any] = {}
        if viewer is None:
            mine = route_order(campaign)
        else:
            own = _own_district(campaign, viewer.node_id, nodes)
            vicinity = Vicinity(
                district=picked or own or None,
                source="picked" if picked else "organisation" if own else None,
                actor=viewer,
            )
            mine = nearest_first(campaign, visits, vicinity, node_paths, today)
            near = {
                "district": vicinity.district,
                "source": vicinity.source,
                "districts": sorted({site.district for site in campaign if site.district}),
                "in_district": sum(1 for site in campaign if site.district == vicinity.district),
            }
        out[activity_id] = {
            "site_count": len(mine),
            "sites": [
                {
                    "name": site.name,
                    "kind": site.kind,
                    "district": site.district,
                    "address": site.address,
                    "visits": visits.get(site.id, []),
                }
                for site in mine[:sites_shown]
            ],
            **({"near": near} if viewer is not None else {}),
        }
    return out


async def picked_district(actor: Actor) -> str | None:
    """The district the worker picked, if any."""
    if actor.member_id is None:
        return None
    row = (
        await WorkerDistrict.select(WorkerDistrict.district)
        .where(WorkerDistrict.member_id == actor.member_id)
        .first()
        .run()
    )
    return row["district"] if row else None


async def pick_district(actor: Actor, district: str) -> None:
    """The worker says which district they work in (one of the sites' districts), or
    clears it with an empty one; only a name is kept."""
    if actor.member_id is None:
        raise Forbidden()
    name = district.strip()
    if name and (len(name) > 60 or not await Site.count().where(Site.district == name).run()):
        raise DomainError(
            "validation_error", "Choose your district from the list.", field="district"
        )
    async with db.write_transaction():
        await WorkerDistrict.delete().where(WorkerDistrict.member_id == actor.member_id)
        if name:
            await WorkerDistrict.insert(
                WorkerDistrict(member_id=actor.member_id, district=name)
            ).run()


async def copy_sites(source_id: int, target_id: int) -> None:
    """A duplicated campaign starts with the same sites (new poster codes), no plan."""
    rows = await Site.select().where(Site.activity_id == source_id).run()
    async with db.write_transaction():
        for row in rows:
            values = {k: v for k, v in row.items() if k not in ("id", "code", "created_at")}
            await Site.insert(
                Site(**(values | {"activity_id": target_id, "code": _new_site_code()}))
            ).run()


def route_order(sites: Sequence[SiteOut]) -> list[SiteOut]:
    """A walking order for a day's sites: those with coordinates by nearest neighbour from
    the westernmost, then the rest by district and address."""
    located = [site for site in sites if site.latitude is not None and site.longitude is not None]
    others = sorted(
        (site for site in sites if site.latitude is None or site.longitude is None),
        key=lambda site: (site.district, site.address, site.name, site.id),
    )
    ordered: list[SiteOut] = []
    remaining = sorted(located, key=lambda site: (site.longitude, site.latitude, site.id))
    while remaining:
        current = remaining.pop(0) if not ordered else _nearest(ordered[-1], remaining)
        if ordered:
            remaining.remove(current)
        ordered.append(current)
    return ordered + others


def _nearest(origin: SiteOut, candidates: Sequence[SiteOut]) -> SiteOut:
    def distance(site: SiteOut) -> float:
        assert origin.latitude is not None and origin.longitude is not None
        assert site.latitude is not None and site.longitude is not None
        # Equirectangular: exact enough across one county, and cheap.
        x = math.radians(site.longitude - origin.longitude) * math.cos(
            math.radians((site.latitude + origin.latitude) / 2)
        )
        y = math.radians(site.latitude - origin.latitude)
        return x * x + y * y

    return min(candidates, key=lambda site: (distance(site), site.id))


# --- supplies and the ledger --------------------------------------------------------------


async def create_item(actor: Actor, data: ItemIn) -> ItemOut:
    _require_organiser(actor)
    name = _clean_text(data.name, "name", "Name the supply.", required=True)
    unit = _clean_text(data.unit, "unit", "Give the unit it is counted in.", required=True)
    node = await orgs.node_for_path(actor.node_path) if actor.node_path != "/" else None
    if node is None:
        node = await orgs.root_node()
    async with db.write_transaction():
        row = (
            await Item.insert(Item(owner_id=node.id, owner_path=node.path, name=name, unit=unit))
            .returning(Item.id)
            .run()
        )
        item_id = row[0]["id"]
        await Stock.insert(Stock(item_id=item_id, team_id=WAREHOUSE, balance=0)).run()
    return (await _items_out([item_id]))[0]


async def _item_row(actor: Actor, item_id: int) -> dict[str, Any]:
    _require_organiser(actor)
    row = await Item.select().where(Item.id == item_id).first().run()
    if row is None or not actor.reaches(row["owner_path"]):
        raise NotFound("There is no such supply.")
    return row


async def _team_names(team_ids: Iterable[int]) -> dict[int, str]:
    ids = [team_id for team_id in set(team_ids) if team_id != WAREHOUSE]
    rows = await Team.select(Team.id, Team.name).where(Team.id.is_in(ids or [0])).run()
    return {row["id"]: row["name"] for row in rows}


async def _balances(item_ids: Sequence[int]) -> dict[int, list[HolderBalance]]:
    rows = await Stock.select().where(Stock.item_id.is_in(list(item_ids) or [0])).run()
    names = await _team_names(row["team_id"] for row in rows)
    out: dict[int, list[HolderBalance]] = {}
    for row in sorted(rows, key=lambda row: (row["item_id"], row["team_id"])):
        out.setdefault(row["item_id"], []).append(
            HolderBalance(
                team_id=row["team_id"],
                team_name=names.get(row["team_id"], ""),
                balance=row["balance"],
            )
        )
    return out


async def _items_out(item_ids: Sequence[int]) -> list[ItemOut]:
    rows = await Item.select().where(Item.id.is_in(list(item_ids) or [0])).order_by(Item.id).run()
    balances = await _balances([row["id"] for row in rows])
    nodes = {node.id: node.code for node in await orgs.list_nodes("/")} if rows else {}
    out = []
    for row in rows:
        held = balances.get(row["id"], [])
        out.append(
            ItemOut(
                id=row["id"],
                name=row["name"],
                unit=row["unit"],
                owner_code=nodes.get(row["owner_id"], ""),
                warehouse=sum(h.balance for h in held if h.team_id == WAREHOUSE),
                balances=held,
            )
        )
    return out


async def list_items(actor: Actor) -> list[ItemOut]:
    _require_organiser(actor)
    rows = (
        await Item.select(Item.id)
        .where(Item.owner_path.like(f"{actor.node_path}%"))
        .order_by(Item.id)
        .limit(MAX_LIST)
        .run()
    )
    return await _items_out([row["id"] for row in rows])


async def get_item(actor: Actor, item_id: int) -> ItemOut:
    await _item_row(actor, item_id)
    return (await _items_out([item_id]))[0]


async def take_stock(item_id: int, team_id: int, quantity: int) -> int:
    """Inside write_transaction(): take `quantity` from a holder, or raise StockInsufficient.
    The condition is part of the write: there is no read a concurrent writer could stale."""
    assert quantity > 0
    if SEAMS.conditional_stock_write:
        rows = await db.run_sql(
            "UPDATE heatrelief_stock SET balance = balance - {} "
            "WHERE item_id = {} AND team_id = {} AND balance >= {} RETURNING balance",
            quantity,
            item_id,
            team_id,
            quantity,
        )
    else:  # the control run: the check was a read made earlier (see _precheck_stock)
        rows = await db.run_sql(
            "UPDATE heatrelief_stock SET balance = balance - {} "
            "WHERE item_id = {} AND team_id = {} RETURNING balance",
            quantity,
            item_id,
            team_id,
        )
    if rows:
        return int(rows[0]["balance"])
    raise await _insufficient(item_id, team_id)


async def put_stock(item_id: int, team_id: int, quantity: int) -> int:
    """Inside write_transaction(): add `quantity` to a holder (its row made if new)."""
    assert quantity > 0
    rows = await db.run_sql(
        "INSERT INTO heatrelief_stock (item_id, team_id, balance) VALUES ({}, {}, {}) "
        "ON CONFLICT (item_id, team_id) DO UPDATE "
        "SET balance = heatrelief_stock.balance + excluded.balance RETURNING balance",
        item_id,
        team_id,
        quantity,
    )
    return int(rows[0]["balance"])


BALANCE = "SELECT balance FROM heatrelief_stock WHERE item_id = {} AND team_id = {}"
BALANCE_FOR_UPDATE = BALANCE + " FOR UPDATE"


async def balance_of(item_id: int, team_id: int) -> int:
    # Inside a transaction on PostgreSQL the row is locked until it ends (a count reads,
    # then moves the difference); SQLite's writes are serialised already.
    locked = db.is_postgres() and db.engine().current_transaction.get() is not None
    rows = await db.run_sql(BALANCE_FOR_UPDATE if locked else BALANCE, item_id, team_id)
    return int(rows[0]["balance"]) if rows else 0


async def _insufficient(item_id: int, team_id: int) -> StockInsufficient:
    item = await Item.select(Item.name, Item.unit).where(Item.id == item_id).first().run()
    return StockInsufficient(
        item_id,
        team_id,
        await balance_of(item_id, team_id),
        item["name"] if item else str(item_id),
        item["unit"] if item else "",
    )


async def _team_row(team_id: int) -> dict[str, Any]:
    row = await Team.select().where(Team.id == team_id).first().run()
    if row is None:
        raise DomainError("validation_error", "There is no such team.", field="team_id")
    return row


async def record_movement(actor: Actor, item_id: int, data: MovementIn) -> MovementOut:
    """A movement an organiser records: received into the warehouse, issued to a team,
    returned by a team, lost or damaged, or a count of what a holder really has."""
    item = await _item_row(actor, item_id)
    if data.reason not in MANUAL_REASONS:
        raise DomainError(
            "validation_error",
            "Choose received, issued, returned, lost or counted; "
            "deliveries are recorded by the team.",
            field="reason",
        )
    team_id = data.team_id or WAREHOUSE
    activity_id = None
    if team_id != WAREHOUSE:
        team = await _team_row(team_id)
        await _managed_campaign(actor, team["activity_id"])
        activity_id = team["activity_id"]
    if data.reason in ("issued", "returned") and team_id == WAREHOUSE:
        raise DomainError("validation_error", "Choose the team.", field="team_id")
    if data.reason == "received" and team_id != WAREHOUSE:
        raise DomainError(
            "validation_error", "Supplies are received into the warehouse.", field="team_id"
        )
    if data.reason != "counted" and data.quantity <= 0:
        raise DomainError("validation_error", "Enter a quantity above zero.", field="quantity")
    entry: dict[str, Any] = {
        "item_id": item_id,
        "reason": data.reason,
        "quantity": data.quantity,
        "activity_id": activity_id,
        "note": _clean_text(data.note, "note", ""),
        "actor_id": actor.member_id,
        "actor_name": actor.name[:50],
    }
    matches = None
    async with db.write_transaction():
        if data.reason == "received":
            await put_stock(item_id, WAREHOUSE, data.quantity)
            entry |= {"to_team": WAREHOUSE}
        elif data.reason == "issued":
            await take_stock(item_id, WAREHOUSE, data.quantity)
            await put_stock(item_id, team_id, data.quantity)
            entry |= {"from_team": WAREHOUSE, "to_team": team_id}
        elif data.reason == "returned":
            await take_stock(item_id, team_id, data.quantity)
            await put_stock(item_id, WAREHOUSE, data.quantity)
            entry |= {"from_team": team_id, "to_team": WAREHOUSE}
        elif data.reason == "lost":
            await take_stock(item_id, team_id, data.quantity)
            entry |= {"from_team": team_id}
        else:
            expected = await balance_of(item_id, team_id)
            difference = data.quantity - expected
            matches = difference == 0
            if difference < 0:
                await take_stock(item_id, team_id, -difference)
                entry |= {"from_team": team_id}
            elif difference > 0:
                await put_stock(item_id, team_id, difference)
                entry |= {"to_team": team_id}
            else:
                entry |= {"from_team": team_id, "to_team": team_id}
            entry |= {"quantity": abs(difference), "counted": data.quantity, "expected": expected}
        row = await LedgerEntry.insert(LedgerEntry(**entry)).returning(LedgerEntry.id).run()
    saved = await LedgerEntry.select().where(LedgerEntry.id == row[0]["id"]).first().run()
    assert saved is not None
    return MovementOut(
        entry=_ledger_row(saved),
        balances=(await _balances([item["id"]])).get(item["id"], []),
        matches=matches,
    )


def _ledger_row(row: Mapping[str, Any]) -> LedgerRow:
    return LedgerRow(
        id=row["id"],
        item_id=row["item_id"],
        reason=row["reason"],
        quantity=row["quantity"],
        from_team=row["from_team"],
        to_team=row["to_team"],
        delivery_id=row["delivery_id"],
        counted=row["counted"],
        expected=row["expected"],
        note=row["note"],
        actor_name=row["actor_name"],
        created_at=row["created_at"],
    )


async def ledger(actor: Actor, item_id: int) -> list[LedgerRow]:
    """An item's movements, newest first."""
    await _item_row(actor, item_id)
    rows = (
        await LedgerEntry.select()
        .where(LedgerEntry.item_id == item_id)
        .order_by(LedgerEntry.id, ascending=False)
        .limit(MAX_LIST)
        .run()
    )
    return [_ledger_row(row) for row in rows]


# --- teams --------------------------------------------------------------------------------


async def _member_phones(phones: Sequence[str]) -> list[str]:
    """The members' phones, checked (a clear message beside the field), once each."""
    found: dict[int, str] = {}
    for raw in phones:
        try:
            phone = orgs.normalise_phone(raw)
        except DomainError as error:
            raise DomainError("validation_error", error.message, field="member_phones") from error
        member_id = await orgs.member_id_for_phone(phone)
        if member_id is None:
            raise DomainError(
                "validation_error",
                "No member has the phone number %(phone)s.",
                field="member_phones",
                phone=orgs.mask_phone(phone),
            )
        found.setdefault(member_id, phone)
    return list(found.values())


async def _assign(actor: Actor, team_id: int, phone: str) -> None:
    try:
        await orgs.assign(actor, TEAM_MEMBER.code, team_id, phone)
    except DomainError as error:
        if error.code == "duplicate_assignment":
            return  # already in the team: adding again changes nothing
        raise DomainError(error.code, error.message, field="member_phones") from error


async def create_team(actor: Actor, activity_id: int, data: TeamIn) -> TeamOut:
    await _managed_campaign(actor, activity_id)
    name = _clean_text(data.name, "name", "Give the team a name.", required=True)
    phones = await _member_phones(data.member_phones)
    async with db.write_transaction():  # the team and its members, or nothing
        row = await Team.insert(Team(activity_id=activity_id, name=name)).returning(Team.id).run()
        team_id = row[0]["id"]
        for phone in phones:
            await _assign(actor, team_id, phone)
    return (await _teams_out([team_id]))[0]


async def add_team_member(actor: Actor, team_id: int, phone: str) -> TeamOut:
    team = await _team_row(team_id)
    await _managed_campaign(actor, team["activity_id"])
    (checked,) = await _member_phones([phone])
    await _assign(actor, team_id, checked)
    return (await _teams_out([team_id]))[0]


async def remove_team_member(actor: Actor, team_id: int, member_id: int) -> None:
    team = await _team_row(team_id)
    await _managed_campaign(actor, team["activity_id"])
    await orgs.unassign(actor, TEAM_MEMBER.code, team_id, member_id)


async def _teams_out(team_ids: Sequence[int]) -> list[TeamOut]:
    teams = await Team.select().where(Team.id.is_in(list(team_ids) or [0])).order_by(Team.id)
    return [
        TeamOut(
            id=team["id"],
            activity_id=team["activity_id"],
            name=team["name"],
            members=[
                TeamMemberOut(**card) for card in await orgs.assignees(TEAM_MEMBER.code, team["id"])
            ],
        )
        for team in teams
    ]


async def list_teams(actor: Actor, activity_id: int) -> list[TeamOut]:
    await _managed_campaign(actor, activity_id)
    rows = await Team.select(Team.id).where(Team.activity_id == activity_id).order_by(Team.id)
    return await _teams_out([row["id"] for row in rows])


async def reachable_teams(actor: Actor) -> list[TeamOut]:
    """Every team of the campaigns the actor organises (the supplies page issues to them)."""
    _require_organiser(actor)
    rows = await Team.select(Team.id, Team.activity_id).order_by(Team.id).limit(MAX_LIST)
    managed = {
        activity_id
        for activity_id in {row["activity_id"] for row in rows}
        if await manages(actor, activity_id)
    }
    return await _teams_out([row["id"] for row in rows if row["activity_id"] in managed])


# --- the plan -----------------------------------------------------------------------------


async def plan_delivery(actor: Actor, activity_id: int, data: DeliveryIn) -> DeliveryOut:
    await _managed_campaign(actor, activity_id)
    site = await Site.select(Site.activity_id).where(Site.id == data.site_id).first().run()
    if site is None or site["activity_id"] != activity_id:
        raise DomainError("validation_error", "Choose a site of this campaign.", field="site_id")
    team = await Team.select(Team.activity_id).where(Team.id == data.team_id).first().run()
    if team is None or team["activity_id"] != activity_id:
        raise DomainError("validation_error", "Choose a team of this campaign.", field="team_id")
    lines: dict[int, int] = {}
    for line in data.items:
        if line.quantity > 0:
            lines[line.item_id] = lines.get(line.item_id, 0) + line.quantity
    if lines:
        known = await Item.select(Item.id, Item.owner_path).where(Item.id.is_in(list(lines)))
        reachable = {row["id"] for row in known if actor.reaches(row["owner_path"])}
        if set(lines) - reachable:
            raise DomainError("validation_error", "Choose supplies from the list.", field="items")
    async with db.write_transaction():
        row = (
            await Delivery.insert(
                Delivery(
                    activity_id=activity_id,
                    site_id=data.site_id,
                    team_id=data.team_id,
                    planned_date=data.planned_date,
                )
            )
            .returning(Delivery.id)
            .run()
        )
        delivery_id = row[0]["id"]
        for item_id, quantity in lines.items():
            await DeliveryLine.insert(
                DeliveryLine(delivery_id=delivery_id, item_id=item_id, planned=quantity)
            ).run()
    return (await _deliveries_out([delivery_id], poster_codes=True))[0]


async def _deliveries_out(
    delivery_ids: Sequence[int], *, poster_codes: bool = False
) -> list[DeliveryOut]:
    """Deliveries as their readers see them. The site's short code proves a team was at the
    site (it is printed on the poster there), so it is left out unless `poster_codes` (an
    organiser's plan); a team's phone gets its hash to check a typed code offline."""
    ids = list(delivery_ids) or [0]
    rows = await Delivery.select().where(Delivery.id.is_in(ids)).run()
    by_id = {row["id"]: row for row in rows}
    sites = {site.id: site for site in await _sites_out(sorted({r["site_id"] for r in rows}))}
    teams = await _team_names(row["team_id"] for row in rows)
    lines = await DeliveryLine.select().where(DeliveryLine.delivery_id.is_in(ids)).run()
    items = {
        row["id"]: row
        for row in await Item.select(Item.id, Item.name, Item.unit).where(
            Item.id.is_in(sorted({line["item_id"] for line in lines}) or [0])
        )
    }
    reach = await DeliveryReach.select().where(DeliveryReach.delivery_id.is_in(ids)).run()
    flags = await DeliveryScan.select(DeliveryScan.delivery_id).where(
        DeliveryScan.delivery_id.is_in(ids) & (DeliveryScan.flagged == True)  # noqa: E712
    )
    out = []
    for delivery_id in delivery_ids:
        row = by_id.get(delivery_id)
        if row is None or row["site_id"] not in sites:
            continue
        out.append(
            DeliveryOut(
                id=row["id"],
                activity_id=row["activity_id"],
                site=sites[row["site_id"]]
                if poster_codes
                else msgspec.structs.replace(sites[row["site_id"]], code=""),
                site_code_hash=hashlib.sha256(sites[row["site_id"]].code.encode()).hexdigest(),
                team_id=row["team_id"],
                team_name=teams.get(row["team_id"], ""),
                planned_date=row["planned_date"],
                status=row["status"],
                failure_reason=row["failure_reason"],
                delivered_at=row["delivered_at"],
                by_hand=row["by_hand"],
                lines=[
                    DeliveryLineOut(
                        item_id=line["item_id"],
                        item_name=items.get(line["item_id"], {}).get("name", ""),
                        unit=items.get(line["item_id"], {}).get("unit", ""),
                        planned=line["planned"],
                        handed=line["handed"],
                    )
                    for line in sorted(lines, key=lambda line: line["item_id"])
                    if line["delivery_id"] == row["id"]
                ],
                reached={
                    entry["worker_group"]: entry["reached"]
                    for entry in reach
                    if entry["delivery_id"] == row["id"]
                },
                flagged=sum(1 for flag in flags if flag["delivery_id"] == row["id"]),
            )
        )
    return out


async def list_deliveries(
    actor: Actor, activity_id: int, *, status: str | None = None
) -> list[DeliveryOut]:
    await _managed_campaign(actor, activity_id)
    query = Delivery.select(Delivery.id).where(Delivery.activity_id == activity_id)
    if status in DELIVERY_STATUSES:
        query = query.where(Delivery.status == status)
    rows = await query.order_by(Delivery.planned_date).order_by(Delivery.id).limit(MAX_SITES)
    return await _deliveries_out([row["id"] for row in rows], poster_codes=True)


async def _delivery_row(delivery_id: int) -> dict[str, Any] | None:
    return await Delivery.select().where(Delivery.id == delivery_id).first().run()


async def get_delivery(actor: Actor, delivery_id: int) -> DeliveryOut:
    row = await _delivery_row(delivery_id)
    if row is None or not await _may_record(actor, row):
        raise NotFound("There is no such delivery.")
    return (await _deliveries_out([delivery_id]))[0]


async def set_out(actor: Actor, delivery_id: int) -> DeliveryOut:
    """The team has set off with its allocation: planned → out."""
    row = await _delivery_row(delivery_id)
    if row is None or not await _may_record(actor, row):
        raise NotFound("There is no such delivery.")
    async with db.write_transaction():
        moved = await db.run_sql(
            "UPDATE heatrelief_delivery SET status = 'out' "
            "WHERE id = {} AND status = 'planned' RETURNING id",
            delivery_id,
        )
    if not moved and row["status"] != "out":
        raise DomainError("conflict", "Only a planned delivery can set out.")
    return (await _deliveries_out([delivery_id]))[0]


async def fail_delivery(actor: Actor, delivery_id: int, reason: str) -> DeliveryOut:
    row = await _delivery_row(delivery_id)
    if row is None or not await _may_record(actor, row):
        raise NotFound("There is no such delivery.")
    reason = _clean_text(reason, "reason", "Say why the delivery failed.", required=True)[:200]
    async with db.write_transaction():
        moved = await db.run_sql(
            "UPDATE heatrelief_delivery SET status = 'failed', failure_reason = {} "
            "WHERE id = {} AND status IN ('planned', 'out') RETURNING id",
            reason,
            delivery_id,
        )
    if not moved:
        raise DomainError("conflict", "Only a planned delivery, or one out, can fail.")
    return (await _deliveries_out([delivery_id]))[0]


async def todays_deliveries(actor: Actor, day: date | None = None) -> list[DeliveryOut]:
    """A team member's deliveries of the day, in route order."""
    team_ids = await _my_team_ids(actor)
    if not team_ids:
        return []
    day = day or clock.now().astimezone(_zone()).date()
    rows = await Delivery.select(Delivery.id).where(
        Delivery.team_id.is_in(sorted(team_ids)) & (Delivery.planned_date == day)
    )
    deliveries = await _deliveries_out([row["id"] for row in rows])
    order = {site.id: index for index, site in enumerate(route_order([d.site for d in deliveries]))}
    return sorted(deliveries, key=lambda delivery: (order[delivery.site.id], delivery.id))


def _zone() -> Any:
    from service.settings import get_settings

    return get_settings().zone


# --- recording deliveries (online, or replayed from an offline phone) ---------------------


def _result(
    scan: DeliveryScanIn,
    result: str,
    *,
    flagged: bool = False,
    short: StockInsufficient | None = None,
) -> ScanResult:
    return ScanResult(
        client_id=scan.client_id,
        delivery_id=scan.delivery_id,
        result=result,
        message=gettext(RESULT_LABELS[result], **(short.params if short else {})),
        flagged=flagged,
        item_id=short.item_id if short else None,
        balance=short.balance if short else None,
    )


def _parse_counts(
    raw: Mapping[str, int], *, keys: Iterable[str] | None = None
) -> dict[str, int] | None:
    allowed = set(keys) if keys is not None else None
    out: dict[str, int] = {}
    for key, value in raw.items():
        if value < 0:
            return None
        if allowed is not None and key not in allowed:
            return None
        if allowed is None and not key.isdigit():
            return None
        if value:
            out[key] = value
    return out


SHORT_CODE = re.compile(r"[A-Z0-9]{1,24}")  # Site.code: "HR" and 12 hex digits


async def _poster_site(raw: str) -> tuple[int, int] | str:
    """The site and campaign a poster's code names, or the refusal (invalid_code,
    wrong_code_type). The QR holds the signed code; the short code printed under it may be
    typed by hand instead."""
    code = raw.strip()
    try:
        signed = signing.verify(code, SITE_POSTER.name)
        return signed.fields["site_id"], signed.fields["activity_id"]
    except signing.WrongCodeType:
        return "wrong_code_type"
    except signing.BadCode:
        typed = code.upper()
        # Only what a short code can be reaches the database (a NUL byte, say, is an
        # error on PostgreSQL, not a miss).
        if not SHORT_CODE.fullmatch(typed):
            return "invalid_code"
        site = await Site.select(Site.id, Site.activity_id).where(Site.code == typed).first()
        if site is None:
            return "invalid_code"
        return site["id"], site["activity_id"]


async def _site_check(scan: DeliveryScanIn, delivery: Mapping[str, Any]) -> str | None:
    """The poster's code against the delivery's site; None when it matches."""
    named = await _poster_site(scan.site_code or "")
    if isinstance(named, str):
        return named
    site_id, activity_id = named
    if activity_id != delivery["activity_id"]:
        return "wrong_activity"
    if site_id != delivery["site_id"]:
        return "wrong_site"
    return None


async def _answer_of(record_id: int) -> ScanResult:
    """The answer a recorded delivery scan was given, rebuilt from its row (a replay)."""
    row = await DeliveryScan.select().where(DeliveryScan.id == record_id).first()
    assert row is not None
    detail = json.loads(row["detail"] or "{}")
    return ScanResult(
        client_id=row["client_id"],
        delivery_id=row["delivery_id"],
        result=row["result"],
        message=gettext(
            RESULT_LABELS.get(row["result"], RESULT_LABELS["invalid"]),
            **detail.get("short_params", {}),
        ),
        flagged=row["flagged"],
        item_id=detail.get("short_item"),
        balance=detail.get("short_balance"),
    )


# --- the delivery site as a scan point (service/scans) ------------------------------------

DELIVERY_SITE = "delivery_site"


@dataclass(frozen=True)
class _Sent:
    """A delivery record as a scan's payload."""

    scan: DeliveryScanIn


@dataclass(frozen=True)
class _Reading:
    delivery: dict[str, Any]
    refusal: str | None  # invalid, invalid_code, wrong_code_type, wrong_site, wrong_activity
    quantities: dict[str, int]
    reached: dict[str, int]
    sent: DeliveryScanIn


@dataclass(frozen=True)
class _Verdict:
    result: str  # "deliver", or the refusal to record


class DeliverySitePoint:
    """A delivery site (point id: the site's id); one scan is one delivery record. Its
    refusals are kept too, so a resent record gets the same answer."""

    code = DELIVERY_SITE
    duplicate_results = frozenset({"already_delivered"})
    logs_client_ids = False

    async def read(self, scan: ScanContext, payload: _Sent) -> _Reading | None:
        # Read when its turn comes: an earlier record of the batch may have changed it.
        delivery = await _delivery_row(payload.scan.delivery_id)
        if delivery is None:
            return None
        sent = payload.scan
        quantities = _parse_counts(sent.quantities)
        reached = _parse_counts(sent.reached, keys=WORKER_GROUPS)
        refusal = None
        if quantities is None or reached is None:
            refusal = "invalid"
        elif sent.site_code:
            refusal = await _site_check(sent, delivery)
        elif not sent.by_hand_reason.strip():
            refusal = "invalid"
        if refusal is None and not SEAMS.conditional_stock_write:
            # The control run: checked by this read, before the write (which then takes
            # unconditionally); a shortfall here raises out of the scan.
            await _precheck_stock(delivery["team_id"], quantities or {})
        return _Reading(delivery, refusal, quantities or {}, reached or {}, sent)

    def is_open(self, reading: _Reading) -> bool:
        return True

    def decide(self, scan: ScanContext, reading: _Reading) -> _Verdict:
        if reading.refusal is not None:
            return _Verdict(reading.refusal)
        if reading.delivery["status"] == "delivered":
            return _Verdict("already_delivered")
        if reading.delivery["status"] == "failed":
            return _Verdict("delivery_failed")
        return _Verdict("deliver")

    async def record(
        self, scan: ScanContext, reading: _Reading, verdict: _Verdict
    ) -> tuple[int, ScanResult]:
        result, short = verdict.result, None
        if result == "deliver":
            result, short = await _deliver(scan, reading)
        row = (
            await DeliveryScan.insert(_scan_row(scan, reading, result, short))
            .returning(DeliveryScan.id)
            .run()
        )
        record_id = row[0]["id"]
        return record_id, await _answer_of(record_id)

    async def answer(self, scan: ScanContext, record_id: int) -> ScanResult:
        return await _answer_of(record_id)

    def result_of(self, answer: ScanResult) -> str:
        return answer.result


DELIVERY_SITE_POINT = points.register(DeliverySitePoint())


def _scan_row(
    scan: ScanContext, reading: _Reading, result: str, short: StockInsufficient | None
) -> DeliveryScan:
    sent = reading.sent
    detail: dict[str, Any] = {"quantities": sent.quantities, "reached": sent.reached}
    if short is not None:
        detail |= {
            "short_item": short.item_id,
            "short_balance": short.balance,
            "short_params": short.params,
        }
    return DeliveryScan(
        client_id=sent.client_id,
        delivery_id=reading.delivery["id"],
        activity_id=reading.delivery["activity_id"],
        result=result,
        flagged=result == "already_delivered",
        detail=json.dumps(detail),
        recorder_id=scan.scanner_id,
        recorder_name=scan.scanner_name,
        recorded_at=scan.at,
    )


async def record_delivery(
    actor: Actor, sent: DeliveryScanIn, *, offline: bool = False
) -> ScanResult:
    """Record one delivery through the shared scan mechanism: the quantities handed over,
    drawn from the team's allocation, and the workers reached per group. Idempotent by
    client id; the first confirmation of a delivery counts and any later one (another
    phone) is flagged for the organiser."""
    delivery = await _delivery_row(sent.delivery_id)
    if delivery is None:
        return _result(sent, "not_found")  # no point to log against: nothing written
    if not await _may_record(actor, delivery):
        return _result(sent, "forbidden")
    try:
        scan = scanning.context(
            DELIVERY_SITE,
            delivery["site_id"],
            actor,
            scanner_id=actor.member_id,
            scanner_name=actor.name,
            client_id=sent.client_id,
            scanned_at=sent.recorded_at,
            offline=offline,
        )
        # A phone resending its day mostly resends what was answered already: look the
        # client id up first (one read) rather than redo the write to be refused.
        replayed = await scanning.replay(DELIVERY_SITE_POINT, scan)
        if replayed is not None:
            return replayed  # type: ignore[no-any-return]
        answer: ScanResult = await scanning.decide(scan, _Sent(sent))
    except StockInsufficient:
        raise
    except DomainError:
        # A malformed client id or time, a client id another phone used, a delivery gone.
        return _result(sent, "invalid")
    return answer


async def _precheck_stock(team_id: int, quantities: Mapping[str, int]) -> None:
    """The control run's check: a read before the write, as a naive ledger would do."""
    for key, quantity in quantities.items():
        if await balance_of(int(key), team_id) < quantity:
            raise await _insufficient(int(key), team_id)


DELIVERY_STATUS = "SELECT status FROM heatrelief_delivery WHERE id = {}"
DELIVERY_STATUS_FOR_UPDATE = DELIVERY_STATUS + " FOR UPDATE"


async def _deliver(scan: ScanContext, reading: _Reading) -> tuple[str, StockInsufficient | None]:
    """Inside the scan's write: take what was handed over from the team's allocation and
    mark the delivery made; "delivered", or the refusal with nothing changed (stock
    already taken for the record is put back in the same transaction)."""
    delivery, sent = reading.delivery, reading.sent
    team_id = delivery["team_id"]
    items = sorted((int(key), quantity) for key, quantity in reading.quantities.items())
    taken: list[tuple[int, int]] = []
    # The delivery first, locked until the write ends (PostgreSQL; SQLite's writes are
    # serialised): a record that lost the race to it is told so, whatever the stock.
    status = await db.run_sql(
        DELIVERY_STATUS_FOR_UPDATE if db.is_postgres() else DELIVERY_STATUS, delivery["id"]
    )
    if status[0]["status"] == "delivered":
        return "already_delivered", None
    if status[0]["status"] == "failed":
        return "delivery_failed", None

    async def put_back() -> None:
        for item_id, quantity in taken:
            await put_stock(item_id, team_id, quantity)

    try:
        for item_id, quantity in items:
            await take_stock(item_id, team_id, quantity)
            taken.append((item_id, quantity))
    except StockInsufficient as short:
        await put_back()
        return "stock_insufficient", short
    by_hand = not sent.site_code
    won = await db.run_sql(
        "UPDATE heatrelief_delivery SET status = 'delivered', delivered_at = {}, "
        "recorded_by = {}, recorded_by_name = {}, by_hand = {} "
        "WHERE id = {} AND status IN ('planned', 'out') RETURNING id",
        scan.at,
        scan.scanner_id,
        scan.scanner_name,
        by_hand,
        delivery["id"],
    )
    if not won:  # another phone's record of it came first
        await put_back()
        return "already_delivered", None
    for item_id, quantity in items:
        await LedgerEntry.insert(
            LedgerEntry(
                item_id=item_id,
                reason="delivered",
                quantity=quantity,
                from_team=team_id,
                activity_id=delivery["activity_id"],
                delivery_id=delivery["id"],
                note=sent.by_hand_reason[:200] if by_hand else "",
                actor_id=scan.scanner_id,
                actor_name=scan.scanner_name,
            )
        ).run()
        updated = await db.run_sql(
            "UPDATE heatrelief_delivery_line SET handed = {} "
            "WHERE delivery_id = {} AND item_id = {} RETURNING id",
            quantity,
            delivery["id"],
            item_id,
        )
        if not updated:
            await DeliveryLine.insert(
                DeliveryLine(
                    delivery_id=delivery["id"], item_id=item_id, planned=0, handed=quantity
                )
            ).run()
    for group, count in reading.reached.items():
        await DeliveryReach.insert(
            DeliveryReach(delivery_id=delivery["id"], worker_group=group, reached=count)
        ).run()
    return "delivered", None


async def record_batch(actor: Actor, scans: Sequence[DeliveryScanIn]) -> list[ScanResult]:
    """An offline phone's day, settled by the shared batch runner earliest first (so the
    first confirmation of a delivery wins); the answers come back in the order sent."""

    async def no_point() -> None:
        return None  # each record names its own delivery (and site)

    async def decide_one(_: None, sent: DeliveryScanIn) -> ScanResult:
        return await record_delivery(actor, sent, offline=True)

    settled = await scanning.run_batch(
        DELIVERY_SITE,
        scans,
        open_point=no_point,
        decide_one=decide_one,
        scanned_at=lambda sent: sent.recorded_at if sent.recorded_at.tzinfo else None,
        client_id=lambda sent: sent.client_id,
    )
    return settled.answers


async def flagged_scans(actor: Actor, activity_id: int) -> list[dict[str, Any]]:
    """Confirmations the organiser should look at: a delivery confirmed again."""
    await _managed_campaign(actor, activity_id)
    return await (
        DeliveryScan.select()
        .where((DeliveryScan.activity_id == activity_id) & (DeliveryScan.flagged == True))  # noqa: E712
        .order_by(DeliveryScan.id)
        .limit(MAX_LIST)
    )


# --- a worker's "received" at a site ------------------------------------------------------


async def acknowledge(actor: Actor, data: AcknowledgementIn) -> AcknowledgementOut:
    """A worker at a site says "received" with the poster's code, from their own phone.
    Counted once per member, site and local day: the unique index decides, so two taps at
    once (or a resend) still count one. Nothing about where the phone was is stored."""
    if actor.member_id is None:
        raise Forbidden()
    named = await _poster_site(data.code)
    if isinstance(named, str):
        return AcknowledgementOut(result=named, message=gettext(ACK_LABELS[named]))
    site_id, activity_id = named
    site = await Site.select(Site.name).where(Site.id == site_id).first()
    campaign = await activities.door_activity(activity_id)
    if site is None or campaign.kind != KIND_CODE:
        return AcknowledgementOut(
            result="invalid_code", message=gettext(ACK_LABELS["invalid_code"])
        )
    if campaign.status != "published":
        return AcknowledgementOut(result="not_open", message=gettext(ACK_LABELS["not_open"]))
    day = clock.now().astimezone(_zone()).date()
    inserted = await SiteAcknowledgement.raw(
        "INSERT INTO heatrelief_site_ack (site_id, activity_id, member_id, worker_group, day, "
        "created_at) VALUES ({}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (site_id, member_id, day) DO NOTHING RETURNING id",
        site_id,
        activity_id,
        actor.member_id,
        actor.group,
        day,
        clock.now(),
    )
    result = "received" if inserted else "already_received"
    return AcknowledgementOut(
        result=result,
        message=gettext(ACK_LABELS[result], site=site["name"]),
        site_name=site["name"],
        day=day,
    )


async def acknowledgements_by_site(activity_id: int) -> dict[int, int]:
    """Workers who said "received", per site (each counted once a day)."""
    rows = await SiteAcknowledgement.raw(
        "SELECT site_id, COUNT(*) AS n FROM heatrelief_site_ack WHERE activity_id = {} "
        "GROUP BY site_id",
        activity_id,
    )
    return {row["site_id"]: row["n"] for row in rows}


# --- a delivery's photo -------------------------------------------------------------------

PHOTO_MAX_BYTES = 5 * 1024 * 1024  # what a phone may send
PHOTO_MAX_SIDE = 1280  # what is kept: the longer side, in pixels
PHOTO_MAX_PIXELS = 50_000_000  # larger images are refused unread (a decompression bomb)
PHOTOS_FOLDER = ("heatrelief", "photos")


@dataclass(frozen=True)
class StoredPhoto:
    delivery_id: int
    width: int
    height: int
    size: int


def _photos_dir() -> Any:
    from service.settings import get_settings

    folder = get_settings().data_dir.joinpath(*PHOTOS_FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shrink_photo(raw: bytes) -> tuple[bytes, int, int]:
    """The image in `raw` as a JPEG no larger than PHOTO_MAX_SIDE on its longer side, turned
    upright; DomainError when it is not an image (or is over 5 MB). Metadata (GPS in EXIF)
    is not kept."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(raw) > PHOTO_MAX_BYTES:
        raise DomainError("photo_too_large", "The photo is over 5 MB: send a smaller one.")
    not_an_image = DomainError(
        "validation_error", "This file is not a photo (JPEG, PNG or WebP).", field="photo"
    )
    if not raw:
        raise not_an_image
    import io
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.width * probe.height > PHOTO_MAX_PIXELS:
                    raise not_an_image
                probe.verify()  # a truncated or corrupt file fails here
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image).convert("RGB")
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise not_an_image from None
    upright.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue(), upright.width, upright.height


async def attach_photo(actor: Actor, delivery_id: int, raw: bytes) -> StoredPhoto:
    """Keep a delivery's photo (a team member of its team, or its organiser); a newer photo
    replaces the older one. Nothing is stored for a file that is refused."""
    delivery = await _delivery_row(delivery_id)
    if delivery is None:
        raise NotFound("There is no such delivery.")
    if not (await _may_record(actor, delivery) or await manages(actor, delivery["activity_id"])):
        raise Forbidden()
    jpeg, width, height = shrink_photo(raw)
    folder = _photos_dir()
    name = f"{delivery_id}-{secrets.token_hex(8)}.jpg"
    partial = folder / f"{name}.part"
    partial.write_bytes(jpeg)
    partial.replace(folder / name)
    async with db.write_transaction():
        old = (
            await DeliveryPhoto.select(DeliveryPhoto.file)
            .where(DeliveryPhoto.delivery_id == delivery_id)
            .first()
        )
        await DeliveryPhoto.delete().where(DeliveryPhoto.delivery_id == delivery_id)
        await DeliveryPhoto.insert(
            DeliveryPhoto(
                delivery_id=delivery_id,
                file=name,
                width=width,
                height=height,
                size=len(jpeg),
                uploaded_by=actor.member_id,
            )
        )
    if old is not None:
        (folder / old["file"]).unlink(missing_ok=True)
    return StoredPhoto(delivery_id, width, height, len(jpeg))


async def photo_file(actor: Actor, delivery_id: int) -> Any:
    """The stored photo's path, for the delivery's organiser or its team."""
    delivery = await _delivery_row(delivery_id)
    if delivery is None:
        raise NotFound("There is no such delivery.")
    if not (await manages(actor, delivery["activity_id"]) or await _may_record(actor, delivery)):
        raise Forbidden()
    row = (
        await DeliveryPhoto.select(DeliveryPhoto.file)
        .where(DeliveryPhoto.delivery_id == delivery_id)
        .first()
    )
    if row is None:
        raise NotFound("This delivery has no photo.")
    return _photos_dir() / row["file"]


async def deliveries_with_photos(delivery_ids: Sequence[int]) -> set[int]:
    rows = await DeliveryPhoto.select(DeliveryPhoto.delivery_id).where(
        DeliveryPhoto.delivery_id.is_in(list(delivery_ids) or [0])
    )
    return {row["delivery_id"] for row in rows}
