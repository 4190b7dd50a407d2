"""JSON API for the member's inbox and Web Push subscriptions (thin)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from service.http import require_actor
from service.reminders import services as reminders
from service.reminders import texts, vapid
from service.reminders.schemas import (
    NotificationOut,
    NotificationsOut,
    PushKeyOut,
    ReadAllOut,
    SubscriptionIn,
    UnsubscribeIn,
)

AnyRequest = Request[Any, Any, Any]


class ReminderApi(Controller):
    path = "/api/v1"
    tags = ["notifications"]  # noqa: RUF012

    @get("/push/key")
    async def push_key(self) -> PushKeyOut:
        return PushKeyOut(public_key=vapid.public_key())

    @post("/me/push-subscriptions", status_code=204)
    async def subscribe(self, request: AnyRequest, data: JSONBody[SubscriptionIn]) -> None:
        await reminders.add_push_subscription(
            require_actor(request), data.endpoint, data.keys.p256dh, data.keys.auth
        )

    @delete("/me/push-subscriptions", status_code=204)
    async def unsubscribe(self, request: AnyRequest, data: JSONBody[UnsubscribeIn]) -> None:
        await reminders.remove_push_subscription(require_actor(request), data.endpoint)

    @get("/me/notifications")
    async def inbox(self, request: AnyRequest) -> Response[NotificationsOut]:
        rows = await texts.notifications(require_actor(request))
        return Response(
            NotificationsOut(items=[NotificationOut(**row) for row in rows]),
            headers={"Cache-Control": "no-store"},
        )

    @post("/me/notifications/{notification_id:int}/read", status_code=204)
    async def read(self, request: AnyRequest, notification_id: FromPath[int]) -> None:
        await reminders.mark_read(require_actor(request), notification_id)

    @post("/me/notifications/read-all", status_code=200)
    async def read_all(self, request: AnyRequest) -> ReadAllOut:
        return ReadAllOut(marked=await reminders.mark_all_read(require_actor(request)))


ROUTES = [ReminderApi]
