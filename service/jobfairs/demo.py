"""Demo data for job fairs: one spring job fair (春风行动) with 10 employers and their
booths, 30 postings with realistic titles and pay, a few recorded stages, and an 11th
employer that entered itself through the fair's invite link and waits for approval.
Built through the services, like every other write."""

from __future__ import annotations

import secrets
from datetime import timedelta

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.jobfairs import invites
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, EmployerIn, EmployerJoinIn, PostingIn
from service.orgs import services as orgs
from service.orgs.schemas import Actor

# name, industry, contact, phone, member enterprise code, postings:
# (title, headcount, pay min, pay max, district, worker groups, requirements)
EMPLOYERS: tuple[
    tuple[str, str, str, str, str | None, tuple[tuple[str, int, int, int, str, str, str], ...]], ...
] = (
    (
        "顺达快递城关站",
        "快递物流",
        "刘经理",
        "13911110001",
        "express-hub",
        (
            ("快递收派员", 15, 6000, 9000, "城关镇", "courier", "吃苦耐劳，有电动车驾照优先"),
            ("仓库分拣员", 20, 4800, 6000, "城关镇", "courier,other", "能适应夜班"),
            ("网点客服", 2, 4000, 5000, "城关镇", "other", "普通话流利，会用电脑"),
        ),
    ),
    (
        "城关外卖骑手站",
        "即时配送",
        "陈站长",
        "13911110002",
        "rider-station",
        (
            (
                "外卖骑手（全职）",
                30,
                6000,
                10000,
                "城关镇",
                "food_delivery",
                "年满 18 周岁，熟悉城区道路",
            ),
            ("外卖骑手（兼职）", 20, 3000, 5000, "城关镇", "food_delivery", "每天可跑 4 小时以上"),
            ("骑手站长助理", 1, 5500, 7000, "城关镇", "food_delivery", "有一年以上配送经验"),
        ),
    ),
    (
        "县交通运输集团",
        "道路运输",
        "王科长",
        "13911110003",
        None,
        (
            (
                "重型货车司机",
                8,
                8000,
                12000,
                "城南新区",
                "truck_driver",
                "持 A2 驾照，三年以上驾龄",
            ),
            ("城乡公交驾驶员", 10, 6500, 8000, "城关镇", "truck_driver", "持 A1 驾照"),
            ("车辆维修工", 3, 5500, 7500, "城南新区", "other", "有汽修证书优先"),
        ),
    ),
    (
        "安泰保安服务公司",
        "保安服务",
        "赵队长",
        "13911110004",
        None,
        (
            ("小区保安员", 25, 3800, 4500, "城关镇", "security_guard", "身体健康，55 岁以下"),
            ("商场安保", 10, 4200, 5000, "城关镇", "security_guard", "持保安员证"),
            ("监控室值班员", 4, 4000, 4800, "城关镇", "security_guard", "会操作电脑"),
        ),
    ),
    (
        "宜居物业管理公司",
        "物业管理",
        "孙主管",
        "13911110005",
        None,
        (
            ("物业管家", 6, 4500, 6000, "城南新区", "property_agent", "大专以上，沟通能力好"),
            ("保洁员", 15, 3200, 3800, "城南新区", "sanitation,domestic", "能吃苦，年龄 60 岁以下"),
            ("水电维修工", 3, 5000, 6500, "城南新区", "construction,other", "持电工证"),
        ),
    ),
    (
        "好帮手家政服务中心",
        "家政服务",
        "周老师",
        "13911110006",
        None,
        (
            ("育婴员", 10, 6000, 9000, "城关镇", "domestic", "持育婴员证优先"),
            ("住家保姆", 8, 5500, 7500, "城关镇", "domestic", "会做家常菜"),
            ("钟点工", 12, 3500, 5000, "城关镇", "domestic", "时间灵活"),
        ),
    ),
    (
        "县环卫服务中心",
        "环境卫生",
        "冯主任",
        "13911110007",
        "sanitation-depot",
        (
            ("道路保洁员", 20, 3300, 3900, "城关镇", "sanitation", "60 岁以下，身体健康"),
            ("垃圾清运司机", 4, 5500, 6800, "城关镇", "sanitation,truck_driver", "持 B2 驾照"),
            ("公厕管理员", 5, 3000, 3500, "城关镇", "sanitation", "责任心强"),
        ),
    ),
    (
        "城南建设集团",
        "建筑施工",
        "何工",
        "13911110008",
        "build-group",
        (
            ("钢筋工", 20, 7000, 10000, "城南新区", "construction", "有施工经验"),
            ("塔吊司机", 3, 9000, 13000, "城南新区", "construction", "持特种作业操作证"),
            ("施工员", 2, 6000, 8000, "城南新区", "construction", "土木相关专业"),
        ),
    ),
    (
        "鲜丰超市连锁",
        "商贸零售",
        "吴店长",
        "13911110009",
        None,
        (
            ("理货员", 10, 3800, 4500, "城关镇", "other", "能上早班"),
            ("收银员", 6, 3600, 4200, "城关镇", "other", "会用收银系统优先"),
            ("生鲜配送员", 5, 5000, 6500, "城关镇", "courier,food_delivery", "有电动车"),
        ),
    ),
    (
        "绿源食品厂",
        "食品加工",
        "郑经理",
        "13911110010",
        None,
        (
            ("包装工", 30, 4200, 5200, "工业园区", "other", "男女不限，包食宿"),
            ("叉车司机", 4, 5500, 6500, "工业园区", "truck_driver,other", "持叉车证"),
            ("质检员", 2, 4500, 5500, "工业园区", "other", "高中以上学历"),
        ),
    ),
)

