"""The reading-sharing session (阅读分享会) kind: seats in a reading room, a door.

Its details (the room, a facilitator, the book list) live in service/reading's own tables;
its pre-write check refuses a session outside its room's opening hours or above its seats.
The hooks import the room's services when first called, so that importing the kinds
registry stays light.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from service import kinds


class _Details:
    """Forwards to service.reading.services.SessionDetailsHooks, imported on first use."""

    def _hooks(self) -> Any:
        from service.reading.services import SessionDetailsHooks

        return SessionDetailsHooks()

    def validate(self, raw: Mapping[str, Any]) -> Any:
        return self._hooks().validate(raw)

    async def write(self, activity_id: int, values: Any) -> None:
        await self._hooks().write(activity_id, values)

    async def read(self, activity_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        return await self._hooks().read(activity_ids)  # type: ignore[no-any-return]

    async def copy(self, source_id: int, target_id: int) -> None:
        await self._hooks().copy(source_id, target_id)


async def _check(values: Mapping[str, Any], details: Any, stored_id: int | None) -> None:
    from service.reading.services import check_session

    await check_session(values, details, stored_id)


async def _report_section(activity_id: int) -> list[Any]:
    from service.reading.reports import session_sections

    return await session_sections(activity_id)


async def _summary_section(actor: Any, start: datetime, end: datetime) -> list[Any]:
    from service.reading.reports import summary_sections

    return await summary_sections(actor, start, end)


KIND = kinds.Kind(
    code="reading_session",
    label="Reading-sharing session",
    reminder_rules=(kinds.DAY_BEFORE, kinds.ONE_HOUR),
    details=_Details(),
    check=_check,
    form_partial="reading/_session_form.html",
    detail_partial="reading/_session_detail.html",
    report_section=_report_section,
    summary_section=_summary_section,
)
