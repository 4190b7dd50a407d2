"""HTML pages of the livestream room (thin): a channel's page for members (upcoming
episodes, remind me, the calendar feed), the one-tap unsubscribe, the public feed, and
the organisers' channel page (columns, the schedule with its preview, episodes: skip,
move, this and later, viewer figures)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service import clock
from service.errors import DomainError
from service.http import form_error, page, parse_local, require_actor
from service.livestreams import feeds
from service.livestreams import services as livestreams
from service.livestreams.crew_pages import CrewPages
from service.livestreams.schemas import (
    FIGURE_DEFINITIONS,
    NTH_LABELS,
    WEEKDAY_LABELS,
    WEEKDAYS,
    ChannelIn,
    ColumnIn,
    FiguresIn,
    RuleIn,
)

AnyRequest = Request[Any, Any, Any]
SHOWN_EPISODES = 40


def _int(raw: Any, default: int | None = None) -> int | None:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return default


def _rule_from_form(form: Any) -> RuleIn:
    from datetime import date

    def day(name: str) -> date | None:
        raw = str(form.get(name, "")).strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError as error:
            raise DomainError("validation_error", "Give a date.", field=name) from error

    start = day("start_date")
    if start is None:
        raise DomainError("validation_error", "Give a date.", field="start_date")
    nth = _int(form.get("nth"))
    return RuleIn(
        weekdays=[str(value) for value in form.getall("weekdays", [])][:7],
        start_date=start,
        start_time=str(form.get("start_time", ""))[:5],
        interval=_int(form.get("interval"), 0) or 0,
        nth=nth or None,
        end_date=day("end_date"),
        minutes=_int(form.get("minutes"), 0),
        zone=str(form.get("zone", "")).strip()[:60] or None,
    )


def _rule_values(form: Any | None, rule: Any) -> dict[str, Any]:
    """What the schedule form shows: the last submitted values, else the saved rule."""
    if form is not None:
        return {
            "weekdays": [str(value) for value in form.getall("weekdays", [])],
            "start_date": str(form.get("start_date", "")),
            "start_time": str(form.get("start_time", "")),
            "interval": str(form.get("interval", "1")),
            "nth": str(form.get("nth", "")),
            "end_date": str(form.get("end_date", "")),
            "minutes": str(form.get("minutes", "")),
            "zone": str(form.get("zone", "")),
        }
    if rule is None:
        return {
            "weekdays": [],
            "start_date": clock.now().date().isoformat(),
            "start_time": "19:30",
            "interval": "1",
            "nth": "",
            "end_date": "",
            "minutes": "",
            "zone": "",
        }
    return {
        "weekdays": rule.weekdays,
        "start_date": rule.start_date.isoformat(),
        "start_time": rule.start_time,
        "interval": str(rule.interval),
        "nth": "" if rule.nth is None else str(rule.nth),
        "end_date": rule.end_date.isoformat() if rule.end_date else "",
        "minutes": str(rule.minutes),
        "zone": rule.zone,
    }


class LivestreamPages(Controller):
    include_in_schema = False

    # --- members ------------------------------------------------------------------------

    @get("/livestreams/channels/{channel_id:int}")
    async def channel(self, request: AnyRequest, channel_id: FromPath[int]) -> Template:
        actor = require_actor(request)
        channel = await livestreams.get_channel(channel_id)
        now = clock.now()
        upcoming = [
            one for one in await livestreams.episodes(channel_id, now) if one.status == "published"
        ][:SHOWN_EPISODES]
        return page(
            request,
            "livestreams/channel.html",
            channel=channel,
            columns=await livestreams.list_columns(channel_id),
            episodes=upcoming,
            subscription=await livestreams.my_subscription(actor, channel_id),
            saved=request.query_params.get("saved", ""),
            watch_open=livestreams.watch_open,
            now=now,
        )

    @post("/livestreams/channels/{channel_id:int}/subscribe")
    async def subscribe(self, request: AnyRequest, channel_id: FromPath[int]) -> Redirect:
        actor = require_actor(request)
        form = await request.form()
        columns = [number for value in form.getall("columns", [])[:50] if (number := _int(value))]
        await livestreams.subscribe(actor, channel_id, columns)
        return Redirect(f"/livestreams/channels/{channel_id}?saved=subscribed")

    @post("/livestreams/channels/{channel_id:int}/unsubscribe")
    async def unsubscribe(self, request: AnyRequest, channel_id: FromPath[int]) -> Redirect:
        actor = require_actor(request)
        await livestreams.get_channel(channel_id)
        await livestreams.unsubscribe(actor.member_id or 0, channel_id)
        return Redirect(f"/livestreams/channels/{channel_id}?saved=unsubscribed")

    @get("/livestreams/unsubscribe/{token:str}")
    async def unsubscribe_link(self, request: AnyRequest, token: FromPath[str]) -> Template:
        """The reminder's link: one button, no sign-in needed (a GET changes nothing, so
        link previews cannot unsubscribe anyone)."""
        return page(request, "livestreams/unsubscribe.html", token=token[:64], done=None)

    @post("/livestreams/unsubscribe/{token:str}")
    async def unsubscribe_now(self, request: AnyRequest, token: FromPath[str]) -> Template:
        channel = await livestreams.unsubscribe_by_token(token[:64])
        return page(
            request,
            "livestreams/unsubscribe.html",
            status_code=200 if channel else 404,
            token="",
            done=channel,
        )

    @get("/calendar/channels/{file_name:str}")
    async def feed(self, file_name: FromPath[str]) -> Response[bytes]:
        """The channel's public schedule for calendar apps, at /calendar/channels/{id}.ics
        (a path parameter cannot carry a suffix, so the name is read here)."""
        number = file_name.removesuffix(".ics")
        if not file_name.endswith(".ics") or not number.isdigit() or len(number) > 12:
            raise DomainError("not_found", "Not found.")
        body = await feeds.channel_feed(int(number))
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    # --- organisers ---------------------------------------------------------------------

    @get("/organise/livestreams")
    async def manage_list(self, request: AnyRequest) -> Template:
        return await self._list(request)

    async def _list(self, request: AnyRequest, status_code: int = 200, **context: Any) -> Template:
        actor = require_actor(request)
        if not actor.has("organiser", "admin"):
            raise DomainError("forbidden", "You do not have access to this.")
        channels = [
            channel
            for channel in await livestreams.list_channels()
            if await livestreams.may_manage(actor, channel.id)
        ]
        return page(
            request,
            "livestreams/manage_list.html",
            status_code=status_code,
            channels=channels,
            **context,
        )

    @post("/organise/livestreams")
    async def create_channel(self, request: AnyRequest) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        try:
            created = await livestreams.create_channel(
                actor,
                ChannelIn(
                    name=str(form.get("name", ""))[:200],
                    stream_url=str(form.get("stream_url", ""))[:600],
                    default_minutes=_int(form.get("default_minutes"), 0) or 0,
                ),
            )
        except DomainError as error:
            if error.code in ("forbidden", "not_signed_in"):
                raise
            return await self._list(request, error.status_code, **form_error(error))
        return Redirect(f"/organise/livestreams/{created.id}")

    @get("/organise/livestreams/{channel_id:int}")
    async def manage(self, request: AnyRequest, channel_id: FromPath[int]) -> Template:
        return await self._manage(request, channel_id)

    async def _manage(
        self,
        request: AnyRequest,
        channel_id: int,
        status_code: int = 200,
        form: Any | None = None,
        **context: Any,
    ) -> Template:
        actor = require_actor(request)
        channel = await livestreams.managed_channel(actor, channel_id)
        rule = await livestreams.get_schedule(channel_id)
        now = clock.now()
        listed = await livestreams.episodes(channel_id, now - timedelta(days=42))
        figures = await livestreams.figures_for([one.activity_id for one in listed])
        return page(
            request,
            "livestreams/manage.html",
            status_code=status_code,
            channel=channel,
            columns=await livestreams.list_columns(channel_id),
            rule=rule,
            rule_values=_rule_values(form, rule),
            weekdays=WEEKDAYS,
            weekday_labels=WEEKDAY_LABELS,
            nth_labels=NTH_LABELS,
            episodes=listed[: SHOWN_EPISODES * 2],
            figures=figures,
            figure_definitions=FIGURE_DEFINITIONS,
            now=now,
            saved=request.query_params.get("saved", ""),
            **context,
        )

    async def _redo(
        self, request: AnyRequest, channel_id: int, error: DomainError, form: Any
    ) -> Template:
        if error.code in ("forbidden", "not_signed_in", "not_found"):
            raise error
        return await self._manage(
            request, channel_id, error.status_code, form=form, **form_error(error)
        )

    @post("/organise/livestreams/{channel_id:int}")
    async def update_channel(
        self, request: AnyRequest, channel_id: FromPath[int]
    ) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        try:
            await livestreams.update_channel(
                actor,
                channel_id,
                ChannelIn(
                    name=str(form.get("name", ""))[:200],
                    stream_url=str(form.get("stream_url", ""))[:600],
                    default_minutes=_int(form.get("default_minutes"), 0) or 0,
                ),
            )
        except DomainError as error:
            return await self._redo(request, channel_id, error, None)
        return Redirect(f"/organise/livestreams/{channel_id}?saved=channel")

    @post("/organise/livestreams/{channel_id:int}/columns")
    async def add_column(
        self, request: AnyRequest, channel_id: FromPath[int]
    ) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        try:
            await livestreams.create_column(actor, channel_id, _column_from(form))
        except DomainError as error:
            return await self._redo(request, channel_id, error, None)
        return Redirect(f"/organise/livestreams/{channel_id}?saved=column#columns")

    @post("/organise/livestreams/{channel_id:int}/columns/{column_id:int}")
    async def edit_column(
        self, request: AnyRequest, channel_id: FromPath[int], column_id: FromPath[int]
    ) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        try:
            await livestreams.update_column(actor, channel_id, column_id, _column_from(form))
        except DomainError as error:
            return await self._redo(request, channel_id, error, None)
        return Redirect(f"/organise/livestreams/{channel_id}?saved=column#columns")

    @post("/organise/livestreams/{channel_id:int}/schedule")
    async def schedule(self, request: AnyRequest, channel_id: FromPath[int]) -> Template | Redirect:
        """One form, two buttons: preview the next 20 dates, or save and generate."""
        actor = require_actor(request)
        form = await request.form()
        try:
            rule = _rule_from_form(form)
            if form.get("action") == "save":
                _, generated = await livestreams.save_schedule(actor, channel_id, rule)
                return Redirect(
                    f"/organise/livestreams/{channel_id}?saved=schedule&created={generated.created}#episodes"
                )
            preview = await livestreams.preview(actor, channel_id, rule)
        except DomainError as error:
            return await self._redo(request, channel_id, error, form)
        return await self._manage(request, channel_id, form=form, preview=preview)

    @post("/organise/livestreams/episodes/{activity_id:int}/{action:str}")
    async def episode_action(
        self, request: AnyRequest, activity_id: FromPath[int], action: FromPath[str]
    ) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        channel_id = _int(form.get("channel_id"), 0) or 0
        try:
            if action == "skip":
                await livestreams.skip(actor, activity_id, str(form.get("reason", ""))[:500])
            elif action == "move":
                await livestreams.move(
                    actor,
                    activity_id,
                    parse_local(str(form.get("starts_at", ""))[:40], "starts_at"),
                )
            elif action == "later":
                await livestreams.change_later(
                    actor,
                    activity_id,
                    start_time=str(form.get("start_time", ""))[:5] or None,
                    minutes=_int(form.get("minutes")),
                    column_id=_int(form.get("column_id")) or None,
                )
            elif action == "figures":
                await livestreams.record_figures(
                    actor,
                    activity_id,
                    FiguresIn(
                        peak_concurrent=_int(form.get("peak_concurrent"), -1) or 0,
                        unique_viewers=_int(form.get("unique_viewers"), -1) or 0,
                        total_views=_int(form.get("total_views"), -1) or 0,
                        average_watch_minutes=_float(form.get("average_watch_minutes")),
                        source=str(form.get("source", ""))[:200],
                    ),
                )
            else:
                raise DomainError("not_found", "Not found.")
        except DomainError as error:
            if not channel_id:
                raise
            return await self._redo(request, channel_id, error, None)
        return Redirect(f"/organise/livestreams/{channel_id}?saved={action}#episode-{activity_id}")


def _float(raw: Any) -> float:
    try:
        return float(str(raw).strip())
    except (TypeError, ValueError):
        return -1.0


def _column_from(form: Any) -> ColumnIn:
    return ColumnIn(
        name=str(form.get("name", ""))[:200],
        description=str(form.get("description", ""))[:2000],
        department=str(form.get("department", ""))[:200],
        colour=str(form.get("colour", ""))[:20],
        rundown=str(form.get("rundown", ""))[:8000],
    )


ROUTES = [LivestreamPages, CrewPages]
