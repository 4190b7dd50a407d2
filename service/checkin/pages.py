"""Door pages: the scanner for staff on a phone."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request

AnyRequest = Request[Any, Any, Any]


class CheckinPages(Controller):
    include_in_schema = False
