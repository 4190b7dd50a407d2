"""The kinds registry: kinds registered only here exercise every hook the activity core
offers (details through create / update / duplicate, its report and summary sections, its
reminder rules, its own start message moved with the activity, its scheduled upkeep), and
the core reads what a kind allows. The form and page partials are covered by each room's
page tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from piccolo.columns import ForeignKey, Integer, OnDelete, Varchar
from piccolo.table import Table

from service import clock, kinds, rooms
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.activities.tables import Activity
from service.errors import DomainError
from service.reminders import policy, texts
from service.reminders.services import messages_for
from service.reports import services as reports
from service.reports.schemas import ReportSection
from tests.conftest import Org, add_member

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


class LectureDetails(Table, tablename="test_lecture_details"):
    activity = ForeignKey(Activity, null=False, unique=True, on_delete=OnDelete.cascade)
    speaker = Varchar(length=60)
    handouts = Integer(default=0)


class LectureHooks:
    """Details kept in the test's own table, keyed by activity id."""

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(raw) - {"speaker", "handouts"}
        if unknown:
            raise DomainError("validation_error", "Unknown field.", field="details")
        speaker = str(raw.get("speaker", "")).strip()
        if not speaker:
            raise DomainError("validation_error", "Name the speaker.", field="details.speaker")
        handouts = int(raw.get("handouts", 0))
        return {"speaker": speaker, "handouts": handouts}

    async def write(self, activity_id: int, values: dict[str, Any]) -> None:
        await LectureDetails.delete().where(LectureDetails.activity == activity_id).run()
        await LectureDetails.insert(LectureDetails(activity=activity_id, **values)).run()

    async def read(self, activity_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        rows = await LectureDetails.select().where(
            LectureDetails.activity.is_in(list(activity_ids))
        )
        return {
            row["activity"]: {"speaker": row["speaker"], "handouts": row["handouts"]}
            for row in rows
        }

    async def copy(self, source_id: int, target_id: int) -> None:
        found = (await self.read([source_id]))[source_id]
        await self.write(target_id, found)


async def lecture_section(activity_id: int) -> list[ReportSection]:
    found = (await LectureHooks().read([activity_id])).get(activity_id, {})
    return [
        ReportSection(
            kind="test_lecture",
            title="Handouts",
            rows=[[found.get("speaker", ""), str(found.get("handouts", 0))]],
        )
    ]


LECTURE = kinds.Kind(
    code="test_lecture",
    label="Lecture",
    reminder_rules=(kinds.TEN_MINUTES,),
    details=LectureHooks(),
    report_section=lecture_section,
)


@pytest.fixture
async def lecture_kind() -> AsyncIterator[kinds.Kind]:
    await LectureDetails.create_table(if_not_exists=True).run()
    kinds.register(LECTURE)
    try:
        yield LECTURE
    finally:
        kinds.unregister(LECTURE.code)
        await LectureDetails.alter().drop_table(if_exists=True).run()


def lecture(**overrides: Any) -> ActivityIn:
    values: dict[str, Any] = {
        "kind": "test_lecture",
        "title": "安全生产讲座",
        "starts_at": NOW + timedelta(days=3),
        "ends_at": NOW + timedelta(days=3, hours=2),
        "capacity": 20,
        "venue": VenueIn(name="工人文化宫", address="人民路 1 号"),
        "details": {"speaker": "李工", "handouts": 30},
    }
    values.update(overrides)
    return ActivityIn(**values)


async def test_details_round_trip_through_create_update_and_duplicate(
    org: Org, lecture_kind: kinds.Kind
) -> None:
    created = await activities.create_activity(org.organiser_a, lecture())
    assert created.details == {"speaker": "李工", "handouts": 30}
    assert (await activities.get_activity(org.organiser_a, created.id)).details == {
        "speaker": "李工",
        "handouts": 30,
    }

    updated = await activities.update_activity(
        org.organiser_a, created.id, lecture(details={"speaker": "王工", "handouts": 5})
    )
    assert updated.details == {"speaker": "王工", "handouts": 5}
    # Details left out of an update keep what is stored.
    kept = await activities.update_activity(org.organiser_a, created.id, lecture(details=None))
    assert kept.details == {"speaker": "王工", "handouts": 5}

    copy = await activities.duplicate(org.organiser_a, created.id)
    assert copy.id != created.id
    assert copy.details == {"speaker": "王工", "handouts": 5}
    assert await LectureDetails.count() == 2


async def test_bad_details_are_refused_and_nothing_is_written(
    org: Org, lecture_kind: kinds.Kind
) -> None:
    for details in ({"speaker": " "}, {"speaker": "李工", "colour": "red"}):
        with pytest.raises(DomainError) as caught:
            await activities.create_activity(org.organiser_a, lecture(details=details))
        assert caught.value.code == "validation_error"
        assert str(caught.value.field).startswith("details")
    assert await Activity.count() == 0
    assert await LectureDetails.count() == 0


async def test_details_for_a_kind_without_details_are_refused(org: Org) -> None:
    with pytest.raises(DomainError) as caught:
        await activities.create_activity(
            org.organiser_a, lecture(kind="reading_session", details={"speaker": "李工"})
        )
    assert (caught.value.code, caught.value.field) == ("validation_error", "details")
    assert await Activity.count() == 0


async def test_an_unregistered_kind_is_refused(org: Org) -> None:
    with pytest.raises(DomainError) as caught:
        await activities.create_activity(org.organiser_a, lecture(kind="test_lecture"))
    assert (caught.value.code, caught.value.field) == ("validation_error", "kind")
    with pytest.raises(DomainError):
        await activities.list_activities(org.organiser_a, kind="party")
    assert await Activity.count() == 0


async def test_the_kind_of_an_activity_cannot_change(org: Org, lecture_kind: kinds.Kind) -> None:
    created = await activities.create_activity(org.organiser_a, lecture())
    with pytest.raises(DomainError) as caught:
        await activities.update_activity(
            org.organiser_a, created.id, lecture(kind="reading_session", details=None)
        )
    assert caught.value.code == "kind_not_editable"
    assert (await activities.get_activity(org.organiser_a, created.id)).kind == "test_lecture"


async def test_its_reminder_rule_and_report_section_are_used(
    org: Org, lecture_kind: kinds.Kind
) -> None:
    with clock.frozen_at(NOW):
        created = await activities.create_activity(org.organiser_a, lecture())
        await activities.publish(org.organiser_a, created.id)
        worker = await add_member("13700000001", "职工一", "ent-a1", ["worker"], "courier")
        await activities.register(worker, created.id)
    reminders = [
        row["kind"]
        for row in await messages_for(worker.member_id or 0)
        if row["kind"] in policy.REMINDER_KINDS
    ]
    assert reminders == ["reminder_10m"]  # the kind's rule, not the usual day-before + 1 h
    report = await reports.activity_report(org.organiser_a, created.id)
    assert report.sections == [
        ReportSection(kind="test_lecture", title="Handouts", rows=[["李工", "30"]])
    ]


@pytest.mark.parametrize("code", ["livestream", "heat_relief"])
async def test_kinds_without_sign_up_refuse_it_with_a_stable_code(org: Org, code: str) -> None:
    with clock.frozen_at(NOW):
        created = await activities.create_activity(
            org.organiser_a, lecture(kind=code, capacity=None, details=None)
        )
        await activities.publish(org.organiser_a, created.id)
        with pytest.raises(DomainError) as caught:
            await activities.register(org.worker_a1, created.id)
    assert (caught.value.code, caught.value.status_code) == ("signup_not_offered", 409)
    assert await messages_for(org.worker_a1.member_id or 0) == []


async def test_a_kind_without_places_takes_no_capacity(org: Org) -> None:
    with pytest.raises(DomainError) as caught:
        await activities.create_activity(
            org.organiser_a, lecture(kind="livestream", capacity=50, details=None)
        )
    assert (caught.value.code, caught.value.field) == ("validation_error", "capacity")


def test_every_room_kind_is_registered_from_the_one_list_of_rooms() -> None:
    registered = {kind.code for kind in kinds.all_kinds()}
    assert {"job_fair", "reading_session", "livestream", "heat_relief"} <= registered
    assert {"jobfairs", "reading", "livestreams", "heatrelief"} <= set(rooms.ROOMS)
    offers = {kind.code: kind.offers() for kind in kinds.all_kinds()}
    assert offers["livestream"] == {
        "places": False,
        "signup": False,
        "tickets": False,
        "door": False,
    }
    assert offers["heat_relief"]["signup"] is False
    assert offers["job_fair"] == {"places": True, "signup": True, "tickets": True, "door": True}


def test_a_kind_cannot_offer_a_door_without_tickets_or_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="door needs tickets"):
        kinds.Kind(code="x", label="X", places=False, signup=True, tickets=False, door=True)
    with pytest.raises(ValueError, match="registered twice"):
        kinds.register(kinds.Kind(code="job_fair", label="Job fair"))


