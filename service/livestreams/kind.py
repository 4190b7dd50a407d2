"""The livestream (直播) kind: no places, no sign-up, no ticket and no door. Workers watch
by the channel's link (shown from 15 minutes before the start) and subscribe to be
reminded 10 minutes before each episode of a channel or of its columns.

The hooks import the room's services lazily: the worker process imports this registry
without the web app."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from service import kinds

REMINDER_MESSAGE = "livestream_reminder"
DUTY_MESSAGE = "livestream_duty"  # a crew member's duty on an episode


class _Details:
    """Forwards to services.EpisodeDetails, imported when first used."""

    def _hooks(self) -> Any:
        from service.livestreams.services import EpisodeDetails

        return EpisodeDetails()

    def validate(self, raw: Mapping[str, Any]) -> Any:
        return self._hooks().validate(raw)

    async def write(self, activity_id: int, values: Any) -> None:
        await self._hooks().write(activity_id, values)

    async def read(self, activity_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        return await self._hooks().read(activity_ids)

    async def copy(self, source_id: int, target_id: int) -> None:
        await self._hooks().copy(source_id, target_id)


async def _upkeep() -> int:
    from service.livestreams.services import upkeep_viewer_reminders

    return await upkeep_viewer_reminders()


async def _report_section(activity_id: int) -> list[Any]:
    from service.livestreams.reports import episode_section

    return await episode_section(activity_id)


async def _summary_section(actor: Any, start: datetime, end: datetime) -> list[Any]:
    from service.livestreams.reports import summary_section

    return await summary_section(actor, start, end)


KIND = kinds.Kind(
    code="livestream",
    label="Livestream",
    places=False,
    signup=False,
    tickets=False,
    door=False,
    reminder_rules=(kinds.TEN_MINUTES,),
    messages={
        REMINDER_MESSAGE: (
            "Starting soon, at %(time)s: %(title)s",
            "Watch: %(link)s — Stop these reminders: %(unsubscribe)s",
        ),
        DUTY_MESSAGE: (
            "Your crew duty at %(time)s: %(title)s",
            "Accept, decline or ask to swap under My activities: %(link)s",
        ),
    },
    start_reminders=(REMINDER_MESSAGE, DUTY_MESSAGE),
    details=_Details(),
    detail_partial="livestreams/_episode.html",
    form_partial="livestreams/_form.html",
    report_section=_report_section,
    summary_section=_summary_section,
    upkeep=_upkeep,
)
