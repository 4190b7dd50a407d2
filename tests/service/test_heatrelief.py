"""Heat-relief deliveries (issue 14) through the services: sites, the stock ledger (never
below zero, under concurrency too, with a control run that shows the fault without the
conditional write), teams and the plan, recording deliveries idempotently (offline
replays, two phones), and route order."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from service import clock, db
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.errors import DomainError
from service.heatrelief import services as relief
from service.heatrelief.schemas import (
    AcknowledgementIn,
    DeliveryIn,
    DeliveryScanIn,
    ItemIn,
    MovementIn,
    PlannedLine,
    SiteIn,
    SiteOut,
    TeamIn,
)
from service.heatrelief.tables import WAREHOUSE, Delivery, LedgerEntry, Site, Stock
from service.orgs import services as orgs
from service.orgs.schemas import SYSTEM, Actor, NodeIn
from service.seams import SEAMS
from tests.conftest import Org, add_member

NOW = datetime(2026, 7, 15, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
TODAY = date(2026, 7, 15)


async def campaign(org: Org, by: str = "organiser_a") -> int:
    with clock.frozen_at(NOW - timedelta(days=2)):
        created = await activities.create_activity(
            getattr(org, by),
            ActivityIn(
                kind="heat_relief",
                title="2026 送清凉",
                starts_at=NOW,
                ends_at=NOW + timedelta(days=30),
                capacity=None,
            ),
        )
        await activities.publish(getattr(org, by), created.id)
    return created.id


async def site(org: Org, activity_id: int, name: str = "城关镇一号工地", **extra: object) -> int:
    values = {"name": name, "kind": "construction", "node": "ent-a1", "address": "人民路 1 号"}
    values.update(extra)
    return (await relief.create_site(org.organiser_a, activity_id, SiteIn(**values))).id  # type: ignore[arg-type]


async def stocked_item(org: Org, quantity: int, name: str = "矿泉水", unit: str = "瓶") -> int:
    item = await relief.create_item(org.organiser_a, ItemIn(name=name, unit=unit))
    if quantity:
        await relief.record_movement(
            org.organiser_a, item.id, MovementIn(reason="received", quantity=quantity)
        )
    return item.id


async def team(org: Org, activity_id: int, *phones: str, name: str = "一队") -> int:
    return (
        await relief.create_team(
            org.organiser_a, activity_id, TeamIn(name=name, member_phones=list(phones))
        )
    ).id


async def issue(org: Org, item_id: int, team_id: int, quantity: int) -> None:
    await relief.record_movement(
        org.organiser_a, item_id, MovementIn(reason="issued", quantity=quantity, team_id=team_id)
    )


async def plan(org: Org, activity_id: int, site_id: int, team_id: int, **items: int) -> int:
    return (
        await relief.plan_delivery(
            org.organiser_a,
            activity_id,
            DeliveryIn(
                site_id=site_id,
                team_id=team_id,
                planned_date=TODAY,
                items=[PlannedLine(item_id=int(k), quantity=v) for k, v in items.items()],
            ),
        )
    ).id


def scan(delivery_id: int, quantities: dict[str, int], **extra: object) -> DeliveryScanIn:
    values: dict[str, object] = {
        "delivery_id": delivery_id,
        "client_id": uuid.uuid4().hex,
        "recorded_at": NOW,
        "quantities": quantities,
        "reached": {"construction": 12},
        "by_hand_reason": "海报被雨淋坏",
    }
    values.update(extra)
    return DeliveryScanIn(**values)  # type: ignore[arg-type]


async def balance(item_id: int, team_id: int) -> int:
    return await relief.balance_of(item_id, team_id)


async def setup_day(org: Org) -> tuple[int, int, int, int, Actor]:
    """A campaign, a stocked item, a team of one member carrying 50, one site."""
    activity_id = await campaign(org)
    member = await add_member("13900000001", "送水员老李", "ent-a1", ["worker"])
    item_id = await stocked_item(org, 100)
    team_id = await team(org, activity_id, "13900000001")
    await issue(org, item_id, team_id, 50)
    site_id = await site(org, activity_id)
    return activity_id, item_id, team_id, site_id, member


# --- sites --------------------------------------------------------------------------------


async def test_sites_mask_their_contact_and_refuse_bad_input(org: Org) -> None:
    activity_id = await campaign(org)
    created = await relief.create_site(
        org.organiser_a,
        activity_id,
        SiteIn(
            name="环卫三所",
            kind="sanitation",
            node="ent-a1",
            contact_name="张所长",
            contact_phone="13812345678",
            head_count=40,
            latitude=30.1,
            longitude=120.2,
        ),
    )
    assert created.contact_phone_masked == "138****5678"
    assert created.code.startswith("HR") and len(created.code) == 14
    listed = await relief.list_sites(org.organiser_a, activity_id)
    assert [s.name for s in listed] == ["环卫三所"]
    assert "13812345678" not in str(listed)
    with pytest.raises(DomainError) as bad_kind:
        await relief.create_site(
            org.organiser_a, activity_id, SiteIn(name="x", kind="castle", node="ent-a1")
        )
    assert bad_kind.value.field == "kind"
    with pytest.raises(DomainError) as foreign_node:
        await relief.create_site(
            org.organiser_a, activity_id, SiteIn(name="x", kind="other", node="union-b")
        )
    assert foreign_node.value.field == "node"
    with pytest.raises(DomainError) as half:
        await relief.create_site(
            org.organiser_a,
            activity_id,
            SiteIn(name="x", kind="other", node="ent-a1", latitude=30.0),
        )
    assert half.value.field == "latitude"
    # Another node's organiser does not see or add to this campaign.
    with pytest.raises(DomainError) as other:
        await relief.list_sites(org.organiser_b, activity_id)
    assert other.value.code == "not_found"
    with pytest.raises(DomainError):
        await relief.list_sites(org.worker_a1, activity_id)


async def test_only_heat_relief_campaigns_have_sites(org: Org) -> None:
    with clock.frozen_at(NOW - timedelta(days=2)):
        fair = await activities.create_activity(
            org.organiser_a,
            ActivityIn(
                kind="job_fair",
                title="招聘会",
                starts_at=NOW,
                ends_at=NOW + timedelta(hours=3),
                capacity=10,
            ),
        )
    with pytest.raises(DomainError) as error:
        await relief.list_sites(org.organiser_a, fair.id)
    assert error.value.code == "not_found"


# --- the ledger ---------------------------------------------------------------------------


async def test_movements_keep_every_balance_and_refuse_to_go_negative(org: Org) -> None:
    activity_id = await campaign(org)
    item_id = await stocked_item(org, 30)
    team_id = await team(org, activity_id)
    await issue(org, item_id, team_id, 20)
    assert (await balance(item_id, WAREHOUSE), await balance(item_id, team_id)) == (10, 20)
    with pytest.raises(relief.StockInsufficient) as short:
        await issue(org, item_id, team_id, 11)
    assert short.value.status_code == 409 and short.value.balance == 10
    assert short.value.code == "stock_insufficient"
    await relief.record_movement(
        org.organiser_a, item_id, MovementIn(reason="returned", quantity=5, team_id=team_id)
    )
    await relief.record_movement(
        org.organiser_a, item_id, MovementIn(reason="lost", quantity=2, team_id=team_id)
    )
    assert (await balance(item_id, WAREHOUSE), await balance(item_id, team_id)) == (15, 13)
    # The end-of-day count: 12 found where the ledger says 13; the balance follows the count.
    counted = await relief.record_movement(
        org.organiser_a, item_id, MovementIn(reason="counted", quantity=12, team_id=team_id)
    )
    assert counted.matches is False
    assert (counted.entry.expected, counted.entry.counted, counted.entry.quantity) == (13, 12, 1)
    assert await balance(item_id, team_id) == 12
    same = await relief.record_movement(
        org.organiser_a, item_id, MovementIn(reason="counted", quantity=12, team_id=team_id)
    )
    assert same.matches is True
    reasons = [row.reason for row in await relief.ledger(org.organiser_a, item_id)]
    assert reasons == ["counted", "counted", "lost", "returned", "issued", "received"]
    for bad in (
        MovementIn(reason="delivered", quantity=1, team_id=team_id),
        MovementIn(reason="received", quantity=0),
        MovementIn(reason="received", quantity=1, team_id=team_id),
        MovementIn(reason="issued", quantity=1),
    ):
        with pytest.raises(DomainError) as refused:
            await relief.record_movement(org.organiser_a, item_id, bad)
        assert refused.value.code == "validation_error"
    with pytest.raises(DomainError):
        await relief.ledger(org.organiser_b, item_id)


async def test_the_database_check_refuses_a_negative_balance(org: Org) -> None:
    """The last guard, on both engines: a write that skips the service still cannot."""
    item_id = await stocked_item(org, 3)
    with pytest.raises((sqlite3.IntegrityError, asyncpg.CheckViolationError)):
        async with db.write_transaction():
            await db.run_sql(
                "UPDATE heatrelief_stock SET balance = balance - 4 WHERE item_id = {}", item_id
            )
    assert await balance(item_id, WAREHOUSE) == 3


async def _race(org: Org, attempts: int) -> tuple[int, int, int, list[object]]:
    """`attempts` deliveries of 3 bottles and `attempts` allocations of 2 at once, against
    a team carrying 30 and a warehouse holding 20."""
    activity_id, item_id, team_id, site_id, member = await setup_day(org)
    # From 50 and 50 to round figures: the warehouse 20, the team 30.
    for holder, quantity in ((WAREHOUSE, 30), (team_id, 20)):
        await relief.record_movement(
            org.organiser_a, item_id, MovementIn(reason="lost", quantity=quantity, team_id=holder)
        )
    assert (await balance(item_id, WAREHOUSE), await balance(item_id, team_id)) == (20, 30)
    sites = [await site(org, activity_id, f"工地{n}") for n in range(attempts)]
    deliveries = [await plan(org, activity_id, s, team_id) for s in sites]

    async def allocate() -> object:
        try:
            await issue(org, item_id, team_id, 2)
            return "issued"
        except relief.StockInsufficient:
            return "short"

    with clock.frozen_at(NOW):
        outcomes = await asyncio.gather(
            *(relief.record_delivery(member, scan(d, {str(item_id): 3})) for d in deliveries),
            *(allocate() for _ in range(attempts)),
            return_exceptions=True,
        )
    return item_id, team_id, site_id, list(outcomes)


@pytest.mark.parametrize("attempts", [5, 40])
async def test_concurrent_deliveries_and_allocations_never_go_negative(
    org: Org, attempts: int
) -> None:
    item_id, team_id, _, outcomes = await _race(org, attempts)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    delivered = sum(1 for o in outcomes if getattr(o, "result", None) == "delivered")
    issued = outcomes.count("issued")
    assert issued == min(attempts, 10)  # the warehouse's 20 in twos
    # Every delivered record took 3 from a team that had 30 plus what was issued.
    team_left = await balance(item_id, team_id)
    warehouse_left = await balance(item_id, WAREHOUSE)
    assert team_left >= 0 and warehouse_left >= 0
    assert team_left == 30 + 2 * issued - 3 * delivered
    assert warehouse_left == 20 - 2 * issued
    shorts = [o for o in outcomes if getattr(o, "result", None) == "stock_insufficient"]
    assert delivered + len(shorts) == attempts
    # Each refusal says what the team carried when it was refused (an allocation may have
    # arrived since, on PostgreSQL).
    assert all(s.balance is not None and s.balance >= 0 for s in shorts)  # type: ignore[attr-defined]
    # The ledger adds up to the balances.
    rows = await LedgerEntry.select().where(LedgerEntry.item_id == item_id)
    delivered_rows = [r for r in rows if r["reason"] == "delivered"]
    assert sum(r["quantity"] for r in delivered_rows) == 3 * delivered


async def test_control_without_the_conditional_write_overdraws(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control run: checked by a read before the write, concurrent deliveries all pass
    the check; only the database's CHECK stops the balance going below zero (as errors)."""
    monkeypatch.setattr(SEAMS, "conditional_stock_write", False)
    activity_id, item_id, team_id, _, member = await setup_day(org)  # the team carries 50
    sites = [await site(org, activity_id, f"工地{n}") for n in range(30)]
    deliveries = [await plan(org, activity_id, s, team_id) for s in sites]
    with clock.frozen_at(NOW):
        outcomes = await asyncio.gather(
            *(relief.record_delivery(member, scan(d, {str(item_id): 5})) for d in deliveries),
            return_exceptions=True,
        )
    overdrawn = [
        o for o in outcomes if isinstance(o, (sqlite3.IntegrityError, asyncpg.CheckViolationError))
    ]
    assert overdrawn, "the control run did not try to overdraw the team"
    assert await balance(item_id, team_id) >= 0  # the CHECK held


