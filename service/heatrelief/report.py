"""The heat-relief report: sites covered against planned, workers reached, supplies used
against planned, sites not yet served, by node and by site kind; the ledger totals and
the end-of-day counts. One builder (`campaign_report`) feeds the JSON endpoint and the
sections on the activity's report page."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import msgspec

from service.heatrelief import services as relief
from service.heatrelief.schemas import REASON_LABELS, SITE_KIND_LABELS
from service.heatrelief.tables import (
    Delivery,
    DeliveryLine,
    DeliveryReach,
    Item,
    LedgerEntry,
    Site,
)
from service.i18n import gettext
from service.orgs import services as orgs
from service.orgs.schemas import GROUP_LABELS, Actor


class CoverageRow(msgspec.Struct):
    key: str  # a node code or a site kind
    label: str
    sites: int
    planned: int  # sites with a delivery planned
    covered: int  # sites with a delivery made
    reached: int


class SupplyRow(msgspec.Struct):
    item_id: int
    name: str
    unit: str
    planned: int
    handed: int


class LedgerTotal(msgspec.Struct):
    item_id: int
    name: str
    reason: str
    quantity: int


class CountRow(msgspec.Struct):
    item_id: int
    name: str
    team_id: int
    counted: int
    expected: int
    at: str


class HeatReliefReport(msgspec.Struct):
    activity_id: int
    sites: int
    sites_planned: int
    sites_covered: int
    deliveries: dict[str, int]  # by status
    reached: int
    reached_by_group: dict[str, int]
    by_hand: int
    by_node: list[CoverageRow]
    by_kind: list[CoverageRow]
    supplies: list[SupplyRow]
    not_served: list[str]  # site names planned or not, with no delivery made
    ledger: list[LedgerTotal]
    counts: list[CountRow]
    # Workers who said "received" from their own phones (once per member, site and day):
    # shown apart from the teams' counts, never added to them.
    acknowledged: int = 0
    acknowledged_by_site: dict[str, int] = {}


async def campaign_report(actor: Actor, activity_id: int) -> HeatReliefReport:
    await relief.list_sites(actor, activity_id)  # the access check: its organisers only
    return await _build(activity_id)


async def _build(activity_id: int) -> HeatReliefReport:
    sites = await Site.select(Site.id, Site.name, Site.site_kind, Site.node_id).where(
        Site.activity_id == activity_id
    )
    deliveries = await Delivery.select(
        Delivery.id, Delivery.site_id, Delivery.status, Delivery.by_hand
    ).where(Delivery.activity_id == activity_id)
    delivery_ids = [row["id"] for row in deliveries] or [0]
    lines = await DeliveryLine.select().where(DeliveryLine.delivery_id.is_in(delivery_ids))
    reach = await DeliveryReach.select().where(DeliveryReach.delivery_id.is_in(delivery_ids))
    entries = await LedgerEntry.select().where(LedgerEntry.activity_id == activity_id)
    item_ids = sorted({line["item_id"] for line in lines} | {e["item_id"] for e in entries})
    items = {
        row["id"]: row
        for row in await Item.select(Item.id, Item.name, Item.unit).where(
            Item.id.is_in(item_ids or [0])
        )
    }
    nodes = {node.id: node for node in await orgs.list_nodes("/")}
    acknowledged = await relief.acknowledgements_by_site(activity_id)
    site_names = {site["id"]: site["name"] for site in sites}

    planned_sites = {row["site_id"] for row in deliveries}
    covered_sites = {row["site_id"] for row in deliveries if row["status"] == "delivered"}
    site_of_delivery = {row["id"]: row["site_id"] for row in deliveries}
    reached_by_site: Counter[int] = Counter()
    by_group: Counter[str] = Counter()
    for entry in reach:
        reached_by_site[site_of_delivery[entry["delivery_id"]]] += entry["reached"]
        by_group[entry["worker_group"]] += entry["reached"]

    def coverage(key_of: Any, label_of: Any) -> list[CoverageRow]:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for site in sites:
            groups[key_of(site)].append(site)
        return [
            CoverageRow(
                key=key,
                label=label_of(key),
                sites=len(members),
                planned=sum(1 for s in members if s["id"] in planned_sites),
                covered=sum(1 for s in members if s["id"] in covered_sites),
                reached=sum(reached_by_site[s["id"]] for s in members),
            )
            for key, members in sorted(groups.items())
        ]

    def node_code(site: dict[str, Any]) -> str:
        node = nodes.get(site["node_id"])
        return node.code if node else ""

    node_names = {node.code: node.name for node in nodes.values()}
    supplies: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        supplies[line["item_id"]][0] += line["planned"]
        supplies[line["item_id"]][1] += line["handed"]
    ledger_totals: Counter[tuple[int, str]] = Counter()
    for entry in entries:
        if entry["reason"] != "counted":
            ledger_totals[(entry["item_id"], entry["reason"])] += entry["quantity"]
    return HeatReliefReport(
        activity_id=activity_id,
        sites=len(sites),
        sites_planned=len(planned_sites),
        sites_covered=len(covered_sites),
        deliveries=dict(Counter(row["status"] for row in deliveries)),
        reached=sum(by_group.values()),
        reached_by_group=dict(by_group),
        by_hand=sum(1 for row in deliveries if row["status"] == "delivered" and row["by_hand"]),
        by_node=coverage(node_code, lambda code: node_names.get(code, code)),
        by_kind=coverage(
            lambda site: site["site_kind"],
            lambda kind: gettext(SITE_KIND_LABELS.get(kind, kind)),
        ),
        supplies=[
            SupplyRow(
                item_id=item_id,
                name=items.get(item_id, {}).get("name", ""),
                unit=items.get(item_id, {}).get("unit", ""),
                planned=planned,
                handed=handed,
            )
            for item_id, (planned, handed) in sorted(supplies.items())
        ],
        not_served=sorted(site["name"] for site in sites if site["id"] not in covered_sites),
        ledger=[
            LedgerTotal(
                item_id=item_id,
                name=items.get(item_id, {}).get("name", ""),
                reason=reason,
                quantity=quantity,
            )
            for (item_id, reason), quantity in sorted(ledger_totals.items())
        ],
        counts=[
            CountRow(
                item_id=entry["item_id"],
                name=items.get(entry["item_id"], {}).get("name", ""),
                team_id=entry["from_team"] if entry["from_team"] is not None else entry["to_team"],
                counted=entry["counted"],
                expected=entry["expected"],
                at=entry["created_at"].isoformat(),
            )
            for entry in entries
            if entry["reason"] == "counted"
        ],
        acknowledged=sum(acknowledged.values()),
        acknowledged_by_site={
            site_names.get(site_id, str(site_id)): n for site_id, n in sorted(acknowledged.items())
        },
    )


async def sections(activity_id: int) -> list[Any]:
    """The report page's sections, in the reader's language."""
    from service.reports.schemas import ReportSection

    report = await _build(activity_id)
    pct = lambda part, whole: f"{round(100 * part / whole)}%" if whole else "–"  # noqa: E731

    def coverage_rows(rows: list[CoverageRow]) -> list[list[str]]:
        head = [
            gettext("Sites"),
            gettext("Planned"),
            gettext("Covered"),
            gettext("Workers reached"),
        ]
        return [["", *head]] + [
            [row.label, str(row.sites), str(row.planned), str(row.covered), str(row.reached)]
            for row in rows
        ]

    summary = [
        [gettext("Sites covered"), f"{report.sites_covered} / {report.sites_planned}"],
        [gettext("Sites in the campaign"), str(report.sites)],
        [
            gettext("Share of planned sites covered"),
            pct(report.sites_covered, report.sites_planned),
        ],
        [gettext("Workers reached (team counts)"), str(report.reached)],
        [gettext("Workers who said received (own phones)"), str(report.acknowledged)],
        [gettext("Confirmed by hand"), str(report.by_hand)],
        *(
            [gettext(GROUP_LABELS.get(group, group)), str(count)]
            for group, count in sorted(report.reached_by_group.items())
        ),
    ]
    supplies = [[gettext("Supply"), gettext("Planned"), gettext("Handed over")]] + [
        [f"{row.name} ({row.unit})", str(row.planned), str(row.handed)] for row in report.supplies
    ]
    ledger = [
        [row.name, gettext(REASON_LABELS.get(row.reason, row.reason)), str(row.quantity)]
        for row in report.ledger
    ]
    counts = [
        [row.name, row.at[:16].replace("T", " "), str(row.counted), str(row.expected)]
        for row in report.counts
    ]
    out = [
        ReportSection(kind="heat_relief", title=gettext("Deliveries"), rows=summary),
        ReportSection(
            kind="heat_relief",
            title=gettext("Coverage by organisation"),
            rows=coverage_rows(report.by_node),
        ),
        ReportSection(
            kind="heat_relief",
            title=gettext("Coverage by kind of site"),
            rows=coverage_rows(report.by_kind),
        ),
        ReportSection(kind="heat_relief", title=gettext("Supplies used"), rows=supplies),
        ReportSection(
            kind="heat_relief",
            title=gettext("Sites not yet served"),
            rows=[[name] for name in report.not_served]
            or [[gettext("Every site has been served.")]],
        ),
    ]
    if ledger:
        out.append(ReportSection(kind="heat_relief", title=gettext("Ledger"), rows=ledger))
    if counts:
        head = [gettext("Supply"), gettext("When"), gettext("Found"), gettext("Ledger said")]
        out.append(
            ReportSection(
                kind="heat_relief", title=gettext("End-of-day counts"), rows=[head, *counts]
            )
        )
    return out
