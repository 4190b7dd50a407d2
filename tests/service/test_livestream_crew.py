"""The livestream crew and rota through the services and the database: crew of the
channel's organisation, role needs, blockouts, a plan that says why, re-plans that keep
the past and accepted duties, declines, swaps approved by the organiser, duty reminders
through the outbox, and the private duty feed that can be revoked."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from service import clock
from service.errors import DomainError, NotFound
from service.livestreams import feeds
from service.livestreams import services as livestreams
from service.livestreams.schemas import BlockoutIn, ChannelIn, CrewIn, NeedIn, RuleIn
from service.livestreams.tables import Duty
from service.orgs.schemas import Actor
from service.reminders.tables import OutboxMessage
from tests.conftest import Org, add_member

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


async def crewed_channel(org: Org) -> tuple[int, dict[str, Actor], dict[str, int]]:
    """Tue/Thu 19:30 for March and April; three hosts and three camera operators from
    two departments; two cameras an episode."""
    channel = await livestreams.create_channel(
        org.organiser_a, ChannelIn(name="理响工会直播间", stream_url="https://live.example.cn/lx")
    )
    await livestreams.save_schedule(
        org.organiser_a,
        channel.id,
        RuleIn(
            weekdays=["TU", "TH"],
            start_date=date(2026, 3, 1),
            start_time="19:30",
            end_date=date(2026, 4, 30),
        ),
    )
    people: dict[str, Actor] = {}
    crew: dict[str, int] = {}
    for index, (name, role, department) in enumerate(
        [
            ("主持甲", "host", "宣教部"),
            ("主持乙", "host", "法律部"),
            ("主持丙", "host", "宣教部"),
            ("摄像甲", "camera", "法律部"),
            ("摄像乙", "camera", "宣教部"),
            ("摄像丙", "camera", "法律部"),
        ]
    ):
        actor = await add_member(f"1390000{index:04d}", name, "union-a", ["worker"])
        people[name] = actor
        assert actor.member_id is not None
        added = await livestreams.add_crew(
            org.organiser_a,
            channel.id,
            CrewIn(member_id=actor.member_id, role=role, department=department),
        )
        crew[name] = added.id
    await livestreams.set_need(org.organiser_a, channel.id, NeedIn(role="camera", needed=2))
    return channel.id, people, crew


async def test_the_rota_gives_each_episode_a_host_department_and_roles_with_reasons(
    org: Org,
) -> None:
    channel_id, _, crew = await crewed_channel(org)
    planned = await livestreams.plan_rota(org.organiser_a, channel_id)
    assert planned.planned == 18 * 3  # 18 episodes: a host and two cameras each
    listed = await livestreams.rota(channel_id)
    assert len(listed) == 18
    first = listed[0]
    assert [d.role for d in first.duties] == ["host", "camera", "camera"]
    assert first.department_reason == "next_department"
    assert [e.department for e in listed[:3]] == ["宣教部", "法律部", "宣教部"]
    hosts = [e.duties[0].crew_id for e in listed]
    assert hosts[:6] == [crew["主持甲"], crew["主持乙"], crew["主持丙"]] * 2
    assert {d.reason for e in listed for d in e.duties} <= {
        "fewest_so_far",
        "longest_since_last",
        "only_available",
    }
    # Planning again changes nothing and writes nothing new.
    again = await livestreams.plan_rota(org.organiser_a, channel_id)
    assert again.planned == 0
    assert [e.duties for e in await livestreams.rota(channel_id)] == [e.duties for e in listed]


async def test_replanning_after_a_blockout_keeps_the_past_and_accepted_duties(org: Org) -> None:
    channel_id, people, crew = await crewed_channel(org)
    await livestreams.plan_rota(org.organiser_a, channel_id)
    before = await livestreams.rota(channel_id)
    # 主持乙 accepts their first duty; then they are blocked out for all of April.
    mine = await livestreams.my_duties(people["主持乙"])
    accepted = await livestreams.answer_duty(people["主持乙"], mine[0].id, accept=True)
    assert accepted.status == "accepted"
    await livestreams.add_blockout(
        people["主持乙"],
        crew["主持乙"],
        BlockoutIn(starts_on=date(2026, 3, 10), ends_on=date(2026, 4, 30), reason="培训"),
    )
    # Two weeks later (four episodes are past), the organiser re-plans.
    with clock.frozen_at(NOW + timedelta(days=14)):
        await livestreams.plan_rota(org.organiser_a, channel_id)
    after = await livestreams.rota(channel_id)
    past = [e for e in before if e.starts_at <= NOW + timedelta(days=14)]
    assert len(past) == 4

    def who(episodes: list) -> list:  # type: ignore[type-arg]
        return [[(d.id, d.crew_id, d.role, d.reason) for d in e.duties] for e in episodes]

    assert who(after[:4]) == who(past)
    assert [e.department for e in after[:4]] == [e.department for e in past]
    later = [d for e in after[4:] for d in e.duties if d.crew_id == crew["主持乙"]]
    # Only the accepted duty (March 5, before the blockout) is theirs; none in the range.
    assert all(d.starts_at < datetime(2026, 3, 10, tzinfo=UTC) for d in later)


async def test_a_weekly_blockout_keeps_someone_off_that_weekday(org: Org) -> None:
    channel_id, people, crew = await crewed_channel(org)
    await livestreams.add_blockout(
        people["主持甲"],
        crew["主持甲"],
        BlockoutIn(starts_on=date(2026, 3, 3), weekly=True, reason="每周二值班"),
    )
    await livestreams.plan_rota(org.organiser_a, channel_id)
    for episode in await livestreams.rota(channel_id):
        host = episode.duties[0]
        if episode.starts_at.astimezone(livestreams.get_settings().zone).weekday() == 1:
            assert host.crew_id != crew["主持甲"]


async def test_too_few_people_is_said_with_the_date_and_nothing_is_written(org: Org) -> None:
    channel_id, _, crew = await crewed_channel(org)
    for name in ("摄像甲", "摄像乙"):
        await livestreams.add_blockout(
            org.organiser_a, crew[name], BlockoutIn(starts_on=date(2026, 3, 12), reason="出差")
        )
    with pytest.raises(DomainError) as caught:
        await livestreams.plan_rota(org.organiser_a, channel_id)
    assert caught.value.code == "rota_short"
    assert caught.value.params["date"] == "2026-03-12"
    assert (caught.value.params["available"], caught.value.params["needed"]) == (1, 2)
    assert await Duty.count() == 0
    assert await OutboxMessage.count().where(OutboxMessage.kind == "livestream_duty") == 0


async def test_a_decline_is_replanned_to_someone_else_and_reminders_follow(org: Org) -> None:
    channel_id, people, crew = await crewed_channel(org)
    await livestreams.plan_rota(org.organiser_a, channel_id)
    first = (await livestreams.my_duties(people["主持甲"]))[0]
    reminders = await OutboxMessage.select().where(
        (OutboxMessage.kind == "livestream_duty")
        & (OutboxMessage.activity_id == first.activity_id)
        & (OutboxMessage.member == people["主持甲"].member_id)
    )
    assert len(reminders) == 1
    assert reminders[0]["due_at"] == max(first.starts_at - timedelta(days=1), NOW)
    await livestreams.answer_duty(people["主持甲"], first.id, accept=False)
    episode = next(
        e for e in await livestreams.rota(channel_id) if e.activity_id == first.activity_id
    )
    assert episode.duties[0].crew_id != crew["主持甲"]
    pending = await OutboxMessage.select(OutboxMessage.status).where(
        (OutboxMessage.kind == "livestream_duty")
        & (OutboxMessage.activity_id == first.activity_id)
        & (OutboxMessage.member == people["主持甲"].member_id)
    )
    assert [row["status"] for row in pending] == ["superseded"]
    # Re-planning again never hands the declined duty back.
    await livestreams.plan_rota(org.organiser_a, channel_id)
    episode = next(
        e for e in await livestreams.rota(channel_id) if e.activity_id == first.activity_id
    )
    assert episode.duties[0].crew_id != crew["主持甲"]


async def test_a_decline_nobody_can_cover_is_refused(org: Org) -> None:
    channel_id, people, crew = await crewed_channel(org)
    await livestreams.plan_rota(org.organiser_a, channel_id)
    first = (await livestreams.my_duties(people["摄像甲"]))[0]
    day = first.starts_at.astimezone(livestreams.get_settings().zone).date()
    for name in ("摄像乙", "摄像丙"):
        others = [
            d
            for d in await livestreams.my_duties(people[name])
            if d.activity_id == first.activity_id
        ]
        if not others:
            await livestreams.add_blockout(org.organiser_a, crew[name], BlockoutIn(starts_on=day))
    with pytest.raises(DomainError) as caught:
        await livestreams.answer_duty(people["摄像甲"], first.id, accept=False)
    assert caught.value.code == "rota_short"
    assert (await livestreams.my_duties(people["摄像甲"]))[0].status == "planned"


async def test_a_swap_needs_a_free_colleague_and_the_organisers_approval(org: Org) -> None:
    channel_id, people, crew = await crewed_channel(org)
    await livestreams.plan_rota(org.organiser_a, channel_id)
    duty = (await livestreams.my_duties(people["主持甲"]))[0]
    day = duty.starts_at.astimezone(livestreams.get_settings().zone).date()
    await livestreams.add_blockout(
        people["主持丙"], crew["主持丙"], BlockoutIn(starts_on=day, reason="家中有事")
    )
    with pytest.raises(DomainError) as blocked:
        await livestreams.request_swap(people["主持甲"], duty.id, crew["主持丙"])
    assert blocked.value.code == "swap_blocked_out"
    with pytest.raises(DomainError):  # not the same role
        await livestreams.request_swap(people["主持甲"], duty.id, crew["摄像甲"])
    with pytest.raises(NotFound):  # not their duty
        await livestreams.request_swap(people["主持乙"], duty.id, crew["主持乙"])
    assert [c.id for c in await livestreams.colleagues(people["主持甲"], duty.id)] == [
        crew["主持乙"]
    ]
    asked = await livestreams.request_swap(people["主持甲"], duty.id, crew["主持乙"])
    assert asked.swap_with == crew["主持乙"]
    assert [d.id for d in await livestreams.swap_requests(org.organiser_a, channel_id)] == [duty.id]
    with pytest.raises(NotFound):  # another node's organiser
        await livestreams.decide_swap(org.organiser_b, duty.id, approve=True)
    swapped = await livestreams.decide_swap(org.organiser_a, duty.id, approve=True)
    assert (swapped.crew_id, swapped.reason, swapped.status) == (
        crew["主持乙"],
        "swapped",
        "planned",
    )
    assert duty.id in [d.id for d in await livestreams.my_duties(people["主持乙"])]
    assert duty.id not in [d.id for d in await livestreams.my_duties(people["主持甲"])]


async def test_crew_are_members_of_the_channels_organisation(org: Org) -> None:
    channel_id, _, _ = await crewed_channel(org)
    outsider = await add_member("13911112222", "外人", "union-b", ["worker"])
    with pytest.raises((NotFound, DomainError)):
        await livestreams.add_crew(
            org.organiser_a, channel_id, CrewIn(member_id=outsider.member_id or 0, role="host")
        )
    with pytest.raises(DomainError):
        await livestreams.add_crew(
            org.organiser_a, channel_id, CrewIn(member_id=org.worker_a1.member_id or 0, role="dj")
        )
    with pytest.raises(DomainError):
        await livestreams.set_need(org.organiser_a, channel_id, NeedIn(role="camera", needed=99))


async def test_adding_the_same_member_twice_at_once_adds_one(org: Org) -> None:
    channel_id, _, _ = await crewed_channel(org)
    member_id = org.worker_a1.member_id or 0
    results = await asyncio.gather(
        *[
            livestreams.add_crew(
                org.organiser_a, channel_id, CrewIn(member_id=member_id, role="editor")
            )
            for _ in range(3)
        ],
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
    assert all(isinstance(r, DomainError) for r in results if isinstance(r, BaseException))


async def test_the_private_duty_feed_lists_the_duties_and_can_be_revoked(org: Org) -> None:
    channel_id, people, crew = await crewed_channel(org)
    await livestreams.plan_rota(org.organiser_a, channel_id)
    with pytest.raises(NotFound):  # only the crew member themself
        await livestreams.duty_feed_token(people["主持乙"], crew["主持甲"])
    token = await livestreams.duty_feed_token(people["主持甲"], crew["主持甲"])
    assert len(token) >= 40
    feed = await feeds.duty_feed(token)
    assert feed is not None
    events = [c for c in Calendar.from_ical(feed).walk("VEVENT")]
    mine = await livestreams.my_duties(people["主持甲"])
    assert sorted(e.decoded("dtstart") for e in events) == [d.starts_at for d in mine]
    new = await livestreams.revoke_duty_feed(people["主持甲"], crew["主持甲"])
    assert new != token
    assert await feeds.duty_feed(token) is None
    assert await feeds.duty_feed(new) is not None
    assert await feeds.duty_feed("") is None
    assert await feeds.duty_feed("x" * 5000) is None