# --- the plan and the state machine -------------------------------------------------------


async def test_plan_refuses_a_site_or_team_of_another_campaign(org: Org) -> None:
    first = await campaign(org)
    second = await campaign(org)
    team_id = await team(org, first)
    other_site = await site(org, second)
    with pytest.raises(DomainError) as error:
        await relief.plan_delivery(
            org.organiser_a,
            first,
            DeliveryIn(site_id=other_site, team_id=team_id, planned_date=TODAY),
        )
    assert error.value.field == "site_id"
    own_site = await site(org, first)
    other_team = await team(org, second)
    with pytest.raises(DomainError) as error:
        await relief.plan_delivery(
            org.organiser_a,
            first,
            DeliveryIn(site_id=own_site, team_id=other_team, planned_date=TODAY),
        )
    assert error.value.field == "team_id"


async def test_delivery_states_planned_out_delivered_or_failed(org: Org) -> None:
    activity_id, item_id, team_id, site_id, member = await setup_day(org)
    first = await plan(org, activity_id, site_id, team_id, **{str(item_id): 10})
    second = await plan(org, activity_id, await site(org, activity_id, "二号"), team_id)
    assert (await relief.set_out(member, first)).status == "out"
    failed = await relief.fail_delivery(member, second, "工地停工")
    assert (failed.status, failed.failure_reason) == ("failed", "工地停工")
    with pytest.raises(DomainError):
        await relief.fail_delivery(member, second, "again")
    with pytest.raises(DomainError):
        await relief.fail_delivery(member, first, "   ")
    with clock.frozen_at(NOW):
        result = await relief.record_delivery(member, scan(first, {str(item_id): 8}))
        late = await relief.record_delivery(member, scan(second, {str(item_id): 1}))
    assert result.result == "delivered"
    assert late.result == "delivery_failed"
    done = await relief.get_delivery(member, first)
    assert done.status == "delivered"
    assert [(line.planned, line.handed) for line in done.lines] == [(10, 8)]
    assert done.reached == {"construction": 12}
    assert await balance(item_id, team_id) == 42
    with pytest.raises(DomainError):
        await relief.set_out(member, first)