# (demo worker phone, booth index, posting index within the employer or None, stages)
DEMO_STAGES: tuple[tuple[str, int, int | None, tuple[str, ...]], ...] = (
    ("13900000101", 0, 0, ("consulted", "interview", "intent")),
    ("13900000101", 8, 2, ("consulted",)),
    ("13900000102", 1, 0, ("consulted", "resume", "intent", "signed")),
    ("13900000103", 2, 0, ("consulted", "interview")),
    ("13900000104", 3, 1, ("consulted", "declined")),
    ("13900000106", 5, 0, ("resume", "intent")),
    ("13900000108", 7, 0, ("consulted",)),
)
DEMO_STAFF_PHONE = "13900000004"
# Entered by the company itself from the organiser's invite link: no booth until approved.
INVITED_EMPLOYER = EmployerJoinIn(
    name="惠民电子装配厂",
    industry="电子制造",
    contact_name="林主管",
    contact_phone="13911110011",
)


async def seed(organiser: Actor) -> int:
    """Create the spring job fair; returns the number of activities added (1)."""
    day = (clock.now() + timedelta(days=3)).replace(hour=1, minute=0, second=0, microsecond=0)
    created = await activities.create_activity(
        organiser,
        ActivityIn(
            kind="job_fair",
            title="春风行动·春送岗位专场招聘会",
            starts_at=day,
            ends_at=day + timedelta(hours=4),
            capacity=300,
            venue=VenueIn(name="县人力资源市场一楼大厅", address="城关镇人民路 88 号"),
            campaign="春风行动",
            description="10 家企业带来快递、外卖、运输、安保、家政、环卫等 30 个岗位，"
            "现场扫码登记求职进度和初步用工意向。",
        ),
    )
    await activities.publish(organiser, created.id)
    booths, postings = [], []
    for index, (name, industry, contact, phone, node, posts) in enumerate(EMPLOYERS):
        employer = await jobfairs.create_employer(
            organiser,
            created.id,
            EmployerIn(
                name=name,
                industry=industry,
                contact_name=contact,
                contact_phone=phone,
                enterprise_node=node,
            ),
        )
        booths.append(
            await jobfairs.create_booth(
                organiser, created.id, BoothIn(number=f"A{index + 1:02d}", employer_id=employer.id)
            )
        )
        postings.append(
            [
                await jobfairs.create_posting(
                    organiser,
                    created.id,
                    PostingIn(
                        employer_id=employer.id,
                        title=title,
                        headcount=headcount,
                        pay_min=low,
                        pay_max=high,
                        location=f"{district}（{name}）",
                        district=district,
                        requirements=requirements,
                        worker_groups=groups.split(","),
                    ),
                )
                for title, headcount, low, high, district, groups, requirements in posts
            ]
        )
    invite = await invites.create_invite(organiser, created.id)
    assert invite.code is not None
    await invites.add_invited_employer(invite.code, INVITED_EMPLOYER)
    await jobfairs.assign_booth_staff(organiser, booths[0].id, DEMO_STAFF_PHONE)
    await jobfairs.count_materials(organiser, booths[0].id, 120)
    await jobfairs.count_materials(organiser, booths[1].id, 80)
    tickets: dict[str, str] = {}
    for phone, booth_index, posting_index, stages in DEMO_STAGES:
        if phone not in tickets:
            worker = await orgs.actor_for_member(await orgs.member_id_for_phone(phone) or 0)
            if worker is None:
                continue
            registration, _ = await activities.register(worker, created.id)
            if registration.ticket_code is None:
                continue
            tickets[phone] = registration.ticket_code
            await jobfairs.set_consent(worker, created.id, phone != "13900000106")
        booth = booths[booth_index]
        posting = postings[booth_index][posting_index] if posting_index is not None else None
        for stage in stages:
            await jobfairs.record_stage(
                organiser,
                booth.id,
                tickets[phone],
                posting.id if posting else None,
                stage,
                client_id=f"demo-{secrets.token_hex(8)}",
            )
    return 1
