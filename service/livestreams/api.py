"""JSON API of the livestream room (thin: parse, call one service, answer)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from service.http import require_actor
from service.livestreams import services as livestreams
from service.livestreams.schemas import (
    BlockoutIn,
    BlockoutOut,
    ChannelIn,
    ChannelOut,
    ColumnIn,
    ColumnOut,
    CrewIn,
    CrewOut,
    DutyOut,
    EpisodeOut,
    FiguresIn,
    FiguresOut,
    GeneratedOut,
    LaterIn,
    MoveIn,
    NeedIn,
    PlannedOut,
    PreviewOut,
    RotaEpisodeOut,
    RuleIn,
    RuleOut,
    SkipIn,
    SubscribeIn,
    SubscriptionOut,
    SwapIn,
)

AnyRequest = Request[Any, Any, Any]


class LivestreamApi(Controller):
    path = "/api/v1"
    tags = ["livestreams"]  # noqa: RUF012

    @get("/channels")
    async def channels(self, request: AnyRequest) -> list[ChannelOut]:
        require_actor(request)
        return await livestreams.list_channels()

    @post("/channels")
    async def create_channel(self, request: AnyRequest, data: JSONBody[ChannelIn]) -> ChannelOut:
        return await livestreams.create_channel(require_actor(request), data)

    @get("/channels/{channel_id:int}")
    async def channel(self, request: AnyRequest, channel_id: FromPath[int]) -> ChannelOut:
        require_actor(request)
        return await livestreams.get_channel(channel_id)

    @put("/channels/{channel_id:int}")
    async def update_channel(
        self, request: AnyRequest, channel_id: FromPath[int], data: JSONBody[ChannelIn]
    ) -> ChannelOut:
        return await livestreams.update_channel(require_actor(request), channel_id, data)

    @get("/channels/{channel_id:int}/columns")
    async def columns(self, request: AnyRequest, channel_id: FromPath[int]) -> list[ColumnOut]:
        require_actor(request)
        await livestreams.get_channel(channel_id)
        return await livestreams.list_columns(channel_id)

    @post("/channels/{channel_id:int}/columns")
    async def create_column(
        self, request: AnyRequest, channel_id: FromPath[int], data: JSONBody[ColumnIn]
    ) -> ColumnOut:
        return await livestreams.create_column(require_actor(request), channel_id, data)

    @put("/channels/{channel_id:int}/columns/{column_id:int}")
    async def update_column(
        self,
        request: AnyRequest,
        channel_id: FromPath[int],
        column_id: FromPath[int],
        data: JSONBody[ColumnIn],
    ) -> ColumnOut:
        return await livestreams.update_column(require_actor(request), channel_id, column_id, data)

    @post("/channels/{channel_id:int}/schedule/preview", status_code=200)
    async def preview(
        self, request: AnyRequest, channel_id: FromPath[int], data: JSONBody[RuleIn]
    ) -> PreviewOut:
        """The next 20 starts of a rule, before saving it."""
        return await livestreams.preview(require_actor(request), channel_id, data)

    @get("/channels/{channel_id:int}/schedule")
    async def schedule(self, request: AnyRequest, channel_id: FromPath[int]) -> RuleOut | None:
        require_actor(request)
        return await livestreams.get_schedule(channel_id)

    @put("/channels/{channel_id:int}/schedule")
    async def save_schedule(
        self, request: AnyRequest, channel_id: FromPath[int], data: JSONBody[RuleIn]
    ) -> GeneratedOut:
        """Save the rule and generate its episodes for the next 12 months (idempotent)."""
        _, generated = await livestreams.save_schedule(require_actor(request), channel_id, data)
        return generated

    @post("/channels/{channel_id:int}/generate", status_code=200)
    async def generate(self, request: AnyRequest, channel_id: FromPath[int]) -> GeneratedOut:
        return await livestreams.generate(require_actor(request), channel_id)

    @get("/channels/{channel_id:int}/episodes")
    async def episodes(
        self,
        request: AnyRequest,
        channel_id: FromPath[int],
        date_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        date_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
    ) -> list[EpisodeOut]:
        require_actor(request)
        return await livestreams.episodes(channel_id, date_from, date_to)

    @post("/episodes/{activity_id:int}/skip", status_code=200)
    async def skip(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[SkipIn]
    ) -> EpisodeOut:
        return await livestreams.skip(require_actor(request), activity_id, data.reason)

    @post("/episodes/{activity_id:int}/move", status_code=200)
    async def move(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[MoveIn]
    ) -> EpisodeOut:
        return await livestreams.move(
            require_actor(request), activity_id, data.starts_at, data.minutes
        )

    @post("/episodes/{activity_id:int}/later", status_code=200)
    async def later(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[LaterIn]
    ) -> list[EpisodeOut]:
        """Change this episode and every later one (start time, length, column)."""
        return await livestreams.change_later(
            require_actor(request),
            activity_id,
            start_time=data.start_time,
            minutes=data.minutes,
            column_id=data.column_id,
        )

    @post("/channels/{channel_id:int}/subscriptions", status_code=200)
    async def subscribe(
        self, request: AnyRequest, channel_id: FromPath[int], data: JSONBody[SubscribeIn]
    ) -> SubscriptionOut:
        """Be reminded 10 minutes before each episode of the channel (or of columns)."""
        return await livestreams.subscribe(require_actor(request), channel_id, data.columns)

    @delete("/channels/{channel_id:int}/subscriptions", status_code=200)
    async def unsubscribe(self, request: AnyRequest, channel_id: FromPath[int]) -> SubscriptionOut:
        actor = require_actor(request)
        await livestreams.get_channel(channel_id)
        await livestreams.unsubscribe(actor.member_id or 0, channel_id)
        return SubscriptionOut(
            channel_id=channel_id, whole_channel=False, columns=[], reminders_scheduled=0
        )

    @post("/activities/{activity_id:int}/viewer-figures", status_code=200)
    async def record_figures(
        self, request: AnyRequest, activity_id: FromPath[int], data: JSONBody[FiguresIn]
    ) -> FiguresOut:
        """What the streaming platform reported; impossible figures: 400 impossible_figures."""
        return await livestreams.record_figures(require_actor(request), activity_id, data)

    # --- crew and rota ----------------------------------------------------------------

    @get("/channels/{channel_id:int}/crew")
    async def crew(self, request: AnyRequest, channel_id: FromPath[int]) -> list[CrewOut]:
        """The crew (phones masked), for the channel's organisers."""
        await livestreams.managed_channel(require_actor(request), channel_id)
        return await livestreams.list_crew(channel_id)

    @post("/channels/{channel_id:int}/crew")
    async def add_crew(
        self, request: AnyRequest, channel_id: FromPath[int], data: JSONBody[CrewIn]
    ) -> CrewOut:
        """A member of the channel's organisation joins the crew with one role."""
        return await livestreams.add_crew(require_actor(request), channel_id, data)

    @delete("/crew/{crew_id:int}", status_code=204)
    async def remove_crew(self, request: AnyRequest, crew_id: FromPath[int]) -> None:
        await livestreams.remove_crew(require_actor(request), crew_id)

    @put("/channels/{channel_id:int}/needs")
    async def set_need(
        self, request: AnyRequest, channel_id: FromPath[int], data: JSONBody[NeedIn]
    ) -> dict[str, int]:
        """How many of one role each episode needs; answers every role's need."""
        return await livestreams.set_need(require_actor(request), channel_id, data)

    @post("/crew/{crew_id:int}/blockouts")
    async def add_blockout(
        self, request: AnyRequest, crew_id: FromPath[int], data: JSONBody[BlockoutIn]
    ) -> BlockoutOut:
        """A date, a range or a weekly day off (by the person or an organiser)."""
        return await livestreams.add_blockout(require_actor(request), crew_id, data)

    @delete("/blockouts/{blockout_id:int}", status_code=204)
    async def remove_blockout(self, request: AnyRequest, blockout_id: FromPath[int]) -> None:
        await livestreams.remove_blockout(require_actor(request), blockout_id)

    @post("/channels/{channel_id:int}/rota", status_code=200)
    async def plan_rota(self, request: AnyRequest, channel_id: FromPath[int]) -> PlannedOut:
        """Plan or re-plan the episodes not yet started (the past and accepted duties stay);
        400 rota_short names the date a role cannot be filled, and nothing is written."""
        return await livestreams.plan_rota(require_actor(request), channel_id)

    @get("/channels/{channel_id:int}/rota")
    async def rota(
        self,
        request: AnyRequest,
        channel_id: FromPath[int],
        date_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        date_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
    ) -> list[RotaEpisodeOut]:
        """Per episode: the department and each duty with its `reason`."""
        require_actor(request)
        return await livestreams.rota(channel_id, date_from, date_to)

    @get("/me/duties")
    async def my_duties(self, request: AnyRequest) -> list[DutyOut]:
        return await livestreams.my_duties(require_actor(request))

    @post("/duties/{duty_id:int}/accept", status_code=200)
    async def accept(self, request: AnyRequest, duty_id: FromPath[int]) -> DutyOut:
        return await livestreams.answer_duty(require_actor(request), duty_id, accept=True)

    @post("/duties/{duty_id:int}/decline", status_code=200)
    async def decline(self, request: AnyRequest, duty_id: FromPath[int]) -> DutyOut:
        """Declined duties are re-planned at once (400 rota_short when nobody can)."""
        return await livestreams.answer_duty(require_actor(request), duty_id, accept=False)

    @post("/duties/{duty_id:int}/swap", status_code=200)
    async def swap(
        self, request: AnyRequest, duty_id: FromPath[int], data: JSONBody[SwapIn]
    ) -> DutyOut:
        """Ask a colleague of the same role, free that day, to take over (400
        swap_blocked_out); the organiser approves or refuses."""
        return await livestreams.request_swap(require_actor(request), duty_id, data.crew_id)

    @post("/duties/{duty_id:int}/swap/approve", status_code=200)
    async def approve_swap(self, request: AnyRequest, duty_id: FromPath[int]) -> DutyOut:
        return await livestreams.decide_swap(require_actor(request), duty_id, approve=True)

    @post("/duties/{duty_id:int}/swap/refuse", status_code=200)
    async def refuse_swap(self, request: AnyRequest, duty_id: FromPath[int]) -> DutyOut:
        return await livestreams.decide_swap(require_actor(request), duty_id, approve=False)


ROUTES = [LivestreamApi]
