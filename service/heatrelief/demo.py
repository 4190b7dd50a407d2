"""Demo data for heat relief: a 送清凉 campaign with 20 sites of every kind, 6 supplies in
stock, 3 delivery teams carrying their allocations, and a plan with deliveries made,
planned and failed. Built through the services, like every other write."""

from __future__ import annotations

import uuid
from datetime import timedelta

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.heatrelief import services as relief
from service.heatrelief.schemas import (
    DeliveryIn,
    DeliveryScanIn,
    ItemIn,
    MovementIn,
    PlannedLine,
    SiteIn,
    TeamIn,
)
from service.orgs import services as orgs
from service.orgs.schemas import Actor
from service.settings import get_settings

SUPPLIES = (  # name, unit, received, issued to each team
    ("矿泉水", "箱", 400, 60),
    ("凉茶", "箱", 200, 30),
    ("绿豆汤粉", "袋", 300, 40),
    ("毛巾", "条", 500, 80),
    ("防晒霜", "支", 150, 20),
    ("防暑药盒", "盒", 120, 20),
)
# name, kind, node, district, address, (latitude, longitude) or None, head count
SITES = (
    (
        "城南新区安置房项目工地",
        "construction",
        "build-group",
        "城南街道",
        "城南大道与滨河路交叉口",
        (30.231, 120.171),
        180,
    ),
    (
        "滨河路桥梁工程项目部",
        "construction",
        "build-group",
        "城南街道",
        "滨河路 12 号",
        (30.236, 120.180),
        95,
    ),
    (
        "人民医院扩建工地",
        "construction",
        "build-group",
        "城关街道",
        "人民路 300 号",
        (30.251, 120.162),
        140,
    ),
    ("工业园标准厂房工地", "construction", "build-group", "开发区", "园区三路 8 号", None, 70),
    (
        "城关环卫一所",
        "sanitation",
        "sanitation-depot",
        "城关街道",
        "解放路 21 号",
        (30.248, 120.155),
        60,
    ),
    (
        "城南环卫二所",
        "sanitation",
        "sanitation-depot",
        "城南街道",
        "南环路 5 号",
        (30.229, 120.164),
        45,
    ),
    ("垃圾转运站（北站）", "sanitation", "sanitation-depot", "城北街道", "北环路 88 号", None, 25),
    (
        "道路保洁三班",
        "sanitation",
        "sanitation-depot",
        "城关街道",
        "文化路环卫亭",
        (30.255, 120.150),
        30,
    ),
    (
        "滨河公园绿化班组",
        "landscaping",
        "town-chengguan",
        "城南街道",
        "滨河公园东门",
        (30.238, 120.175),
        20,
    ),
    (
        "人民广场园林养护组",
        "landscaping",
        "town-chengguan",
        "城关街道",
        "人民广场",
        (30.252, 120.158),
        15,
    ),
    ("环城绿道养护组", "landscaping", "town-chengguan", "城北街道", "环城北路绿道驿站", None, 18),
    (
        "顺达快递城关站",
        "logistics_station",
        "express-hub",
        "城关街道",
        "建设路 66 号",
        (30.249, 120.168),
        40,
    ),
    (
        "城关外卖骑手站",
        "logistics_station",
        "rider-station",
        "城关街道",
        "步行街南口",
        (30.253, 120.164),
        55,
    ),
    ("开发区物流分拨中心", "logistics_station", "transport", "开发区", "园区一路 2 号", None, 120),
    (
        "城南同城配送站",
        "logistics_station",
        "transport",
        "城南街道",
        "南门路 19 号",
        (30.233, 120.160),
        35,
    ),
    (
        "县总工会户外劳动者服务站",
        "rest_station",
        "county",
        "城关街道",
        "工人文化宫一楼",
        (30.250, 120.160),
        0,
    ),
    (
        "城南爱心驿站",
        "rest_station",
        "town-chengguan",
        "城南街道",
        "南环路银行网点内",
        (30.230, 120.168),
        0,
    ),
    ("高速服务区司机之家", "rest_station", "transport", "城北街道", "高速城北服务区", None, 0),
    (
        "农贸市场装卸点",
        "other",
        "town-chengguan",
        "城关街道",
        "农贸市场后门",
        (30.246, 120.159),
        25,
    ),
    ("客运站出租车候客区", "other", "transport", "城北街道", "客运中心西侧", None, 30),
)
TEAMS = (  # name, member phones (demo members)
    ("城关一队", ("13900000108", "13900000107")),
    ("城南二队", ("13900000101", "13900000102")),
    ("城北三队", ("13900000103", "13900000109")),
)