# --- recording: idempotence, two phones, bad input ----------------------------------------


async def test_a_replayed_client_id_counts_once_and_a_second_phone_is_flagged(org: Org) -> None:
    activity_id, item_id, team_id, site_id, member = await setup_day(org)
    partner = await add_member("13900000002", "送水员小赵", "ent-a1", ["worker"])
    await relief.add_team_member(org.organiser_a, team_id, "13900000002")
    delivery_id = await plan(org, activity_id, site_id, team_id)
    first = scan(delivery_id, {str(item_id): 6})
    with clock.frozen_at(NOW):
        answers = await asyncio.gather(*(relief.record_delivery(member, first) for _ in range(5)))
        other_phone = await relief.record_delivery(
            partner, scan(delivery_id, {str(item_id): 6}, recorded_at=NOW + timedelta(minutes=3))
        )
    assert {a.result for a in answers} == {"delivered"}
    assert other_phone.result == "already_delivered" and other_phone.flagged
    assert await balance(item_id, team_id) == 44  # taken once
    out = await relief.get_delivery(org.organiser_a, delivery_id)
    assert out.flagged == 1
    # Through the shared scan mechanism: one client-id log row per record, at the site.
    from service.scans.tables import ClientLog

    logged = await ClientLog.select().where(ClientLog.point_type == relief.DELIVERY_SITE)
    assert sorted(row["client_id"] for row in logged) == sorted(
        {first.client_id, *(r.client_id for r in [other_phone])}
    )
    assert {row["point_id"] for row in logged} == {site_id}
    # Another phone reusing a client id gets no one else's answer.
    with clock.frozen_at(NOW):
        stolen = await relief.record_delivery(partner, first)
    assert stolen.result == "invalid"
    assert len(await relief.flagged_scans(org.organiser_a, activity_id)) == 1


