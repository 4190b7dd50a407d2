"""A change of a room's hours racing a session's write (issue 12): the session's check
and its write are one transaction that locks the room's hours, and every change of the
hours locks them too, so a closure can never land between a session's check and its
write unseen. On whichever engine this run uses (make test runs both).

The race is made certain rather than likely: the session's check pauses right after it
has read the hours, and the closure is sent in that pause. The control run replays the
old order (the check before the write transaction) and must leave a session inside the
closure that the closure's answer does not list, proving the test can fail."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from service import clock, kinds
from service.activities import services as activities
from service.errors import DomainError
from service.reading import services as reading
from service.reading.schemas import ExceptionIn, ExceptionsOut
from tests.conftest import ENGINE, Org
from tests.service.test_reading import NOW, local, seed_room, session

TUESDAY = date(2026, 3, 3)
# Long enough for an unguarded closure to commit inside it; a guarded one waits it out.
PAUSE_SECONDS = 0.5


class PausedCheck:
    """Wraps reading.schedules: the first read after `arm()` signals `read` and then waits
    (at most PAUSE_SECONDS) for the closure to finish."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.real = reading.schedules
        self.armed = False
        self.read = asyncio.Event()
        self.closure_done = asyncio.Event()
        monkeypatch.setattr(reading, "schedules", self.schedules)

    async def schedules(self, *args: Any, **kwargs: Any) -> Any:
        found = await self.real(*args, **kwargs)
        if self.armed:
            self.armed = False
            self.read.set()
            # A guarded closure is waiting for our lock: after the pause, go on and write.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closure_done.wait(), PAUSE_SECONDS)
        return found


async def race(org: Org, room_id: int, paused: PausedCheck, create: Any) -> tuple[Any, Any]:
    async def close_the_room() -> ExceptionsOut:
        await paused.read.wait()
        try:
            return await reading.add_exception(
                org.organiser_a, room_id, ExceptionIn(starts_on=TUESDAY, note="停电")
            )
        finally:
            paused.closure_done.set()

    paused.armed = True
    with clock.frozen_at(NOW):
        created, closure = await asyncio.gather(create(), close_the_room(), return_exceptions=True)
    assert not isinstance(closure, BaseException), closure
    return created, closure


def unseen_in_closure(created: Any, closure: ExceptionsOut) -> bool:
    """A session was written inside the closure and the closure's answer does not list it:
    the organiser would never be told to move or cancel it."""
    if isinstance(created, DomainError):
        return False
    assert not isinstance(created, BaseException), created
    return created.id not in {s.activity_id for s in closure.affected_sessions}


async def test_a_closure_racing_a_new_session_either_refuses_it_or_lists_it(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    room_id = await seed_room(org)
    paused = PausedCheck(monkeypatch)

    async def create() -> Any:
        return await activities.create_activity(
            org.organiser_a, session(room_id, local(TUESDAY, 8), local(TUESDAY, 10))
        )

    created, closure = await race(org, room_id, paused, create)
    assert not unseen_in_closure(created, closure), ENGINE


async def test_a_closure_racing_a_moved_session_either_refuses_it_or_lists_it(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    room_id = await seed_room(org)
    with clock.frozen_at(NOW):
        # Thursday first; the move to Tuesday races the Tuesday closure.
        thursday = date(2026, 3, 5)
        existing = await activities.create_activity(
            org.organiser_a, session(room_id, local(thursday, 8), local(thursday, 10))
        )
    paused = PausedCheck(monkeypatch)

    async def move() -> Any:
        return await activities.update_activity(
            org.organiser_a,
            existing.id,
            session(room_id, local(TUESDAY, 8), local(TUESDAY, 10), details=None),
        )

    moved, closure = await race(org, room_id, paused, move)
    assert not unseen_in_closure(moved, closure), ENGINE


@pytest.fixture
def check_before_the_transaction() -> AsyncIterator[None]:
    """The old core order: the kind's check runs, then the write transaction opens."""
    real = kinds.find("reading_session")
    assert real is not None and real.check is not None
    kinds.unregister(real.code)
    kinds.register(dataclasses.replace(real, check=None))
    try:
        yield None
    finally:
        kinds.unregister(real.code)
        kinds.register(real)


async def test_control_with_the_check_before_the_write_a_session_hides_in_a_closure(
    org: Org, monkeypatch: pytest.MonkeyPatch, check_before_the_transaction: None
) -> None:
    room_id = await seed_room(org)
    paused = PausedCheck(monkeypatch)
    values = session(room_id, local(TUESDAY, 8), local(TUESDAY, 10))

    async def create_checked_first() -> Any:
        await reading.check_session(
            {"starts_at": values.starts_at, "ends_at": values.ends_at, "capacity": 15},
            values.details,
            None,
        )
        return await activities.create_activity(org.organiser_a, values)

    created, closure = await race(org, room_id, paused, create_checked_first)
    assert unseen_in_closure(created, closure), f"the control run did not show the gap ({ENGINE})"


@pytest.mark.skipif(ENGINE != "postgres", reason="SQLite serialises every write already")
async def test_control_without_the_hours_lock_postgres_lets_a_session_hide_in_a_closure(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    room_id = await seed_room(org)

    async def no_lock(room_id: int) -> None:
        return None

    monkeypatch.setattr(reading, "_lock_hours", no_lock)
    paused = PausedCheck(monkeypatch)

    async def create() -> Any:
        return await activities.create_activity(
            org.organiser_a, session(room_id, local(TUESDAY, 8), local(TUESDAY, 10))
        )

    created, closure = await race(org, room_id, paused, create)
    assert unseen_in_closure(created, closure), "the control run did not show the gap"