async def seed(organiser: Actor) -> int:
    """The demo campaign; returns how many activities it added (one)."""
    zone = get_settings().zone
    starts = (clock.now() + timedelta(minutes=5)).replace(second=0, microsecond=0)
    campaign = await activities.create_activity(
        organiser,
        ActivityIn(
            kind="heat_relief",
            title="2026 夏季送清凉：户外劳动者防暑降温",
            starts_at=starts,
            ends_at=starts + timedelta(days=30),
            capacity=None,
            venue=VenueIn(name="县总工会户外劳动者服务站", address="城关镇工人文化宫一楼"),
            campaign="送清凉",
            description="演示数据：配送队把矿泉水、凉茶、绿豆汤粉、毛巾、防晒霜和防暑药盒送到工地、环卫所、骑手站和服务站。",
        ),
    )
    await activities.publish(organiser, campaign.id)
    site_ids = []
    for name, kind, node, district, address, point, heads in SITES:
        site = await relief.create_site(
            organiser,
            campaign.id,
            SiteIn(
                name=name,
                kind=kind,
                node=node,
                district=district,
                address=address,
                latitude=point[0] if point else None,
                longitude=point[1] if point else None,
                contact_name="站点联系人",
                contact_phone=f"1370000{len(site_ids):04d}",
                head_count=heads,
            ),
        )
        site_ids.append(site.id)
    items = []
    for name, unit, received, _ in SUPPLIES:
        item = await relief.create_item(organiser, ItemIn(name=name, unit=unit))
        await relief.record_movement(
            organiser, item.id, MovementIn(reason="received", quantity=received)
        )
        items.append(item.id)
    teams = []
    for name, phones in TEAMS:
        team = await relief.create_team(
            organiser, campaign.id, TeamIn(name=name, member_phones=list(phones))
        )
        teams.append(team)
        for item_id, (*_, issued) in zip(items, SUPPLIES, strict=True):
            await relief.record_movement(
                organiser, item_id, MovementIn(reason="issued", quantity=issued, team_id=team.id)
            )
    today = clock.now().astimezone(zone).date()
    for index, site_id in enumerate(site_ids):
        team = teams[index % len(teams)]
        planned = await relief.plan_delivery(
            organiser,
            campaign.id,
            DeliveryIn(
                site_id=site_id,
                team_id=team.id,
                planned_date=today + timedelta(days=0 if index < 14 else 1),
                items=[
                    PlannedLine(item_id=items[0], quantity=5),
                    PlannedLine(item_id=items[3], quantity=10),
                ]
                + ([PlannedLine(item_id=items[5], quantity=2)] if index % 2 else []),
            ),
        )
        member = await orgs.actor_for_member(team.members[0].id)
        assert member is not None
        if index < 8:  # delivered this morning
            await relief.record_delivery(
                member,
                DeliveryScanIn(
                    delivery_id=planned.id,
                    client_id=uuid.uuid4().hex,
                    recorded_at=clock.now() - timedelta(hours=8 - index),
                    quantities={str(items[0]): 5, str(items[3]): 8 + index % 3},
                    reached={"construction" if index < 4 else "sanitation": 10 + 3 * index},
                    by_hand_reason="演示数据",
                ),
            )
        elif index in (8, 15, 19):
            await relief.fail_delivery(member, planned.id, "现场无人，改日再送")
    return 1
