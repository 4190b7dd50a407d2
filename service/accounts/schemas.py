from __future__ import annotations

import msgspec

from service.orgs.schemas import MemberOut


class MeOut(msgspec.Struct):
    """The member's own record: the only place the full phone number is returned."""

    member: MemberOut
    phone: str