async def test_an_offline_batch_is_settled_earliest_first(org: Org) -> None:
    activity_id, item_id, team_id, site_id, member = await setup_day(org)
    delivery_id = await plan(org, activity_id, site_id, team_id)
    later = scan(delivery_id, {str(item_id): 9}, recorded_at=NOW + timedelta(hours=2))
    earlier = scan(delivery_id, {str(item_id): 4}, recorded_at=NOW + timedelta(hours=1))
    with clock.frozen_at(NOW + timedelta(hours=5)):
        results = await relief.record_batch(member, [later, earlier])
        again = await relief.record_batch(member, [later, earlier])
    assert [r.result for r in results] == ["already_delivered", "delivered"]
    assert again == results  # replaying the batch answers the same and writes nothing
    assert await balance(item_id, team_id) == 46


async def test_a_team_cannot_deliver_what_it_does_not_carry(org: Org) -> None:
    activity_id, item_id, team_id, site_id, member = await setup_day(org)
    tea = await stocked_item(org, 100, "凉茶", "罐")  # in the warehouse, not with the team
    delivery_id = await plan(org, activity_id, site_id, team_id)
    with clock.frozen_at(NOW):
        too_much = await relief.record_delivery(member, scan(delivery_id, {str(item_id): 51}))
        not_carried = await relief.record_delivery(
            member, scan(delivery_id, {str(item_id): 1, str(tea): 1})
        )
    assert (too_much.result, too_much.item_id, too_much.balance) == (
        "stock_insufficient",
        item_id,
        50,
    )
    assert (not_carried.result, not_carried.item_id, not_carried.balance) == (
        "stock_insufficient",
        tea,
        0,
    )
    # Nothing moved, and the delivery is still open.
    assert await balance(item_id, team_id) == 50
    row = await Delivery.select(Delivery.status).where(Delivery.id == delivery_id).first()
    assert row is not None and row["status"] == "planned"


