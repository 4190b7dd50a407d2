"""Idempotent demo data: a county federation, unions, enterprises, members of every role
and worker group. Built through the services, like every other write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.activities.tables import Activity
from service.checkin import services as checkin
from service.heatrelief import demo as heat_relief_demo
from service.jobfairs import demo as jobfair_demo
from service.livestreams import demo as livestreams_demo
from service.orgs import services as orgs
from service.orgs.schemas import SYSTEM, WORKER_GROUPS, Actor, MemberIn, NodeIn
from service.orgs.tables import Member, Node
from service.reading import demo as reading_demo

NODES: tuple[tuple[str, str, str, str | None], ...] = (
    # code, name, kind, parent code
    ("county", "城南县总工会", "federation", None),
    ("town-chengguan", "城关镇总工会", "union", "county"),
    ("transport", "县交通运输行业工会", "union", "county"),
    ("express-hub", "顺达快递城关站", "enterprise", "transport"),
    ("rider-station", "城关外卖骑手站", "enterprise", "transport"),
    ("sanitation-depot", "县环卫服务中心", "enterprise", "town-chengguan"),
    ("build-group", "城南建设集团", "enterprise", "town-chengguan"),
)


@dataclass(frozen=True)
class DemoPerson:
    phone: str
    name: str
    node: str
    group: str
    roles: tuple[str, ...]


# The union drives the demo's activities belong to (the magazine's 春风行动 and 送清凉).

PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("13900000001", "管理员 王敏", "county", "other", ("admin", "organiser")),
    DemoPerson("13900000002", "组织者 李娜", "county", "other", ("organiser",)),
    DemoPerson("13900000003", "组织者 赵强", "transport", "other", ("organiser",)),
    DemoPerson("13900000004", "工作人员 陈静", "town-chengguan", "other", ("staff",)),
    *(
        DemoPerson(f"139000001{index:02d}", name, node, group, ("worker",))
        for index, (name, node, group) in enumerate(
            (
                ("张伟", "express-hub", "courier"),
                ("刘洋", "rider-station", "food_delivery"),
                ("孙磊", "transport", "truck_driver"),
                ("周芳", "town-chengguan", "security_guard"),
                ("吴杰", "town-chengguan", "property_agent"),
                ("郑丽", "town-chengguan", "domestic"),
                ("冯军", "sanitation-depot", "sanitation"),
                ("何涛", "build-group", "construction"),
                ("马超", "county", "other"),
            ),
            start=1,
        )
    ),
)
assert {person.group for person in PEOPLE} >= set(WORKER_GROUPS)


async def load_demo() -> int:
    """Create what is missing; return how many rows were added."""
    added = 0
    existing_nodes = {row["code"] for row in await Node.select(Node.code).run()}
    for code, name, kind, parent in NODES:
        if code not in existing_nodes:
            await orgs.create_node(SYSTEM, NodeIn(code=code, name=name, kind=kind, parent=parent))
            added += 1
    existing_phones = {row["phone"] for row in await Member.select(Member.phone).run()}
    for person in PEOPLE:
        if person.phone not in existing_phones:
            await orgs.create_member(
                SYSTEM,
                MemberIn(
                    phone=person.phone,
                    name=person.name,
                    node=person.node,
                    group=person.group,
                    roles=list(person.roles),
                ),
            )
            added += 1
    if not await Activity.exists().run():
        added += await _demo_activities()
    return added


async def _demo_activities() -> int:
    """Each kind's room seeds its own demo (a job fair with employers, reading rooms and a
    plan, a livestream channel, a heat-relief campaign), then the door demo."""
    organiser = await orgs.actor_for_member(await orgs.member_id_for_phone(PEOPLE[1].phone) or 0)
    assert organiser is not None
    added = await jobfair_demo.seed(organiser)
    added += await reading_demo.seed(organiser)
    added += await livestreams_demo.seed(organiser)
    added += await heat_relief_demo.seed(organiser)
    return added + await _demo_door(organiser)


async def _demo_door(organiser: Actor) -> int:
    """An activity starting within the hour, so the door can be tried at once: every demo
    worker holds a ticket and the demo staff member is on its door staff."""
    starts = (clock.now() + timedelta(minutes=40)).replace(second=0, microsecond=0)
    created = await activities.create_activity(
        organiser,
        ActivityIn(
            kind="reading_session",
            title="安全生产知识讲座（演示签到）",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=50,
            venue=VenueIn(name="县总工会二楼会议室", address="城关镇工人文化宫二楼"),
            description="演示数据：用工作人员账号打开“签到”，扫描职工的入场码。",
        ),
    )
    await activities.publish(organiser, created.id)
    for person in PEOPLE:
        if person.roles == ("worker",):
            member_id = await orgs.member_id_for_phone(person.phone)
            worker = await orgs.actor_for_member(member_id or 0)
            assert worker is not None
            await activities.register(worker, created.id)
    staff = next(person for person in PEOPLE if "staff" in person.roles)
    await checkin.assign_staff(organiser, created.id, staff.phone)
    return 1


def demo_sign_ins() -> list[tuple[str, str]]:
    """(phone, who) lines printed by `make run`."""
    return [(person.phone, person.name) for person in PEOPLE[:5]]
