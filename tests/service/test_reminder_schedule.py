"""An organiser's own reminder schedule for one activity: absurd offsets and unknown kinds
are refused with a clear message, and a new schedule recomputes the reminders not yet
sent for every confirmed place (the old ones are superseded, none is sent late)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from service import clock
from service.activities import services as activities
from service.errors import DomainError
from service.reminders import policy
from service.reminders.tables import ActivitySchedule, OutboxMessage
from tests.conftest import Org, post_form, sign_in
from tests.http.helpers import field_error, zh
from tests.service.test_activities import published, workers

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
START = NOW + timedelta(days=3)


async def pending(activity_id: int) -> list[tuple[str, datetime]]:
    rows = (
        await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.due_at)
        .where(
            (OutboxMessage.activity_id == activity_id)
            & (OutboxMessage.status == "pending")
            & OutboxMessage.kind.is_in(list(policy.REMINDER_KINDS))
        )
        .order_by(OutboxMessage.due_at)
        .run()
    )
    return [(row["kind"], row["due_at"]) for row in rows]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"reminder_1h": -5}, "A reminder cannot come after the start. Give 0 or more minutes."),
        (
            {"reminder_day_before": 30 * 24 * 60 + 1},
            "A reminder can be at most 30 days (%(limit)s minutes) before the start.",
        ),
        ({"reminder_weekly": 60}, "There is no reminder called %(kind)s."),
        ({"registration_confirmed": 60}, "There is no reminder called %(kind)s."),
        ({"reminder_1h": "60"}, "Give the minutes as a whole number."),
        ({"reminder_1h": True}, "Give the minutes as a whole number."),
    ],
)
async def test_absurd_schedules_are_refused(
    org: Org, schedule: dict[str, object], message: str
) -> None:
    activity_id = await published(org, capacity=5)
    with pytest.raises(DomainError) as raised:
        await activities.set_schedule(org.organiser_a, activity_id, schedule)  # type: ignore[arg-type]
    assert raised.value.code == "validation_error"
    assert raised.value.message == message
    assert raised.value.field == next(iter(schedule))
    zh(message, **raised.value.params)  # and it is translated
    assert await ActivitySchedule.count().run() == 0


async def test_thirty_days_exactly_and_zero_are_allowed(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    await activities.set_schedule(
        org.organiser_a, activity_id, {"reminder_day_before": 30 * 24 * 60, "reminder_10m": 0}
    )
    assert await activities.reminder_schedule(org.organiser_a, activity_id) == {
        "reminder_day_before": 30 * 24 * 60,
        "reminder_10m": 0,
    }


async def test_a_new_schedule_recomputes_pending_reminders(org: Org) -> None:
    activity_id = await published(org, capacity=1)
    confirmed, waiting = await workers(2)
    with clock.frozen_at(NOW):
        await activities.register(confirmed, activity_id)
        await activities.register(waiting, activity_id)
        assert [kind for kind, _ in await pending(activity_id)] == [
            "reminder_day_before",
            "reminder_1h",
        ]
        await activities.set_schedule(
            org.organiser_a, activity_id, {"reminder_1h": 120, "reminder_10m": 10}
        )
        assert await pending(activity_id) == [
            ("reminder_1h", START - timedelta(minutes=120)),
            ("reminder_10m", START - timedelta(minutes=10)),
        ]
    superseded = (
        await OutboxMessage.select(OutboxMessage.kind)
        .where(OutboxMessage.status == "superseded")
        .order_by(OutboxMessage.id)
        .run()
    )
    assert [row["kind"] for row in superseded] == ["reminder_day_before", "reminder_1h"]
    # Only the confirmed place has reminders; the waitlisted one has none.
    members = (
        await OutboxMessage.select(OutboxMessage.member)
        .where((OutboxMessage.status == "pending") & OutboxMessage.kind.is_in(["reminder_1h"]))
        .run()
    )
    assert [row["member"] for row in members] == [confirmed.member_id]

    # New registrations follow the activity's own schedule too.
    with clock.frozen_at(NOW):
        await activities.cancel_registration(
            confirmed,
            (await activities.my_registration(confirmed, activity_id)).id,  # type: ignore[union-attr]
        )
    assert {kind for kind, _ in await pending(activity_id)} == {"reminder_1h", "reminder_10m"}


async def test_a_reminder_whose_new_time_has_passed_is_not_sent_late(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await workers(1)
    with clock.frozen_at(NOW):
        await activities.register(person, activity_id)
    with clock.frozen_at(START - timedelta(hours=2)):
        await activities.set_schedule(
            org.organiser_a, activity_id, {"reminder_day_before": 24 * 60, "reminder_1h": 60}
        )
        assert [kind for kind, _ in await pending(activity_id)] == ["reminder_1h"]


async def test_all_off_and_back_to_the_default(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await workers(1)
    with clock.frozen_at(NOW):
        await activities.register(person, activity_id)
        await activities.set_schedule(org.organiser_a, activity_id, {})
        assert await pending(activity_id) == []
        await activities.set_schedule(
            org.organiser_a, activity_id, {kind: None for kind in policy.REMINDER_KINDS}
        )
        assert await pending(activity_id) == []
        await activities.set_schedule(org.organiser_a, activity_id, None)
        assert [kind for kind, _ in await pending(activity_id)] == [
            "reminder_day_before",
            "reminder_1h",
        ]
    assert await activities.reminder_schedule(org.organiser_a, activity_id) is None


async def test_only_the_activitys_organisers(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    with pytest.raises(DomainError) as raised:
        await activities.set_schedule(org.organiser_b, activity_id, {"reminder_1h": 30})
    assert raised.value.code == "not_found"
    with pytest.raises(DomainError) as raised:
        await activities.set_schedule(org.worker_a1, activity_id, {"reminder_1h": 30})
    assert raised.value.code == "forbidden"
    await activities.set_schedule(org.admin, activity_id, {"reminder_1h": 30})


async def test_a_cancelled_activity_gets_no_new_schedule(org: Org) -> None:
    activity_id = await published(org, capacity=5)
    await activities.cancel(org.organiser_a, activity_id, "暴雨")
    with pytest.raises(DomainError) as raised:
        await activities.set_schedule(org.organiser_a, activity_id, {"reminder_1h": 30})
    assert raised.value.code == "activity_not_editable"


# --- the form on the organiser's page -----------------------------------------------------


async def test_the_form_saves_and_shows_errors_beside_the_field(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await published(org, capacity=5)
    await sign_in(client, org.phones["organiser_a"])
    page = await client.get(f"/organise/activities/{activity_id}")
    assert 'id="reminders"' in page.text
    assert zh("This activity uses the usual reminders for its kind.") in page.text

    url = f"/organise/activities/{activity_id}/reminders"
    response = await post_form(client, url, {"reminder_1h": "90", "reminder_10m": ""})
    assert response.status_code in (302, 303)
    assert await activities.reminder_schedule(org.organiser_a, activity_id) == {
        "reminder_day_before": None,
        "reminder_morning": None,
        "reminder_1h": 90,
        "reminder_10m": None,
    }
    page = await client.get(response.headers["location"])
    assert (
        'name="reminder_1h" type="number" inputmode="numeric" min="0" max="43200" value="90"'
        in page.text
    )

    for raw, message in (
        ("-1", "A reminder cannot come after the start. Give 0 or more minutes."),
        ("43201", "A reminder can be at most 30 days (%(limit)s minutes) before the start."),
        ("1.5", "Give the minutes as a whole number."),
    ):
        response = await post_form(client, url, {"reminder_1h": raw})
        assert response.status_code == 400, raw
        params = {"limit": 43200} if "limit" in message else {}
        assert field_error(response.text, "reminder_1h") == zh(message, **params)
    assert (await activities.reminder_schedule(org.organiser_a, activity_id))["reminder_1h"] == 90  # type: ignore[index]

    response = await post_form(client, url, {"reset": "1"})
    assert response.status_code in (302, 303)
    assert await activities.reminder_schedule(org.organiser_a, activity_id) is None

    await sign_in(client, org.phones["organiser_b"])
    response = await post_form(client, url, {"reminder_1h": "30"})
    assert response.status_code == 404