async def test_bad_records_get_clear_answers_and_change_nothing(org: Org) -> None:
    activity_id, item_id, team_id, site_id, member = await setup_day(org)
    delivery_id = await plan(org, activity_id, site_id, team_id)
    other_campaign = await campaign(org)
    foreign_site = await relief.create_site(
        org.organiser_a, other_campaign, SiteIn(name="外场", kind="other", node="ent-a1")
    )
    sibling = await relief.create_site(
        org.organiser_a, activity_id, SiteIn(name="隔壁", kind="other", node="ent-a1")
    )
    own = (await relief.list_sites(org.organiser_a, activity_id))[0]
    cases = {
        "invalid": scan(delivery_id, {str(item_id): -1}),
        "invalid_code": scan(delivery_id, {}, site_code="HR-FORGED-000"),
        "wrong_activity": scan(delivery_id, {}, site_code=foreign_site.code),
        "wrong_site": scan(delivery_id, {}, site_code=sibling.code),
    }
    no_reason = scan(delivery_id, {}, by_hand_reason="")
    bad_group = scan(delivery_id, {}, reached={"astronaut": 3})
    stranger = await add_member("13900000009", "路人", "ent-a1", ["worker"])
    with clock.frozen_at(NOW):
        for expected, bad in cases.items():
            assert (await relief.record_delivery(member, bad)).result == expected
        assert (await relief.record_delivery(member, no_reason)).result == "invalid"
        assert (await relief.record_delivery(member, bad_group)).result == "invalid"
        assert (
            await relief.record_delivery(stranger, scan(delivery_id, {str(item_id): 1}))
        ).result == "forbidden"
        assert (await relief.record_delivery(member, scan(99999, {}))).result == "not_found"
        good = await relief.record_delivery(
            member, scan(delivery_id, {str(item_id): 2}, site_code=own.code.lower())
        )
    assert good.result == "delivered"
    assert await balance(item_id, team_id) == 48
    # Team membership is a scoped assignment: taken back, the member records nothing more.
    second = await plan(org, activity_id, sibling.id, team_id)
    assert member.member_id is not None
    await relief.remove_team_member(org.organiser_a, team_id, member.member_id)
    with clock.frozen_at(NOW):
        gone = await relief.record_delivery(member, scan(second, {str(item_id): 1}))
    assert gone.result == "forbidden"
    assert await Stock.count().where(Stock.balance < 0) == 0


# --- the team member's day ----------------------------------------------------------------


def _site(site_id: int, lat: float | None, lon: float | None, district: str = "") -> SiteOut:
    return SiteOut(
        id=site_id,
        activity_id=1,
        code="",
        name=str(site_id),
        kind="other",
        node_code="",
        node_name="",
        district=district,
        address="",
        latitude=lat,
        longitude=lon,
        contact_name="",
        contact_phone_masked="",
        head_count=0,
        notes="",
    )