async def test_a_kind_s_check_sees_the_cleaned_values_and_refuses_before_any_write(
    org: Org, lecture_kind: kinds.Kind
) -> None:
    """The generic pre-write hook: create (no stored id), update (the activity's id; None
    details when they are kept) and duplicate (the source's id) all pass through it."""
    seen: list[tuple[int | None, Any, Any]] = []

    async def at_most_ten_places(
        values: Mapping[str, Any], details: Any, stored_id: int | None
    ) -> None:
        seen.append((values["capacity"], details, stored_id))
        if values["capacity"] > 10:
            raise DomainError("too_many", "At most ten.", field="capacity")

    checked = kinds.Kind(
        code="test_checked",
        label="Checked lecture",
        details=LectureHooks(),
        check=at_most_ten_places,
    )
    kinds.register(checked)
    try:
        with pytest.raises(DomainError) as caught:
            await activities.create_activity(
                org.organiser_a, lecture(kind="test_checked", capacity=11)
            )
        assert caught.value.code == "too_many"
        assert await Activity.count() == 0
        assert await LectureDetails.count() == 0

        created = await activities.create_activity(
            org.organiser_a, lecture(kind="test_checked", capacity=10)
        )
        with pytest.raises(DomainError):
            await activities.update_activity(
                org.organiser_a, created.id, lecture(kind="test_checked", capacity=12, details=None)
            )
        assert (await activities.get_activity(org.organiser_a, created.id)).capacity == 10
        await activities.duplicate(org.organiser_a, created.id)
    finally:
        kinds.unregister(checked.code)
    assert seen == [
        (11, {"speaker": "李工", "handouts": 30}, None),
        (10, {"speaker": "李工", "handouts": 30}, None),
        (12, None, created.id),
        (10, None, created.id),
    ]


