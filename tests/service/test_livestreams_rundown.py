"""An episode's own rundown: copied from its column's template when the episode is made
(and when its column changes, unless the organiser edited it), editable per episode
through the activity's details, flagged when longer than the slot, kept on regeneration;
editing a column's template never reaches an episode already made."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from service import clock
from service.activities import services as activities
from service.errors import DomainError
from service.livestreams import services as livestreams
from service.livestreams.schemas import ChannelIn, ColumnIn, EpisodeOut, RuleIn, Segment
from service.livestreams.tables import Episode
from service.orgs.schemas import Actor
from tests.conftest import Org

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
TEMPLATE_1 = "开场 | 5 | 主持人\n访谈 | 40"
TEMPLATE_2 = "导语 | 10 | 主持人\n课堂 | 45 | 讲师"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


async def channel_with_episodes(org: Org) -> tuple[int, list[int], list[EpisodeOut]]:
    """Two columns taking turns, 60-minute slots, Tuesdays and Thursdays of March."""
    channel = await livestreams.create_channel(
        org.organiser_a,
        ChannelIn(name="理响工会直播间", stream_url="https://live.example.cn/lx"),
    )
    columns = [
        (
            await livestreams.create_column(
                org.organiser_a, channel.id, ColumnIn(name=name, rundown=template)
            )
        ).id
        for name, template in (("运河工匠", TEMPLATE_1), ("职工课堂", TEMPLATE_2))
    ]
    await livestreams.save_schedule(
        org.organiser_a,
        channel.id,
        RuleIn(
            weekdays=["TU", "TH"],
            start_date=date(2026, 3, 1),
            start_time="19:30",
            end_date=date(2026, 3, 31),
            minutes=60,
        ),
    )
    return channel.id, columns, await livestreams.episodes(channel.id)


async def edit_details(actor: Actor, activity_id: int, **changes: Any) -> None:
    """The episode PUT: the activity as it is, with these details changed."""
    current = await activities.get_activity(actor, activity_id)
    details = {key: current.details[key] for key in ("channel_id", "column_id", "topic", "guests")}
    details.update(changes)
    data = livestreams._same_activity(current, current.starts_at, current.ends_at)
    await activities.update_activity(
        actor, activity_id, msgspec.structs.replace(data, details=details)
    )


def titles(one: EpisodeOut) -> list[str]:
    return [segment.title for segment in one.rundown]


async def by_id(channel_id: int) -> dict[int, EpisodeOut]:
    return {one.activity_id: one for one in await livestreams.episodes(channel_id)}


async def test_generated_episodes_carry_a_copy_of_their_columns_template(org: Org) -> None:
    channel_id, columns, listed = await channel_with_episodes(org)
    assert titles(listed[0]) == ["开场", "访谈"] and listed[0].rundown_minutes == 45
    assert titles(listed[1]) == ["导语", "课堂"] and listed[1].rundown_minutes == 55
    assert not any(one.rundown_edited or one.rundown_too_long for one in listed)
    # The template changes later: the episodes already made keep their copy.
    await livestreams.update_column(
        org.organiser_a, channel_id, columns[0], ColumnIn(name="运河工匠", rundown="全新 | 90")
    )
    after = await livestreams.episodes(channel_id)
    assert [titles(one) for one in after] == [titles(one) for one in listed]
    assert not any(one.rundown_too_long for one in after)


async def test_one_episodes_rundown_is_edited_flagged_and_kept(org: Org) -> None:
    channel_id, columns, listed = await channel_with_episodes(org)
    first, third = listed[0], listed[2]  # both of the first column
    long_rundown = [
        {"title": "开场", "minutes": 5, "who": "主持人"},
        {"title": "劳模访谈", "minutes": 50, "who": "张师傅"},
        {"title": "问答", "minutes": 15},
    ]
    await edit_details(org.organiser_a, first.activity_id, rundown=long_rundown)
    found = await by_id(channel_id)
    edited = found[first.activity_id]
    assert titles(edited) == ["开场", "劳模访谈", "问答"]
    assert edited.rundown[1] == Segment(title="劳模访谈", minutes=50, who="张师傅")
    assert edited.rundown_minutes == 70 and edited.rundown_too_long  # 70 min in a 60 min slot
    assert edited.rundown_edited
    assert titles(found[third.activity_id]) == ["开场", "访谈"]  # the other episode is as it was
    assert (await livestreams.get_column(channel_id, columns[0])).rundown_minutes == 45

    # Regenerating, and changing the column of this and later ones, keep the edited rundown;
    # the unedited later episodes take the new column's template.
    await livestreams.generate(org.organiser_a, channel_id)
    await livestreams.change_later(
        org.organiser_a, first.activity_id, start_time=None, minutes=None, column_id=columns[1]
    )
    found = await by_id(channel_id)
    assert found[first.activity_id].column_id == columns[1]
    assert titles(found[first.activity_id]) == ["开场", "劳模访谈", "问答"]
    assert titles(found[third.activity_id]) == ["导语", "课堂"]


async def test_a_new_column_brings_its_template_unless_the_rundown_was_edited(org: Org) -> None:
    channel_id, columns, listed = await channel_with_episodes(org)
    untouched, edited = listed[0], listed[2]
    await edit_details(org.organiser_a, edited.activity_id, rundown="自定义 | 30 | 我")
    # The activity form sends the rundown back as it shows it: that is no edit.
    await edit_details(
        org.organiser_a, untouched.activity_id, rundown="开场 | 5 | 主持人\n访谈 | 40", topic="新题"
    )
    assert not (await by_id(channel_id))[untouched.activity_id].rundown_edited
    for one in (untouched, edited):
        await edit_details(org.organiser_a, one.activity_id, column_id=columns[1])
    found = await by_id(channel_id)
    assert titles(found[untouched.activity_id]) == ["导语", "课堂"]
    assert titles(found[edited.activity_id]) == ["自定义"]
    # Leaving the rundown out of the details keeps it as stored.
    await edit_details(org.organiser_a, edited.activity_id, topic="又一题")
    assert titles((await by_id(channel_id))[edited.activity_id]) == ["自定义"]


@pytest.mark.parametrize(
    "rundown",
    [
        {"title": "开场", "minutes": 5},  # not a list
        ["开场 | 5"],  # a list of text
        [{"title": "", "minutes": 5}],  # no title
        [{"title": "   ", "minutes": 5}],
        [{"title": "开场", "minutes": 0}],
        [{"title": "开场", "minutes": 601}],
        [{"title": "开场", "minutes": "5"}],
        [{"title": "开场", "minutes": True}],
        [{"title": "开场", "minutes": 5.5}],
        [{"title": "开场"}],
        [{"title": "开场", "minutes": 5, "colour": "red"}],
        [{"title": "开" * 101, "minutes": 5}],
        [{"title": "开场", "minutes": 5, "who": "主" * 101}],
        [{"title": "a | b", "minutes": 5}],
        [{"title": "开场\x00", "minutes": 5}],
        [{"title": f"第{n}段", "minutes": 1} for n in range(31)],
        "开场 | 五分钟",
        "开场 | 99999999999999999999",
        "\n".join(f"第{n}段 | 1" for n in range(31)),
        "开场 | 5\n" * 1000,
    ],
)
async def test_a_bad_rundown_is_refused_and_nothing_is_written(org: Org, rundown: Any) -> None:
    _, _, listed = await channel_with_episodes(org)
    before = await Episode.select(Episode.rundown, Episode.topic).order_by(Episode.id).run()
    with pytest.raises(DomainError) as refused:
        await edit_details(org.organiser_a, listed[0].activity_id, rundown=rundown, topic="改了")
    assert refused.value.field == "details.rundown"
    assert await Episode.select(Episode.rundown, Episode.topic).order_by(Episode.id).run() == before


async def test_thirty_segments_of_six_hundred_minutes_are_the_limits(org: Org) -> None:
    channel_id, _, listed = await channel_with_episodes(org)
    most = [{"title": "开" * 100, "minutes": 600, "who": "主" * 100}] * 30
    await edit_details(org.organiser_a, listed[0].activity_id, rundown=most)
    found = (await by_id(channel_id))[listed[0].activity_id]
    assert len(found.rundown) == 30 and found.rundown_minutes == 18000 and found.rundown_too_long


async def test_only_the_channels_organisers_edit_a_rundown(org: Org) -> None:
    channel_id, _, listed = await channel_with_episodes(org)
    for actor in (org.organiser_b, org.worker_a1, org.staff_a):
        with pytest.raises(DomainError):
            await edit_details(actor, listed[0].activity_id, rundown="抢 | 5")
    assert titles((await by_id(channel_id))[listed[0].activity_id]) == ["开场", "访谈"]


async def test_a_copied_episode_keeps_the_rundown(org: Org) -> None:
    _, _, listed = await channel_with_episodes(org)
    await edit_details(org.organiser_a, listed[0].activity_id, rundown="特别 | 20 | 嘉宾")
    copied = await activities.duplicate(org.organiser_a, listed[0].activity_id)
    assert copied.details is not None
    assert copied.details["rundown"] == [{"title": "特别", "minutes": 20, "who": "嘉宾"}]


async def test_the_backfill_copies_each_columns_template_to_its_episodes(org: Org) -> None:
    """The migration that adds the column fills it for the episodes already there."""
    from service.livestreams.piccolo_migrations import (
        livestreams_2026_12_05t08_10_01_000000 as backfill,
    )

    channel_id, _, listed = await channel_with_episodes(org)
    await Episode.update({Episode.rundown: "[]"}, force=True).run()
    manager = await backfill.forwards()
    for step in manager.raw:
        await step()
    rows = await Episode.select(Episode.activity, Episode.rundown).run()
    rundowns = {row["activity"]: json.loads(row["rundown"]) for row in rows}
    assert rundowns[listed[0].activity_id] == [
        {"title": "开场", "minutes": 5, "who": "主持人"},
        {"title": "访谈", "minutes": 40, "who": ""},
    ]
    assert [one["title"] for one in rundowns[listed[1].activity_id]] == ["导语", "课堂"]
    assert titles((await by_id(channel_id))[listed[1].activity_id]) == ["导语", "课堂"]
