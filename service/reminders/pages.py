"""The member's inbox page and the admins' failed-messages page (thin)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service.http import page, require_actor
from service.reminders import services as reminders
from service.reminders import texts

AnyRequest = Request[Any, Any, Any]


class ReminderPages(Controller):
    include_in_schema = False

    @get("/me/notifications")
    async def inbox(self, request: AnyRequest) -> Template:
        items = await texts.open_inbox(require_actor(request))
        # Opening the page reads them all: the badge goes at once.
        return page(request, "reminders/inbox.html", items=items, unread=0)

    @get("/admin/messages")
    async def failed(self, request: AnyRequest) -> Template:
        messages = await reminders.failed_messages(require_actor(request))
        return page(
            request,
            "reminders/failed.html",
            messages=messages,
            retried=request.query_params.get("retried") == "1",
        )

    @post("/admin/messages/{message_id:int}/retry")
    async def retry(self, request: AnyRequest, message_id: FromPath[int]) -> Redirect:
        await reminders.retry_failed(require_actor(request), message_id)
        return Redirect("/admin/messages?retried=1")


ROUTES = [ReminderPages]