# A kind that also sends a message of its own at the start, adds a section to the summary
# report and does scheduled upkeep: the core must use each without naming the kind.
BRING_ID = "test_lecture_bring_id"
BRING_ID_RULE = kinds.ReminderRule(BRING_ID, minutes_before=30)


async def lecture_summary(actor: Any, start: datetime, end: datetime) -> list[ReportSection]:
    held = await Activity.count().where(
        (Activity.kind == "test_lecture")
        & (Activity.starts_at >= start)
        & (Activity.starts_at < end)
    )
    return [ReportSection(kind="test_lecture", title="Lectures held", rows=[[str(held)]])]


UPKEEP_RUNS: list[int] = []


async def lecture_upkeep() -> int:
    UPKEEP_RUNS.append(1)
    return 7


SEMINAR = kinds.Kind(
    code="test_lecture",
    label="Lecture",
    reminder_rules=(BRING_ID_RULE,),
    messages={BRING_ID: ("Bring your ID to %(title)s", "It starts at %(time)s, %(where)s.")},
    start_reminders=(BRING_ID,),
    summary_section=lecture_summary,
    upkeep=lecture_upkeep,
)


@pytest.fixture
async def seminar_kind() -> AsyncIterator[kinds.Kind]:
    kinds.register(SEMINAR)
    try:
        yield SEMINAR
    finally:
        kinds.unregister(SEMINAR.code)


async def test_its_own_start_message_is_sent_moved_with_the_activity_and_rendered(
    org: Org, seminar_kind: kinds.Kind
) -> None:
    with clock.frozen_at(NOW):
        created = await activities.create_activity(org.organiser_a, lecture(details=None))
        await activities.publish(org.organiser_a, created.id)
        worker = await add_member("13700000001", "职工一", "ent-a1", ["worker"], "courier")
        await activities.register(worker, created.id)
        (first,) = await messages_for(worker.member_id or 0, BRING_ID)
        assert first["due_at"] == created.starts_at - timedelta(minutes=30)
        later = created.starts_at + timedelta(hours=2)
        await activities.update_activity(
            org.organiser_a,
            created.id,
            lecture(details=None, starts_at=later, ends_at=later + timedelta(hours=2)),
        )
    rows = await messages_for(worker.member_id or 0, BRING_ID)
    pending = [row for row in rows if row["status"] == "pending"]
    assert len(rows) == 2 and len(pending) == 1  # the old one superseded, not sent
    assert pending[0]["due_at"] == later - timedelta(minutes=30)
    title, body = texts.render(pending[0], "en", await activities.message_activity(created.id))
    assert title == "Bring your ID to 安全生产讲座"
    assert body.startswith("It starts at ") and "工人文化宫" in body


async def test_its_summary_section_and_upkeep_are_run_by_the_core(
    org: Org, seminar_kind: kinds.Kind
) -> None:
    with clock.frozen_at(NOW):
        await activities.create_activity(org.organiser_a, lecture(details=None))
        report = await reports.summary(
            org.organiser_a, date_from=NOW, date_to=NOW + timedelta(days=30)
        )
    assert ReportSection(kind="test_lecture", title="Lectures held", rows=[["1"]]) in (
        report.sections
    )
    UPKEEP_RUNS.clear()
    done = await kinds.run_upkeep()
    assert done["test_lecture"] == 7 and UPKEEP_RUNS == [1]
