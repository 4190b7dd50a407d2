"""The livestream room: channels and columns, a schedule that generates episodes through
the activity core (idempotent; skipped, moved and "this and later" episodes kept), viewers'
reminders exactly once, viewer figures that cannot be impossible, the calendar feed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service import clock, kinds
from service.activities import services as activities
from service.activities.schemas import ActivityIn
from service.activities.tables import Activity
from service.errors import DomainError
from service.livestreams import services as livestreams
from service.livestreams.schemas import ChannelIn, ColumnIn, FiguresIn, RuleIn
from service.livestreams.tables import Episode
from service.orgs.schemas import Actor
from service.reminders import services as outbox
from service.reminders.tables import OutboxMessage
from tests.conftest import Org, add_member

# A Monday, 10:00 in Shanghai.
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


async def new_channel(org: Org, columns: int = 3) -> int:
    channel = await livestreams.create_channel(
        org.organiser_a,
        ChannelIn(
            name="理响工会直播间", stream_url="https://live.example.cn/lx", default_minutes=60
        ),
    )
    for index in range(columns):
        await livestreams.create_column(
            org.organiser_a,
            channel.id,
            ColumnIn(
                name=f"板块{index + 1}", department="宣教部", rundown="开场 | 5 | 主持人\n访谈 | 40"
            ),
        )
    return channel.id


def tue_thu(**overrides: object) -> RuleIn:
    values: dict[str, object] = {
        "weekdays": ["TU", "TH"],
        "start_date": date(2026, 3, 1),
        "start_time": "19:30",
        "end_date": date(2026, 4, 30),
    }
    values.update(overrides)
    return RuleIn(**values)  # type: ignore[arg-type]


async def test_preview_gives_the_next_twenty_local_starts(org: Org) -> None:
    channel_id = await new_channel(org)
    preview = await livestreams.preview(org.organiser_a, channel_id, tue_thu(end_date=None))
    assert len(preview.dates) == 20
    assert preview.rrule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU,TH"
    local = [moment.astimezone(SHANGHAI) for moment in preview.dates]
    assert local[0] == datetime(2026, 3, 3, 19, 30, tzinfo=SHANGHAI)
    assert {moment.strftime("%a %H:%M") for moment in local} == {"Tue 19:30", "Thu 19:30"}


async def test_every_other_week_and_nth_weekday(org: Org) -> None:
    channel_id = await new_channel(org)
    fortnightly = await livestreams.preview(
        org.organiser_a, channel_id, tue_thu(weekdays=["WE"], interval=2, end_date=None)
    )
    gaps = {b - a for a, b in zip(fortnightly.dates, fortnightly.dates[1:], strict=False)}
    assert gaps == {timedelta(days=14)}
    second_tuesday = await livestreams.preview(
        org.organiser_a, channel_id, tue_thu(weekdays=["TU"], nth=2, end_date=None)
    )
    for moment in second_tuesday.dates:
        local = moment.astimezone(SHANGHAI)
        assert local.weekday() == 1 and 8 <= local.day <= 14


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (tue_thu(weekdays=[]), "weekdays"),
        (tue_thu(weekdays=["XX"]), "weekdays"),
        (tue_thu(minutes=0), "minutes"),
        (tue_thu(minutes=-30), "minutes"),
        (tue_thu(start_time="25:00"), "start_time"),
        (tue_thu(interval=0), "interval"),
        (tue_thu(end_date=date(2026, 1, 1)), "end_date"),
        (tue_thu(zone="Mars/Olympus"), "zone"),
        (tue_thu(weekdays=["MO", "TU"], minutes=25 * 60 - 60), "minutes"),
    ],
)
async def test_bad_rules_are_refused_and_nothing_is_written(
    org: Org, rule: RuleIn, field: str
) -> None:
    channel_id = await new_channel(org)
    with pytest.raises(DomainError) as caught:
        await livestreams.save_schedule(org.organiser_a, channel_id, rule)
    assert caught.value.field == field
    assert await livestreams.get_schedule(channel_id) is None
    assert await Activity.count() == 0


async def test_generation_is_idempotent_and_keeps_edited_episodes(org: Org) -> None:
    channel_id = await new_channel(org)
    _, first = await livestreams.save_schedule(org.organiser_a, channel_id, tue_thu())
    # March 3 to April 30: 9 Tuesdays and 9 Thursdays.
    assert first.created == 18
    listed = await livestreams.episodes(channel_id)
    assert len(listed) == 18
    assert all(one.status == "published" for one in listed)
    assert [one.column_name for one in listed[:4]] == ["板块1", "板块2", "板块3", "板块1"]
    # Move one, skip one, then generate again: nothing duplicated, both kept.
    moved = await livestreams.move(
        org.organiser_a, listed[1].activity_id, listed[1].starts_at + timedelta(days=1)
    )
    assert moved.moved and moved.occurrence == listed[1].occurrence
    skipped = await livestreams.skip(org.organiser_a, listed[2].activity_id, "清明节")
    assert skipped.skipped and skipped.status == "cancelled"
    again = await livestreams.generate(org.organiser_a, channel_id)
    assert (again.created, again.cancelled) == (0, 0)
    assert await Activity.count() == 18
    after = {one.activity_id: one for one in await livestreams.episodes(channel_id)}
    assert after[listed[1].activity_id].starts_at == listed[1].starts_at + timedelta(days=1)
    assert after[listed[2].activity_id].skipped


async def test_concurrent_generation_never_duplicates(org: Org) -> None:
    channel_id = await new_channel(org)
    await livestreams.save_schedule(
        org.organiser_a, channel_id, tue_thu(end_date=date(2026, 3, 20))
    )
    await Episode.delete(force=True).run()
    await Activity.delete(force=True).run()
    await asyncio.gather(*(livestreams.generate(org.organiser_a, channel_id) for _ in range(3)))
    assert len(await livestreams.episodes(channel_id)) == 6
    assert await Activity.count() == 6


async def test_a_changed_rule_cancels_untouched_episodes_and_keeps_edited_ones(org: Org) -> None:
    channel_id = await new_channel(org)
    await livestreams.save_schedule(
        org.organiser_a, channel_id, tue_thu(end_date=date(2026, 3, 31))
    )
    listed = await livestreams.episodes(channel_id)
    await livestreams.move(
        org.organiser_a, listed[1].activity_id, listed[1].starts_at + timedelta(hours=1)
    )
    _, result = await livestreams.save_schedule(
        org.organiser_a, channel_id, tue_thu(weekdays=["TU"], end_date=date(2026, 3, 31))
    )
    assert result.created == 0
    live = [one for one in await livestreams.episodes(channel_id) if one.status == "published"]
    local_days = [one.starts_at.astimezone(SHANGHAI).strftime("%a") for one in live]
    # Only the moved Thursday is kept among the Thursdays.
    assert local_days.count("Thu") == 1
    assert [one.activity_id for one in live if one.moved] == [listed[1].activity_id]


async def test_daylight_saving_keeps_the_local_time(org: Org) -> None:
    channel_id = await new_channel(org)
    berlin = ZoneInfo("Europe/Berlin")
    await livestreams.save_schedule(
        org.organiser_a, channel_id, tue_thu(zone="Europe/Berlin", end_date=date(2026, 4, 10))
    )
    listed = await livestreams.episodes(channel_id)
    assert {one.starts_at.astimezone(berlin).strftime("%H:%M") for one in listed} == {"19:30"}
    offsets = {one.starts_at.astimezone(berlin).utcoffset() for one in listed}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # across 29 March


async def test_this_and_later_changes_the_time_of_later_episodes_only(org: Org) -> None:
    channel_id = await new_channel(org)
    await livestreams.save_schedule(
        org.organiser_a, channel_id, tue_thu(end_date=date(2026, 3, 31))
    )
    listed = await livestreams.episodes(channel_id)
    await livestreams.change_later(
        org.organiser_a, listed[3].activity_id, start_time="20:00", minutes=None, column_id=None
    )
    after = await livestreams.episodes(channel_id)
    times = [one.starts_at.astimezone(SHANGHAI).strftime("%H:%M") for one in after]
    assert times[:3] == ["19:30"] * 3
    assert set(times[3:]) == {"20:00"}


async def test_viewers_are_reminded_once_and_never_for_a_skipped_episode(org: Org) -> None:
    channel_id = await new_channel(org)
    await livestreams.save_schedule(
        org.organiser_a, channel_id, tue_thu(end_date=date(2026, 3, 13))
    )
    listed = await livestreams.episodes(channel_id)  # 4 episodes, columns 1,2,3,1
    first_column = listed[0].column_id
    assert first_column is not None
    result = await livestreams.subscribe(org.worker_a1, channel_id, [first_column])
    # The coming week's episodes only: 3 March; 12 March is recorded by the upkeep.
    assert result.reminders_scheduled == 1
    # Subscribing again, generating again, rescheduling concurrently: nothing twice.
    await livestreams.subscribe(org.worker_a1, channel_id, [first_column])
    await livestreams.generate(org.organiser_a, channel_id)
    await asyncio.gather(
        *(livestreams.schedule_viewer_reminders(listed[0].activity_id) for _ in range(4))
    )
    assert await livestreams.upkeep_viewer_reminders() == 0  # 12 March is not due yet
    with clock.frozen_at(NOW + timedelta(days=4)):
        assert await livestreams.upkeep_viewer_reminders() == 1
        assert await livestreams.upkeep_viewer_reminders() == 0
    pending = [
        row
        for row in await outbox.messages_for(org.worker_a1.member_id or 0, "livestream_reminder")
        if row["status"] == "pending"
    ]
    assert sorted(row["activity_id"] for row in pending) == [
        listed[0].activity_id,
        listed[3].activity_id,
    ]
    assert pending[0]["due_at"] == listed[0].starts_at - timedelta(minutes=10)
    assert "https://live.example.cn/lx" in pending[0]["payload"]
    # A skipped episode's reminder never goes out; a cancelled one's neither.
    await livestreams.skip(org.organiser_a, listed[0].activity_id)
    await activities.cancel(org.organiser_a, listed[3].activity_id, "停播")
    statuses = await OutboxMessage.select(OutboxMessage.status).where(
        OutboxMessage.kind == "livestream_reminder"
    )
    assert {row["status"] for row in statuses} == {"superseded"}


async def test_a_year_of_weekly_episodes_costs_a_subscriber_a_weeks_reminders(org: Org) -> None:
    """A subscription records the reminders of the coming week, not of the year ahead; the
    worker's hourly upkeep (the kind's upkeep hook) records each later one in its week,
    once, and none for a viewer who has unsubscribed meanwhile."""
    channel_id = await new_channel(org)
    await livestreams.save_schedule(
        org.organiser_a, channel_id, tue_thu(end_date=date(2027, 2, 28))
    )
    assert len(await livestreams.episodes(channel_id)) > 100
    other = await add_member("13900000077", "观众小周", "ent-a1", ["worker"])
    await livestreams.subscribe(org.worker_a1, channel_id, None)
    await livestreams.subscribe(other, channel_id, None)

    async def recorded(member: Actor) -> int:
        return len(await outbox.messages_for(member.member_id or 0, "livestream_reminder"))

    assert await recorded(org.worker_a1) == 2  # 3 and 5 March (19:30 in Shanghai)
    await livestreams.unsubscribe(other.member_id or 0, channel_id)
    with clock.frozen_at(NOW + timedelta(days=7)):
        upkeep = await kinds.run_upkeep()
    assert upkeep["livestream"] == 2  # 10 and 12 March, for the one still subscribed
    assert await recorded(org.worker_a1) == 4
    assert await recorded(other) == 2  # and those 2 superseded


async def test_a_moved_episode_reminds_at_the_new_time_only(org: Org) -> None:
    channel_id = await new_channel(org)
    await livestreams.save_schedule(org.organiser_a, channel_id, tue_thu(end_date=date(2026, 3, 6)))
    await livestreams.subscribe(org.worker_a1, channel_id, None)
    listed = await livestreams.episodes(channel_id)
    later = listed[0].starts_at + timedelta(hours=2)
    await livestreams.move(org.organiser_a, listed[0].activity_id, later)
    rows = await OutboxMessage.select(OutboxMessage.status, OutboxMessage.due_at).where(
        OutboxMessage.activity_id == listed[0].activity_id
    )
    pending = [row["due_at"] for row in rows if row["status"] == "pending"]
    assert pending == [later - timedelta(minutes=10)]


async def test_an_episode_moved_by_the_activity_form_is_reminded_by_the_upkeep(org: Org) -> None:
    """The generic activity form moves an episode without the channel page's rescheduling:
    its old reminder is superseded by the core, and the next upkeep records the new one."""
    channel_id = await new_channel(org)
    await livestreams.save_schedule(org.organiser_a, channel_id, tue_thu(end_date=date(2026, 3, 6)))
    await livestreams.subscribe(org.worker_a1, channel_id, None)
    first = (await livestreams.episodes(channel_id))[0]
    current = await activities.get_activity(org.organiser_a, first.activity_id)
    later = first.starts_at + timedelta(hours=3)
    await activities.update_activity(
        org.organiser_a,
        first.activity_id,
        livestreams._same_activity(current, later, later + timedelta(hours=1)),
    )
    assert await kinds.run_upkeep() == {"livestream": 1}
    rows = await OutboxMessage.select(OutboxMessage.status, OutboxMessage.due_at).where(
        (OutboxMessage.activity_id == first.activity_id)
        & (OutboxMessage.kind == "livestream_reminder")
    )
    assert [row["due_at"] for row in rows if row["status"] == "pending"] == [
        later - timedelta(minutes=10)
    ]


async def test_unsubscribing_stops_every_recorded_reminder(org: Org) -> None:
    channel_id = await new_channel(org)
    await livestreams.save_schedule(
        org.organiser_a, channel_id, tue_thu(end_date=date(2026, 3, 13))
    )
    await livestreams.subscribe(org.worker_a1, channel_id, None)
    sub = await livestreams.my_subscription(org.worker_a1, channel_id)
    assert sub is not None and sub.whole_channel
    token = (await livestreams.Subscription.select().first().run())["token"]
    assert await livestreams.unsubscribe_by_token(token) is not None
    assert await livestreams.unsubscribe_by_token(token) is None  # the link is spent
    assert await livestreams.my_subscription(org.worker_a1, channel_id) is None
    rows = await OutboxMessage.select(OutboxMessage.status).where(
        OutboxMessage.kind == "livestream_reminder"
    )
    assert rows and {row["status"] for row in rows} == {"superseded"}


async def test_watch_opens_fifteen_minutes_before_the_start() -> None:
    start = NOW + timedelta(hours=1)
    end = start + timedelta(hours=1)
    assert not livestreams.watch_open(start, end, start - timedelta(minutes=16))
    assert livestreams.watch_open(start, end, start - timedelta(minutes=15))
    assert livestreams.watch_open(start, end, end)
    assert not livestreams.watch_open(start, end, end + timedelta(minutes=1))


@pytest.mark.parametrize(
    "figures",
    [
        FiguresIn(peak_concurrent=-1, unique_viewers=5, total_views=9, average_watch_minutes=3),
        FiguresIn(peak_concurrent=50, unique_viewers=40, total_views=90, average_watch_minutes=3),
        FiguresIn(peak_concurrent=5, unique_viewers=40, total_views=30, average_watch_minutes=3),
        FiguresIn(peak_concurrent=0, unique_viewers=0, total_views=0, average_watch_minutes=3),
        FiguresIn(peak_concurrent=1, unique_viewers=1, total_views=1, average_watch_minutes=-1),
    ],
)
async def test_impossible_figures_are_refused(
    org: Org, figures: FiguresIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel_id = await new_channel(org)
    await livestreams.save_schedule(org.organiser_a, channel_id, tue_thu(end_date=date(2026, 3, 6)))
    episode = (await livestreams.episodes(channel_id))[0]
    monkeypatch.setattr(clock, "now", lambda: episode.ends_at + timedelta(hours=1))
    with pytest.raises(DomainError) as caught:
        await livestreams.record_figures(org.organiser_a, episode.activity_id, figures)
    assert caught.value.code == "impossible_figures"
    assert await livestreams.figures_for([episode.activity_id]) == {}


async def test_figures_are_recorded_after_the_start_and_reported(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel_id = await new_channel(org)
    await livestreams.save_schedule(org.organiser_a, channel_id, tue_thu(end_date=date(2026, 3, 6)))
    episode = (await livestreams.episodes(channel_id))[0]
    good = FiguresIn(
        peak_concurrent=320,
        unique_viewers=1200,
        total_views=2100,
        average_watch_minutes=18.5,
        source="视频号后台",
    )
    with pytest.raises(DomainError):
        await livestreams.record_figures(org.organiser_a, episode.activity_id, good)
    monkeypatch.setattr(clock, "now", lambda: episode.ends_at + timedelta(hours=1))
    with pytest.raises(DomainError):
        await livestreams.record_figures(org.organiser_b, episode.activity_id, good)
    saved = await livestreams.record_figures(org.organiser_a, episode.activity_id, good)
    assert (saved.peak_concurrent, saved.unique_viewers, saved.total_views) == (320, 1200, 2100)
    assert set(saved.definitions) == {
        "peak_concurrent",
        "unique_viewers",
        "total_views",
        "average_watch_minutes",
    }
    from service.livestreams.reports import episode_section

    section = (await episode_section(episode.activity_id))[0]
    assert section.rows[1][:2] == ["观看人数", "1200"]  # zh-CN by default
    rows = await livestreams.summary(
        org.organiser_a.node_path, NOW - timedelta(days=1), NOW + timedelta(days=30)
    )
    assert rows[0].column == "板块1" and rows[0].month == "2026-03" and rows[0].episodes == 1


async def test_only_the_channels_organisers_manage_it(org: Org) -> None:
    channel_id = await new_channel(org)
    for actor in (org.organiser_b, org.worker_a1, org.staff_a):
        with pytest.raises(DomainError):
            await livestreams.save_schedule(actor, channel_id, tue_thu())
        with pytest.raises(DomainError):
            await livestreams.create_column(actor, channel_id, ColumnIn(name="x"))
    assert await Activity.count() == 0


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
async def test_the_feed_expands_to_exactly_the_episodes(org: Org, zone: str) -> None:
    """An independent reader (recurring-ical-events) expands the feed over a year, across
    a daylight-saving change, to the very starts the service lists: skipped and cancelled
    dates left out (EXDATE), a moved one at its new time (RECURRENCE-ID)."""
    import icalendar
    import recurring_ical_events

    from service.livestreams.feeds import channel_feed

    channel_id = await new_channel(org)
    await livestreams.save_schedule(
        org.organiser_a, channel_id, tue_thu(zone=zone, end_date=None, weekdays=["TU", "TH"])
    )
    listed = await livestreams.episodes(channel_id)
    assert len(listed) > 100
    await livestreams.skip(org.organiser_a, listed[2].activity_id)
    await livestreams.move(
        org.organiser_a, listed[5].activity_id, listed[5].starts_at + timedelta(days=1)
    )
    await activities.cancel(org.organiser_a, listed[9].activity_id, "停播")
    one_off = await activities.create_activity(
        org.organiser_a,
        ActivityIn(
            kind="livestream",
            title="特别节目",
            starts_at=NOW + timedelta(days=40, hours=3),
            ends_at=NOW + timedelta(days=40, hours=4),
            details={"channel_id": channel_id},
        ),
    )
    await activities.publish(org.organiser_a, one_off.id)
    feed = icalendar.Calendar.from_ical(await channel_feed(channel_id))
    expanded = recurring_ical_events.of(feed).between(NOW, NOW + timedelta(days=366))
    from_feed = sorted(event["DTSTART"].dt.astimezone(UTC) for event in expanded)
    known = sorted(
        one.starts_at.astimezone(UTC)
        for one in await livestreams.episodes(channel_id)
        if one.status == "published"
    )
    assert from_feed == known
    assert listed[2].starts_at not in from_feed
    assert listed[5].starts_at + timedelta(days=1) in from_feed


async def test_the_demo_channel(org: Org) -> None:
    from service.livestreams import demo

    created = await demo.seed(org.organiser_a)
    assert created == 12  # six weeks of Tuesdays and Thursdays
    channel = (await livestreams.list_channels())[0]
    assert len(await livestreams.list_columns(channel.id)) == 10
    listed = await livestreams.episodes(channel.id)
    assert sum(one.skipped for one in listed) == 1
    past = [one.activity_id for one in listed if one.ends_at < NOW]
    assert past and set(await livestreams.figures_for(past)) == set(past)
    crew = await livestreams.list_crew(channel.id)
    assert len(crew) == 12 and len({one.group for one in crew}) == 3
    rota = await livestreams.rota(channel.id)
    assert len(rota) == 11  # the skipped holiday has no crew
    assert all(len(one.duties) == 5 and one.department for one in rota)


async def test_the_summary_with_no_figures_is_empty(org: Org) -> None:
    from service.livestreams.reports import summary_section

    assert await summary_section(org.organiser_a, NOW - timedelta(days=30), NOW) == []


async def test_the_reminder_carries_the_link_and_the_unsubscribe_link(org: Org) -> None:
    from service.reminders import delivery

    channel_id = await new_channel(org)
    await livestreams.save_schedule(org.organiser_a, channel_id, tue_thu(end_date=date(2026, 3, 4)))
    await livestreams.subscribe(org.worker_a1, channel_id, None)
    row = (await outbox.messages_for(org.worker_a1.member_id or 0, "livestream_reminder"))[0]
    described = await activities.message_activity(row["activity_id"])
    title, body = delivery.render(row, "zh-CN", described)
    assert "19:30" in title
    assert "https://live.example.cn/lx" in body
    assert "/livestreams/unsubscribe/" in body
    # Delivered by the worker's own path: the batch sends it once, a rerun sends nothing.
    with clock.frozen_at(row["due_at"]):
        batches = await outbox.claim_batches()
        assert len(batches) == 1
        first = await delivery.deliver_batch(batches[0].message_ids, batches[0].claim)
        assert first == {row["id"]: "sent"}
        again = await delivery.deliver_batch(batches[0].message_ids, batches[0].claim)
        assert again == {row["id"]: "skipped"}
        assert await outbox.claim_batches() == []
