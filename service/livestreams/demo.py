"""Demo data of the livestream room: the union's channel with ten columns, a Tue/Thu
19:30 rule over six weeks (three past, three to come) with a skipped holiday, and the
viewer figures of the past episodes, and a 12-person crew in three groups across
departments with a rota planned three weeks ago (the past) and re-planned today."""

from __future__ import annotations

from datetime import timedelta

from service import clock
from service.livestreams import services as livestreams
from service.livestreams.schemas import ChannelIn, ColumnIn, CrewIn, FiguresIn, NeedIn, RuleIn
from service.orgs import services as orgs
from service.orgs.schemas import SYSTEM, Actor, MemberIn
from service.settings import get_settings

COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("运河工匠", "宣教部", "#b5523b", "讲述运河边一线工匠的技艺与坚守。"),
    ("职工课堂", "职工服务中心", "#2f6fb0", "技能、健康与理财小课。"),
    ("“产改”先锋", "经济技术部", "#7a4fb0", "产业工人队伍建设改革中的先锋人物。"),
    ("工创之家", "经济技术部", "#2e8b57", "职工创新工作室的小发明、小创造。"),
    ("法律援助", "法律工作部", "#8a6d1d", "律师在线解答劳动合同、工伤、欠薪问题。"),
    ("惠工心语", "女职工部", "#c0467a", "心理咨询师陪职工聊聊心里话。"),
    ("安全生产", "劳动保护部", "#d2691e", "岗位安全与职业病防护。"),
    ("劳模访谈", "宣教部", "#a0522d", "与劳动模范面对面。"),
    ("新就业形态", "基层工作部", "#008080", "快递员、外卖骑手、网约车司机的权益与服务。"),
    ("职工书屋", "宣教部", "#556b2f", "好书共读与阅读分享。"),
)
# Name, role, department: planning & hosting, filming & editing, technical support.
CREW: tuple[tuple[str, str, str], ...] = (
    ("主持 周晓", "host", "宣教部"),
    ("主持 吴倩", "host", "女职工部"),
    ("主持 郑凯", "host", "法律工作部"),
    ("策划 孙悦", "planner", "经济技术部"),
    ("策划 钱程", "planner", "基层工作部"),
    ("摄像 冯涛", "camera", "宣教部"),
    ("摄像 陈亮", "camera", "劳动保护部"),
    ("剪辑 褚楠", "editor", "职工服务中心"),
    ("剪辑 卫东", "editor", "宣教部"),
    ("技术 蒋帆", "technician", "经济技术部"),
    ("技术 沈航", "technician", "基层工作部"),
    ("技术 韩雪", "technician", "女职工部"),
)
RUNDOWN = (
    "开场 | 5 | 主持人\n主题访谈 | 35 | 主持人、嘉宾\n观众问答 | 15 | 嘉宾\n结束语 | 5 | 主持人"
)


async def seed(organiser: Actor) -> int:
    """The channel, its schedule and episodes; returns how many activities were made."""
    now = clock.now()
    channel = await livestreams.create_channel(
        organiser,
        ChannelIn(
            name="理响工会直播间",
            stream_url="https://live.example.cn/lixiang",
            default_minutes=60,
        ),
    )
    for name, department, colour, description in COLUMNS:
        await livestreams.create_column(
            organiser,
            channel.id,
            ColumnIn(
                name=name,
                department=department,
                colour=colour,
                description=description,
                rundown=RUNDOWN,
            ),
        )
    zone_today = now.astimezone(get_settings().zone).date()
    rule = RuleIn(
        weekdays=["TU", "TH"],
        start_date=zone_today - timedelta(days=21),
        end_date=zone_today + timedelta(days=21),
        start_time="19:30",
        minutes=60,
    )
    # The first three weeks are in the past: they are generated as of three weeks ago
    # (an episode is published only before it starts), then given their figures.
    with clock.frozen_at(now - timedelta(days=21, hours=1)):
        _, generated = await livestreams.save_schedule(organiser, channel.id, rule)
        await _seed_crew(organiser, channel.id, channel.node_code)
    listed = await livestreams.episodes(channel.id)
    past = [one for one in listed if one.ends_at < now]
    for index, one in enumerate(past):
        unique = 900 + 137 * index
        await livestreams.record_figures(
            organiser,
            one.activity_id,
            FiguresIn(
                peak_concurrent=unique // 3,
                unique_viewers=unique,
                total_views=unique * 2 - 50,
                average_watch_minutes=18.5 + index,
                source="直播平台后台",
            ),
        )
    upcoming = [one for one in listed if one.starts_at > now]
    if len(upcoming) > 2:
        await livestreams.skip(organiser, upcoming[2].activity_id, "节假日停播")
    await livestreams.plan_rota(organiser, channel.id)  # today: the past stays as it was
    return generated.created


async def _seed_crew(organiser: Actor, channel_id: int, node_code: str) -> None:
    """The crew, what each episode needs, and a rota planned when the schedule was made."""
    for index, (name, role, department) in enumerate(CREW):
        phone = f"139000002{index:02d}"
        member_id = await orgs.member_id_for_phone(phone)
        if member_id is None:
            member_id = (
                await orgs.create_member(SYSTEM, MemberIn(phone=phone, name=name, node=node_code))
            ).id
        await livestreams.add_crew(
            organiser, channel_id, CrewIn(member_id=member_id, role=role, department=department)
        )
    for role in ("planner", "camera", "editor", "technician"):
        await livestreams.set_need(organiser, channel_id, NeedIn(role=role, needed=1))
    await livestreams.plan_rota(organiser, channel_id)
