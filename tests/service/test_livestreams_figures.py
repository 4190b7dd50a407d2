"""Viewer figures per column and month are never added into one another: views add up;
unique viewers and the peak are the highest of one episode; the average watch minutes is
the mean per view (weighted by views); subscribers reminded are the distinct members
whose reminder was sent. Checked against a scenario computed by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from service import clock
from service.livestreams import services as livestreams
from service.livestreams.schemas import ChannelIn, ColumnIn, FiguresIn, RuleIn
from service.reminders import delivery
from service.reminders import services as outbox
from tests.conftest import Org, add_member

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
AFTER = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)  # when the figures are recorded


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@dataclass(frozen=True)
class Scenario:
    channel_id: int
    craftsman: list[int]  # 3 and 10 March
    classroom: list[int]  # 5 March


async def send_due(at: datetime) -> None:
    """The worker's own path: claim what is due and deliver it."""
    with clock.frozen_at(at):
        await livestreams.upkeep_viewer_reminders()
        for batch in await outbox.claim_batches():
            await delivery.deliver_batch(batch.message_ids, batch.claim)


async def build(org: Org) -> Scenario:
    """Three episodes: 运河工匠 on 3 and 10 March, 职工课堂 on 5 March. 小王 follows 运河工匠,
    老李 the whole channel, 小赵 follows 运河工匠 but leaves before any reminder is sent."""
    channel = await livestreams.create_channel(
        org.organiser_a, ChannelIn(name="理响工会直播间", stream_url="https://live.example.cn/lx")
    )
    craftsman, classroom = [
        (await livestreams.create_column(org.organiser_a, channel.id, ColumnIn(name=name))).id
        for name in ("运河工匠", "职工课堂")
    ]
    await livestreams.save_schedule(
        org.organiser_a,
        channel.id,
        RuleIn(
            weekdays=["TU", "TH"],
            start_date=date(2026, 3, 1),
            start_time="19:30",
            end_date=date(2026, 3, 10),
        ),
    )
    listed = await livestreams.episodes(channel.id)
    assert [one.column_id for one in listed] == [craftsman, classroom, craftsman]
    lao_li = await add_member("13900000011", "老李", "ent-a1", ["worker"])
    xiao_zhao = await add_member("13900000012", "小赵", "ent-a1", ["worker"])
    await livestreams.subscribe(org.worker_a1, channel.id, [craftsman])
    await livestreams.subscribe(lao_li, channel.id, None)
    await livestreams.subscribe(xiao_zhao, channel.id, [craftsman])
    await livestreams.unsubscribe(xiao_zhao.member_id or 0, channel.id)
    for one in listed:
        await send_due(one.starts_at - timedelta(minutes=10))
    figures = {
        listed[0].activity_id: FiguresIn(
            peak_concurrent=40, unique_viewers=100, total_views=300, average_watch_minutes=10
        ),
        listed[2].activity_id: FiguresIn(
            peak_concurrent=30, unique_viewers=50, total_views=100, average_watch_minutes=2
        ),
        listed[1].activity_id: FiguresIn(
            peak_concurrent=5, unique_viewers=20, total_views=20, average_watch_minutes=4
        ),
    }
    with clock.frozen_at(AFTER):
        for activity_id, values in figures.items():
            await livestreams.record_figures(org.organiser_a, activity_id, values)
    return Scenario(
        channel_id=channel.id,
        craftsman=[listed[0].activity_id, listed[2].activity_id],
        classroom=[listed[1].activity_id],
    )


async def test_the_summary_adds_only_what_adds_up(org: Org) -> None:
    scenario = await build(org)
    rows = await livestreams.summary(
        org.organiser_a.node_path, NOW - timedelta(days=1), NOW + timedelta(days=30)
    )
    by_column = {row.column: row for row in rows}
    craftsman = by_column["运河工匠"]
    assert craftsman.month == "2026-03" and craftsman.episodes == 2
    assert craftsman.total_views == 400  # 300 + 100: views add up
    assert craftsman.highest_unique_viewers == 100  # not 150: the same people may watch both
    assert craftsman.highest_peak_concurrent == 40
    assert craftsman.average_watch_minutes == 8.0  # (300×10 + 100×2) / 400, not (10 + 2) / 2
    assert craftsman.subscribers_reminded == 2  # 小王 and 老李, each once; 小赵 left first
    classroom = by_column["职工课堂"]
    assert (classroom.episodes, classroom.total_views, classroom.highest_unique_viewers) == (
        1,
        20,
        20,
    )
    assert classroom.average_watch_minutes == 4.0 and classroom.subscribers_reminded == 1
    assert await livestreams.reminded_count(scenario.craftsman[0]) == 2
    assert await livestreams.reminded_count(scenario.classroom[0]) == 1


async def test_the_report_sections_name_each_figure_honestly(org: Org) -> None:
    from service.livestreams.reports import episode_section, summary_section

    scenario = await build(org)
    section = (await summary_section(org.organiser_a, NOW - timedelta(days=1), AFTER))[0]
    header, *rows = section.rows
    assert header == [
        "月份",
        "板块",
        "有数据的期数",
        "总观看次数（累加）",
        "单期最高观看人数",
        "单期最高峰值在线人数",
        "每次观看平均时长（分钟，按观看次数加权）",
        "已提醒的订阅者（去重，已发送）",
    ]
    assert ["2026-03", "运河工匠", "2", "400", "100", "40", "8.0", "2"] in rows
    assert ["2026-03", "职工课堂", "1", "20", "20", "5", "4.0", "1"] in rows
    episode = (await episode_section(scenario.craftsman[0]))[0]
    assert episode.rows[4][:2] == ["已提醒的订阅者", "2"]


async def test_an_episode_with_no_views_has_no_average(org: Org) -> None:
    row = livestreams.summarise(
        "板块",
        "2026-03",
        [
            {
                "total_views": 0,
                "unique_viewers": 0,
                "peak_concurrent": 0,
                "average_watch_minutes": 0.0,
            }
        ],
        0,
    )
    assert row.average_watch_minutes is None and row.total_views == 0
