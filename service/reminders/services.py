"""The outbox: messages recorded inside the transaction of the change that causes them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from service import clock
from service.reminders.tables import OutboxMessage

KINDS = (
    "registration_confirmed",
    "registration_waitlisted",
    "waitlist_promoted",
    "activity_changed",
    "activity_cancelled",
)


async def record(
    kind: str,
    member_ids: Iterable[int],
    *,
    activity_id: int | None = None,
    registration_id: int | None = None,
    due_at: datetime | None = None,
    **payload: Any,
) -> int:
    """Write one outbox row per member; call inside the caller's write_transaction()."""
    assert kind in KINDS, kind
    rows = [
        OutboxMessage(
            kind=kind,
            member=member_id,
            activity_id=activity_id,
            registration_id=registration_id,
            payload=json.dumps(payload),
            due_at=due_at or clock.now(),
        )
        for member_id in member_ids
    ]
    if rows:
        await OutboxMessage.insert(*rows).run()
    return len(rows)


async def messages_for(member_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    query = OutboxMessage.select().where(OutboxMessage.member == member_id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return await query.order_by(OutboxMessage.id).run()
