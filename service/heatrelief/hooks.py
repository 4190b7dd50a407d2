"""What the heat-relief kind plugs into the activity core (service/kinds.py): its details
(the campaign's sites and when each is planned, shown on the activity page; copied with
the campaign) and its report section. Services are imported when called, so that the
worker, which loads every kind, imports no more than it needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.errors import DomainError

SITES_SHOWN = 30


class CampaignDetails:
    """A campaign keeps no details of its own in the activity form: its sites, teams and
    plan have their own pages. `read` gives the activity page its sites."""

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        if raw:
            raise DomainError(
                "validation_error", "This kind of activity has no details.", field="details"
            )
        return {}

    async def write(self, activity_id: int, values: Any) -> None:
        return None

    async def read(self, activity_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        from service.heatrelief import services

        return await services.campaign_summaries(activity_ids, SITES_SHOWN)

    async def copy(self, source_id: int, target_id: int) -> None:
        from service.heatrelief import services

        await services.copy_sites(source_id, target_id)


async def detail_view(actor: Any, activity_id: int) -> dict[str, Any]:
    """The campaign as this worker sees it on its page: the sites nearest them first."""
    from service.heatrelief import services

    return (await services.campaign_summaries([activity_id], SITES_SHOWN, viewer=actor))[
        activity_id
    ]


async def report_section(activity_id: int) -> list[Any]:
    from service.heatrelief import report

    return await report.sections(activity_id)
