"""Ticket pages: a member's ticket with its QR, viewable offline once opened."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request

AnyRequest = Request[Any, Any, Any]


class TicketPages(Controller):
    include_in_schema = False