def test_route_order_walks_nearest_first_then_by_district() -> None:
    sites = [
        _site(1, 30.0, 120.30),
        _site(2, None, None, "西湖区"),
        _site(3, 30.0, 120.00),
        _site(4, 30.0, 120.10),
        _site(5, None, None, "上城区"),
        _site(6, 30.0, 120.29),
    ]
    assert [s.id for s in relief.route_order(sites)] == [3, 4, 6, 1, 5, 2]


async def test_todays_deliveries_are_the_members_teams_in_route_order(org: Org) -> None:
    activity_id, _item_id, team_id, _, member = await setup_day(org)
    east = await site(org, activity_id, "东站", latitude=30.0, longitude=120.5)
    west = await site(org, activity_id, "西站", latitude=30.0, longitude=120.1)
    other_team = await team(org, activity_id, name="二队")
    await plan(org, activity_id, east, team_id)
    await plan(org, activity_id, west, team_id)
    await plan(org, activity_id, east, other_team)
    with clock.frozen_at(NOW):
        mine = await relief.todays_deliveries(member)
        nobody = await relief.todays_deliveries(org.worker_a1)
    assert [d.site.name for d in mine] == ["西站", "东站"]
    assert nobody == []


async def test_the_demo_campaign_has_every_kind_of_site_and_a_mixed_plan() -> None:
    from service.demo import load_demo
    from service.heatrelief.tables import Site

    await load_demo()
    sites = await Site.select(Site.site_kind)
    assert len(sites) == 20 and {row["site_kind"] for row in sites} == set(relief.SITE_KINDS)
    statuses = {row["status"] for row in await Delivery.select(Delivery.status)}
    assert {"delivered", "planned", "failed"} <= statuses
    assert await Stock.count().where(Stock.balance < 0) == 0


async def test_poster_codes_are_signed_and_refuse_forgeries_tickets_and_other_sites(
    org: Org,
) -> None:
    from service.tickets import tokens

    activity_id, item_id, team_id, site_id, member = await setup_day(org)
    delivery_id = await plan(org, activity_id, site_id, team_id)
    own = (await relief.list_sites(org.organiser_a, activity_id))[0]
    sibling = await relief.create_site(
        org.organiser_a, activity_id, SiteIn(name="隔壁", kind="other", node="ent-a1")
    )
    foreign = await relief.create_site(
        org.organiser_a, await campaign(org), SiteIn(name="外场", kind="other", node="ent-a1")
    )
    poster = relief.poster_code(own)
    flipped = poster[:-3] + ("A" if poster[-3] != "A" else "B") + poster[-2:]
    cases = {
        "invalid_code": flipped,  # an altered poster
        "wrong_code_type": tokens.ticket_code(1, activity_id, 0),  # a ticket held up
        "wrong_site": relief.poster_code(sibling),
        "wrong_activity": relief.poster_code(foreign),
    }
    with clock.frozen_at(NOW):
        for expected, code in cases.items():
            answer = await relief.record_delivery(member, scan(delivery_id, {}, site_code=code))
            assert answer.result == expected, (expected, answer)
        good = await relief.record_delivery(
            member, scan(delivery_id, {str(item_id): 1}, site_code=poster, by_hand_reason="")
        )
    assert good.result == "delivered"
    row = await Delivery.select(Delivery.by_hand).where(Delivery.id == delivery_id).first()
    assert row is not None and row["by_hand"] is False


# --- a worker's "received" ----------------------------------------------------------------


