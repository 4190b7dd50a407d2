"""Demo reading rooms: three rooms with different hours (one with the survey's Tue/Thu/Sat
8-11 and 14-18), the holiday table for this year and next, a March 书香三八 plan of four
sessions, and a few approved notes. Built through the services."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.orgs.schemas import SYSTEM, Actor
from service.reading import services as reading
from service.reading.schemas import IntervalIn, PlanIn, RoomIn, SeasonIn, WeekIn
from service.settings import get_settings

# The official 2026 and 2027 arrangements as announced each year by the State Council
# are what an admin imports; these rows follow the usual pattern so the demo shows
# holidays and make-up days (调休) at work. An admin replaces them with the real notice.
HOLIDAYS_CSV = """date,kind,name,follows_weekday
2026-01-01,holiday,元旦
2026-02-16,holiday,春节
2026-02-17,holiday,春节
2026-02-18,holiday,春节
2026-02-19,holiday,春节
2026-02-20,holiday,春节
2026-02-14,workday,春节调休,0
2026-02-28,workday,春节调休,4
2026-04-05,holiday,清明节
2026-05-01,holiday,劳动节
2026-05-04,holiday,劳动节
2026-05-05,holiday,劳动节
2026-05-09,workday,劳动节调休,4
2026-06-19,holiday,端午节
2026-09-25,holiday,中秋节
2026-10-01,holiday,国庆节
2026-10-02,holiday,国庆节
2026-10-05,holiday,国庆节
2026-10-06,holiday,国庆节
2026-10-07,holiday,国庆节
2026-09-27,workday,国庆节调休,3
2026-10-10,workday,国庆节调休,4
2027-01-01,holiday,元旦
2027-02-05,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-20,workday,春节调休,4
2027-04-05,holiday,清明节
2027-05-03,holiday,劳动节
2027-05-04,holiday,劳动节
2027-05-05,holiday,劳动节
2027-04-25,workday,劳动节调休,0
2027-06-09,holiday,端午节
2027-09-15,holiday,中秋节
2027-10-01,holiday,国庆节
2027-10-04,holiday,国庆节
2027-10-05,holiday,国庆节
2027-10-06,holiday,国庆节
2027-10-07,holiday,国庆节
2027-09-26,workday,国庆节调休,4
2027-10-09,workday,国庆节调休,3
"""

SEED_DAY = [IntervalIn("08:00", "11:00"), IntervalIn("14:00", "18:00")]
EVENING_DAY = [IntervalIn("12:00", "13:30"), IntervalIn("18:30", "21:30")]
WEEKEND_DAY = [IntervalIn("09:00", "17:00")]

BOOKS = (
    ("平凡的世界", "路遥", "9787530215815"),
    ("人世间", "梁晓声", "9787101108527"),
    ("我与地坛", "史铁生", ""),
    ("活着", "余华", ""),
)


async def seed(organiser: Actor) -> int:
    """The rooms, the holiday table, the plan and its notes; returns activities added."""
    await reading.import_holidays(SYSTEM, HOLIDAYS_CSV)
    seed_room = await reading.create_room(
        organiser,
        RoomIn(
            name="县总工会职工书屋",
            seats=30,
            address="城关镇工人文化宫二楼",
            computers=6,
            network=True,
            books=12000,
        ),
    )
    await reading.set_week(
        organiser, seed_room.room.id, WeekIn(days=[[], SEED_DAY, [], SEED_DAY, [], SEED_DAY, []])
    )
    shift_room = await reading.create_room(
        organiser,
        RoomIn(name="顺达快递站“骑手书角”", seats=12, address="顺达快递城关站一楼", books=800),
    )
    await reading.set_week(organiser, shift_room.room.id, WeekIn(days=[EVENING_DAY] * 7))
    weekend_room = await reading.create_room(
        organiser,
        RoomIn(name="城南建设集团工地书屋", seats=16, address="城南新区项目部活动室", books=2500),
    )
    await reading.set_week(
        organiser,
        weekend_room.room.id,
        WeekIn(days=[[IntervalIn("19:00", "21:00")]] * 5 + [WEEKEND_DAY, WEEKEND_DAY]),
    )
    today = clock.now().astimezone(get_settings().zone).date()
    summer_year = today.year if today.month < 7 else today.year + 1
    await reading.add_season(
        organiser,
        weekend_room.room.id,
        SeasonIn(
            name="夏季（避高温）",
            starts_on=date(summer_year, 7, 1),
            ends_on=date(summer_year, 8, 31),
            days=[[IntervalIn("06:00", "09:00"), IntervalIn("19:00", "22:00")]] * 7,
        ),
    )
    added = await _march_plan(organiser, seed_room.room.id, today)
    return added + await _past_session_with_notes(organiser, seed_room.room.id, today)


async def _march_plan(organiser: Actor, room_id: int, today: date) -> int:
    """书香三八: four Saturday-afternoon sessions in the coming March (Saturdays are open
    14:00-18:00 in the seed room)."""
    year = today.year if today.month < 3 else today.year + 1
    zone = get_settings().zone
    first_saturday = date(year, 3, 1) + timedelta(days=(5 - date(year, 3, 1).weekday()) % 7)
    ids = []
    for week, (title, author, isbn) in enumerate(BOOKS):
        day = first_saturday + timedelta(days=7 * week)
        starts = datetime(day.year, day.month, day.day, 14, 30, tzinfo=zone)
        created = await activities.create_activity(
            organiser,
            ActivityIn(
                kind="reading_session",
                title=f"书香三八·第{week + 1}期：《{title}》",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                capacity=25,
                campaign="书香三八",
                description="女职工读书月：每周六下午一本书，欢迎带着问题来。",
                details={
                    "room_id": room_id,
                    "facilitator": "县图书馆 王老师",
                    "books": [{"title": title, "author": author, "isbn": isbn}],
                },
            ),
        )
        await activities.publish(organiser, created.id)
        ids.append(created.id)
    await reading.create_plan(
        organiser,
        PlanIn(
            name=f"{year} 书香三八读书月",
            description="四期阅读分享会，一次报名全部参加，读完在每期页面写下笔记。",
            activity_ids=ids,
        ),
    )
    return len(ids)


NOTES = (
    ("孙少平在煤矿里还坚持读书，跑单间隙我也想每天读十页。", "第二部"),
    ("最打动我的是田晓霞和少平在古塔山上的约定。", "第三部 第 10 章"),
    ("听王老师讲了时代背景，回去准备重读一遍。", ""),
)


async def _past_session_with_notes(organiser: Actor, room_id: int, today: date) -> int:
    """A session held last Saturday afternoon: the demo workers signed up and were
    admitted at the door, and posted notes the organiser approved. Written through the
    services with the clock set back to that afternoon."""
    from service.checkin import services as checkin
    from service.demo import PEOPLE
    from service.orgs import services as orgs

    zone = get_settings().zone
    saturday = today - timedelta(days=(today.weekday() - 5) % 7 or 7)
    starts = datetime(saturday.year, saturday.month, saturday.day, 14, 30, tzinfo=zone)
    workers = []
    for person in PEOPLE:
        if person.roles == ("worker",):
            worker = await orgs.actor_for_member(await orgs.member_id_for_phone(person.phone) or 0)
            if worker is not None:
                workers.append(worker)
    with clock.frozen_at(starts - timedelta(days=2)):
        created = await activities.create_activity(
            organiser,
            ActivityIn(
                kind="reading_session",
                title="上周六分享会：《平凡的世界》（演示笔记）",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                capacity=25,
                details={
                    "room_id": room_id,
                    "facilitator": "县图书馆 王老师",
                    "books": [{"title": "平凡的世界", "author": "路遥", "note": "第二、三部"}],
                },
            ),
        )
        await activities.publish(organiser, created.id)
        registrations = [await activities.register(worker, created.id) for worker in workers]
    with clock.frozen_at(starts + timedelta(minutes=5)):
        for registration, _ in registrations:
            await checkin.admit_registration(organiser, created.id, registration.id)
    with clock.frozen_at(starts + timedelta(hours=3)):
        for worker, (body, page) in zip(workers, NOTES, strict=False):
            note = await reading.post_note(worker, created.id, body, page)
            await reading.decide_note(organiser, note.id, True)
    return 1
