"""Door pages: the scanner for staff on a phone."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from service.activities.schemas import REGISTRATION_STATUS_LABELS
from service.checkin import services as checkin
from service.checkin.schemas import RESULT_COLOURS, RESULT_LABELS, RESULTS
from service.http import page, require_actor
from service.i18n import gettext

AnyRequest = Request[Any, Any, Any]


class CheckinPages(Controller):
    include_in_schema = False

    @get("/door")
    async def doors(self, request: AnyRequest) -> Template:
        activities = await checkin.scannable_activities(require_actor(request))
        return page(request, "checkin/doors.html", activities=activities)

    @get("/door/{activity_id:int}")
    async def scanner(self, request: AnyRequest, activity_id: FromPath[int]) -> Template:
        state = await checkin.door_state(require_actor(request), activity_id)
        return page(
            request,
            "checkin/scanner.html",
            door=state,
            result_labels={code: gettext(RESULT_LABELS[code]) for code in RESULTS},
            result_colours={code: RESULT_COLOURS.get(code, "red") for code in RESULTS},
            statuses={code: gettext(text) for code, text in REGISTRATION_STATUS_LABELS.items()},
        )