async def test_a_worker_says_received_once_per_site_and_day(org: Org) -> None:
    from service.tickets import tokens

    activity_id = await campaign(org)
    site_id = await site(org, activity_id)
    own = (await relief.list_sites(org.organiser_a, activity_id))[0]
    poster = relief.poster_code(own)
    worker = org.worker_a1
    with clock.frozen_at(NOW):
        # Five taps at once from one phone (and the typed short code): one count.
        answers = await asyncio.gather(
            *(relief.acknowledge(worker, AcknowledgementIn(code=poster)) for _ in range(5)),
            relief.acknowledge(worker, AcknowledgementIn(code=own.code.lower())),
        )
        assert sorted(a.result for a in answers) == ["already_received"] * 5 + ["received"]
        assert all(a.site_name == "城关镇一号工地" for a in answers)
        # Another worker counts too.
        other = await add_member("13900000009", "环卫工老张", "ent-a1", ["worker"])
        assert (await relief.acknowledge(other, AcknowledgementIn(code=poster))).result == (
            "received"
        )
        # Bad codes: a clear answer, nothing counted.
        flipped = poster[:-3] + ("A" if poster[-3] != "A" else "B") + poster[-2:]
        for code, expected in (
            (flipped, "invalid_code"),
            ("HR0000000000", "invalid_code"),
            ("'; DROP TABLE heatrelief_site_ack; --", "invalid_code"),
            (tokens.ticket_code(site_id, activity_id, 0), "wrong_code_type"),
        ):
            answer = await relief.acknowledge(worker, AcknowledgementIn(code=code))
            assert answer.result == expected, code
            assert answer.message
    assert await relief.acknowledgements_by_site(activity_id) == {site_id: 2}
    # The next day, the same worker counts again.
    with clock.frozen_at(NOW + timedelta(days=1)):
        assert (await relief.acknowledge(worker, AcknowledgementIn(code=poster))).result == (
            "received"
        )
    assert await relief.acknowledgements_by_site(activity_id) == {site_id: 3}


async def test_a_campaign_not_running_takes_no_receipts(org: Org) -> None:
    with clock.frozen_at(NOW - timedelta(days=2)):
        draft = await activities.create_activity(
            org.organiser_a,
            ActivityIn(
                kind="heat_relief",
                title="草稿",
                starts_at=NOW,
                ends_at=NOW + timedelta(days=3),
                capacity=None,
            ),
        )
    site_id = await site(org, draft.id)
    own = next(s for s in await relief.list_sites(org.organiser_a, draft.id) if s.id == site_id)
    answer = await relief.acknowledge(
        org.worker_a1, AcknowledgementIn(code=relief.poster_code(own))
    )
    assert answer.result == "not_open"
    assert await relief.acknowledgements_by_site(draft.id) == {}


# --- the campaign's page: the sites near the worker first -----------------------------------


async def sites_in_districts(org: Org) -> tuple[int, dict[str, int]]:
    """Five sites in three districts: 城关街道 (two, union-a), 城南街道 (ent-a1, the
    enterprise of worker_a1), 开发区 (two, ent-a2, another enterprise of union-a); planned
    on the 20th, 16th, 18th, 17th of July and not at all. ent-a3 has no site."""
    for code, name in (("ent-a2", "甲二环卫所"), ("ent-a3", "甲三物业")):
        await orgs.create_node(
            SYSTEM, NodeIn(code=code, name=name, kind="enterprise", parent="union-a")
        )
    activity_id = await campaign(org)
    ids = {
        "城关一号": await site(org, activity_id, "城关一号", node="union-a", district="城关街道"),
        "城关二号": await site(org, activity_id, "城关二号", node="union-a", district="城关街道"),
        "城南工地": await site(org, activity_id, "城南工地", node="ent-a1", district="城南街道"),
        "开发区厂房": await site(org, activity_id, "开发区厂房", node="ent-a2", district="开发区"),
        "开发区驿站": await site(org, activity_id, "开发区驿站", node="ent-a2", district="开发区"),
    }
    team_id = await team(org, activity_id, name="一队")
    with clock.frozen_at(NOW):
        for name, day in (("城关一号", 20), ("城关二号", 16), ("城南工地", 18), ("开发区厂房", 17)):
            await relief.plan_delivery(
                org.organiser_a,
                activity_id,
                DeliveryIn(site_id=ids[name], team_id=team_id, planned_date=date(2026, 7, day)),
            )
    return activity_id, ids


async def seen_by(actor: Actor, activity_id: int) -> tuple[list[str], dict[str, object]]:
    with clock.frozen_at(NOW):
        view = (await relief.campaign_summaries([activity_id], 30, viewer=actor))[activity_id]
    return [site["name"] for site in view["sites"]], view["near"]


