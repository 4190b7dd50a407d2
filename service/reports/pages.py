"""Report pages: an activity's report with its live dashboard, the across-activities
summary of an organiser's subtree, and a member's attendance history. Every figure comes
from service/reports/services.py (the same functions as the JSON API); this module only
parses, draws the charts (service/reports/charts.py) and renders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from service import clock, kinds
from service.activities import services as activities
from service.errors import DomainError, Forbidden
from service.http import form_error, page, parse_day, parse_day_end, require_actor
from service.i18n import gettext
from service.orgs import services as orgs
from service.orgs.schemas import GROUP_LABELS, WORKER_GROUPS, Actor
from service.reports import charts
from service.reports import services as reports
from service.reports.export_pages import ExportPages
from service.reports.schemas import ActivityReport, ArrivalBucket, SummaryReport
from service.settings import get_settings

AnyRequest = Request[Any, Any, Any]

# The dashboard refreshes itself from when the door opens until the activity ends.
LIVE_FROM_BEFORE_START = timedelta(minutes=60)
LIVE_EVERY_SECONDS = 10
FIELD_MAX = 32


def percent(rate: float | None) -> str:
    """0.3333 → "33.3%"; no figure → "–"."""
    if rate is None:
        return "–"
    value = rate * 100
    return f"{value:.0f}%" if value.is_integer() else f"{value:.1f}%"


def _is_on(status: str, starts_at: datetime, ends_at: datetime) -> bool:
    now = clock.now()
    return status in ("published", "closed") and (
        starts_at - LIVE_FROM_BEFORE_START <= now < ends_at
    )


def _clock_label(moment: datetime) -> str:
    return moment.astimezone(get_settings().zone).strftime("%H:%M")


def arrival_chart(arrivals: Sequence[ArrivalBucket]) -> str:
    return charts.columns(
        "arrivals",
        gettext("Arrivals every 15 minutes"),
        [(_clock_label(bucket.start), bucket.checked_in) for bucket in arrivals],
        empty=gettext("No one has checked in yet."),
    )


def _activity_charts(report: ActivityReport) -> dict[str, str]:
    def both(confirmed: int, checked_in: int) -> str:
        return f"{checked_in}/{confirmed}"

    return {
        "gates": charts.bars(
            "gates",
            gettext("Check-ins by gate"),
            [(gate.gate or gettext("No gate given"), gate.checked_in) for gate in report.by_gate],
            empty=gettext("No one has checked in yet."),
        ),
        "nodes": charts.bars(
            "nodes",
            gettext("Checked in of confirmed, by organisation"),
            [(node.name, node.checked_in) for node in report.by_node],
            totals=[node.confirmed for node in report.by_node],
            indents=[node.depth for node in report.by_node],
            value_labels=[both(node.confirmed, node.checked_in) for node in report.by_node],
            empty=gettext("No one is confirmed yet."),
        ),
        "groups": charts.bars(
            "groups",
            gettext("Checked in of confirmed, by worker group"),
            [(gettext(GROUP_LABELS.get(g.group, g.group)), g.checked_in) for g in report.by_group],
            totals=[group.confirmed for group in report.by_group],
            value_labels=[both(group.confirmed, group.checked_in) for group in report.by_group],
            empty=gettext("No one is confirmed yet."),
        ),
    }


def _summary_charts(report: SummaryReport) -> dict[str, str]:
    ranked = [*report.top_nodes, *report.bottom_nodes]
    return {
        "kinds": charts.bars(
            "kinds",
            gettext("Activities held by kind"),
            [
                (gettext(kinds.labels().get(count.kind, count.kind)), count.held)
                for count in report.by_kind
            ],
            empty=gettext("No activities in this range."),
        ),
        "months": charts.line(
            "months",
            gettext("No-show rate by month"),
            [(month.month[2:], month.no_show_rate) for month in report.by_month],
            empty=gettext("No ended activities with check-ins in this range."),
        ),
        "top": charts.bars(
            "top",
            gettext("Share of members reached"),
            [(node.name, (node.share or 0) * 100) for node in report.top_nodes],
            value_labels=[percent(node.share) for node in report.top_nodes],
            empty=gettext("No members in this range."),
        ),
        "bottom": charts.bars(
            "bottom",
            gettext("Share of members reached"),
            [(node.name, (node.share or 0) * 100) for node in report.bottom_nodes],
            value_labels=[percent(node.share) for node in report.bottom_nodes],
        )
        if ranked
        else "",
    }


def _local_day(moment: datetime, *, end: bool = False) -> str:
    """A range bound as a date field shows it (an end at midnight is the day before)."""
    local = moment.astimezone(get_settings().zone)
    if end and local.time() == datetime.min.time():
        local -= timedelta(days=1)
    return local.strftime("%Y-%m-%d")


class ReportPages(Controller):
    include_in_schema = False

    # --- one activity -------------------------------------------------------------------

    @get("/organise/activities/{activity_id:int}/report")
    async def activity_report(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        report = await reports.activity_report(require_actor(request), activity_id)
        return page(
            request,
            "reports/activity.html",
            partials={"live": "live"},
            report=report,
            live=report,
            polling=_is_on(report.status, report.starts_at, report.ends_at),
            arrival_chart=arrival_chart(report.arrivals),
            charts=_activity_charts(report),
            percent=percent,
            clock_label=_clock_label,
            live_every=LIVE_EVERY_SECONDS,
        )

    @get("/organise/activities/{activity_id:int}/live")
    async def live(self, request: AnyRequest, activity_id: FromPath[int]) -> Template | Redirect:
        """The live block alone, which the report page polls while the activity is on.
        The figures are cached for a few seconds per activity, however many watch."""
        live = await reports.live_counts(require_actor(request), activity_id)
        if not request.headers.get("hx-request"):
            return Redirect(f"/organise/activities/{activity_id}/report")
        return page(
            request,
            "reports/live.html",
            partials={"live": "live"},
            live=live,
            polling=live.provisional,
            arrival_chart=arrival_chart(live.arrivals),
            percent=percent,
            clock_label=_clock_label,
            live_every=LIVE_EVERY_SECONDS,
        )

    # --- across activities --------------------------------------------------------------

    @get("/organise/reports")
    async def summary(
        self,
        request: AnyRequest,
        node: FromQuery[str | None] = None,
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
        kind: FromQuery[str | None] = None,
        group: FromQuery[str | None] = None,
        campaign: FromQuery[str | None] = None,
    ) -> Template:
        actor = require_actor(request)
        if not actor.has("organiser", "admin"):
            raise Forbidden("Reports are for organisers.")
        values = {
            "node": (node or "")[:FIELD_MAX],
            "from": (date_from or "")[:FIELD_MAX],
            "to": (date_to or "")[:FIELD_MAX],
            "kind": (kind or "")[:FIELD_MAX],
            "group": (group or "")[:FIELD_MAX],
            "campaign": (campaign or "")[:100],
        }
        try:
            report = await reports.summary(
                actor,
                node_code=node or None,
                date_from=parse_day(date_from, "from"),
                date_to=parse_day_end(date_to, "to"),
                kind=kind or None,
                group=group or None,
                campaign=campaign or None,
            )
        except DomainError as error:
            return await self._summary_page(request, actor, values, None, error)
        default_range = not values["from"] and not values["to"]
        values["node"] = values["node"] or report.node_code
        values["from"] = values["from"] or _local_day(report.date_from)
        values["to"] = values["to"] or _local_day(report.date_to, end=True)
        return await self._summary_page(
            request, actor, values, report, None, default_range=default_range
        )

    async def _summary_page(
        self,
        request: AnyRequest,
        actor: Actor,
        values: dict[str, str],
        report: SummaryReport | None,
        error: DomainError | None,
        *,
        default_range: bool = False,
    ) -> Template:
        extra: dict[str, Any] = {"default_range": default_range}
        status_code = 200
        if error is not None:
            # Every bad filter is shown beside its field with a 400, a node outside the
            # organiser's area included (it can only come from an edited address).
            status_code = 400
            extra = form_error(error)
            if error.code == "forbidden":
                extra["error_field"] = "node"
        return page(
            request,
            "reports/summary.html",
            status_code=status_code,
            report=report,
            values=values,
            nodes=await orgs.list_nodes(actor.node_path),
            kinds=kinds.codes(),
            groups=WORKER_GROUPS,
            campaigns=await activities.campaigns(actor),
            charts=_summary_charts(report) if report else {},
            percent=percent,
            **extra,
        )

    # --- one member ---------------------------------------------------------------------

    @get("/me/history")
    async def my_history(self, request: AnyRequest) -> Template:
        history = await reports.member_history(require_actor(request))
        return page(
            request,
            "reports/history.html",
            history=history,
            own=True,
            now=clock.now(),
            percent=percent,
        )

    @get("/organise/members/{member_id:int}/history")
    async def member_history(self, request: AnyRequest, member_id: FromPath[int]) -> Template:
        history = await reports.member_history(require_actor(request), member_id)
        return page(
            request,
            "reports/history.html",
            history=history,
            own=False,
            now=clock.now(),
            percent=percent,
        )


# The export pages are a module of their own; the room lists them with its pages.
ROUTES = [ReportPages, ExportPages]
