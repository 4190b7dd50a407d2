"""The ticket's signed code: ticket id, activity id and reissue counter, signed as the
"ticket" code type of service/signing.py (layout, keys and rotation live there).

The ticket type is registered here, in the room that owns tickets, as every later code
type is registered in its own room (a site poster in heat relief, a device link at a
job-fair booth): signing.py stays a shared module that knows no room. Its tag, 1, and
its three fields are what every ticket code handed out so far carries: never change them.
"""

from __future__ import annotations

from dataclasses import dataclass

from service import signing

TICKET = signing.register_code_type("ticket", tag=1, fields=("ticket_id", "activity_id", "reissue"))

# The door catches every refused code alike ("invalid"), a poster code included.
BadToken = signing.BadCode


@dataclass(frozen=True)
class TicketToken:
    ticket_id: int
    activity_id: int
    reissue: int


def ticket_code(ticket_id: int, activity_id: int, reissue: int) -> str:
    return signing.sign(TICKET.name, ticket_id=ticket_id, activity_id=activity_id, reissue=reissue)


def verify_ticket(code: str) -> TicketToken:
    """The ticket in a genuine ticket code; BadToken otherwise (WrongCodeType, a subclass,
    for a genuine code of another type)."""
    return TicketToken(**signing.verify(code, TICKET.name).fields)