async def test_two_workers_in_different_districts_see_their_own_district_s_sites_first(
    org: Org,
) -> None:
    activity_id, _ = await sites_in_districts(org)
    east = org.worker_a1  # ent-a1, under union-a
    west = await add_member("13700000041", "环卫工老张", "ent-a2", ["worker"])
    await relief.pick_district(east, "城关街道")
    await relief.pick_district(west, "开发区")

    east_sites, east_near = await seen_by(east, activity_id)
    west_sites, west_near = await seen_by(west, activity_id)

    # Their district first (by when next planned), then the rest by how near in the tree
    # their node is (ent-a1's own site before the union's), then by when next planned.
    assert east_sites == ["城关二号", "城关一号", "城南工地", "开发区厂房", "开发区驿站"]
    assert west_sites == ["开发区厂房", "开发区驿站", "城关二号", "城南工地", "城关一号"]
    assert (east_near["district"], east_near["source"]) == ("城关街道", "picked")
    assert (west_near["district"], west_near["source"]) == ("开发区", "picked")
    assert east_near["districts"] == sorted(["城关街道", "城南街道", "开发区"])
    # Everyone else (the API's details) still gets route order, no viewer in it.
    plain = (await relief.campaign_summaries([activity_id], 30))[activity_id]
    assert "near" not in plain


async def test_without_a_pick_the_worker_s_own_sites_tell_the_district_else_plan_time(
    org: Org,
) -> None:
    activity_id, _ = await sites_in_districts(org)
    # worker_a1's enterprise has one site, in 城南街道: that district comes first.
    sites, near = await seen_by(org.worker_a1, activity_id)
    assert (near["district"], near["source"]) == ("城南街道", "organisation")
    assert sites == ["城南工地", "城关二号", "开发区厂房", "城关一号", "开发区驿站"]
    # A worker of an enterprise with no site, who picked none: all by plan time.
    nowhere = await add_member("13700000042", "职工戊", "ent-a3", ["worker"])
    sites, near = await seen_by(nowhere, activity_id)
    assert (near["district"], near["source"]) == (None, None)
    assert sites == ["城关二号", "开发区厂房", "城南工地", "城关一号", "开发区驿站"]
    # Clearing a pick goes back to what the organisation tells.
    await relief.pick_district(org.worker_a1, "开发区")
    assert (await seen_by(org.worker_a1, activity_id))[0][0] == "开发区厂房"
    await relief.pick_district(org.worker_a1, "")
    assert (await seen_by(org.worker_a1, activity_id))[1]["source"] == "organisation"


async def test_a_district_pick_takes_only_a_district_of_the_sites(org: Org) -> None:
    await sites_in_districts(org)
    await relief.pick_district(org.worker_a1, "城关街道")
    for bad in ("火星街道", "城" * 61, "城关街道" * 20):
        with pytest.raises(DomainError) as caught:
            await relief.pick_district(org.worker_a1, bad)
        assert (caught.value.code, caught.value.field) == ("validation_error", "district")
    assert await relief.picked_district(org.worker_a1) == "城关街道"  # nothing written
    with pytest.raises(DomainError) as refused:
        await relief.pick_district(SYSTEM, "城关街道")
    assert refused.value.code == "forbidden"


async def test_the_sites_near_a_worker_cost_the_same_reads_for_five_sites_or_twenty(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No read per site or per delivery: the page's query count does not grow with them."""
    activity_id, _ = await sites_in_districts(org)
    await relief.pick_district(org.worker_a1, "城关街道")
    engine = type(Site._meta.db)
    original = engine.run_querystring
    reads: list[str] = []

    async def counted(self: object, querystring: object, *args: object, **kwargs: object) -> object:
        reads.append(str(querystring))
        return await original(self, querystring, *args, **kwargs)  # type: ignore[arg-type]

    async def reads_for_the_page() -> int:
        reads.clear()
        with monkeypatch.context() as patch:
            patch.setattr(engine, "run_querystring", counted)
            await seen_by(org.worker_a1, activity_id)
        return len(reads)

    few = await reads_for_the_page()
    team_id = await team(org, activity_id, name="二队")
    for number in range(15):
        added = await site(org, activity_id, f"新站点{number}", district="城南街道")
        with clock.frozen_at(NOW):
            await relief.plan_delivery(
                org.organiser_a,
                activity_id,
                DeliveryIn(site_id=added, team_id=team_id, planned_date=date(2026, 7, 21)),
            )
    assert 3 <= few <= 5  # sites, deliveries, nodes, the pick
    assert await reads_for_the_page() == few
