"""The seat rule exists in two forms: HAS_ROOM in the SQL every seat write runs, and
has_room() in Python. They agree on every case, on both engines."""

from __future__ import annotations

import pytest

from service.activities import services as activities
from service.activities.schemas import has_room
from service.activities.tables import Activity
from service.db import run_sql, write_transaction
from tests.conftest import Org
from tests.service.test_activities import published

CASES = [
    (None, 0),
    (None, 500),
    (1, 0),
    (1, 1),
    (5, 4),
    (5, 5),
    (5, 6),  # never written by the service; the rule still says no room
]


@pytest.mark.parametrize(("capacity", "taken"), CASES)
async def test_the_sql_seat_write_and_the_python_rule_agree(
    org: Org, capacity: int | None, taken: int
) -> None:
    activity_id = await published(org, capacity=5)
    await Activity.update({Activity.capacity: capacity, Activity.taken: taken}).where(
        Activity.id == activity_id
    )
    async with write_transaction():
        took = bool(await run_sql(activities.SEAT_UPDATE, activity_id))
    after = await Activity.select(Activity.taken).where(Activity.id == activity_id).first()
    assert took == has_room(capacity, taken)
    assert after["taken"] == taken + (1 if took else 0)


def test_every_seat_write_quotes_the_one_rule() -> None:
    assert activities.HAS_ROOM in activities.SEAT_UPDATE
    assert activities.HAS_ROOM in activities.SIGNUP_STATEMENT
