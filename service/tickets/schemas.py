from __future__ import annotations

from datetime import datetime

import msgspec


class TicketKey(msgspec.Struct):
    key_id: int
    alg: str
    public_key: str  # raw 32 bytes, base64url without padding (WebCrypto "raw" import)


class TicketKeysOut(msgspec.Struct):
    keys: list[TicketKey]


class RevocationOut(msgspec.Struct):
    ticket_id: int
    below_reissue: int
    reason: str
    created_at: datetime


class RevocationsOut(msgspec.Struct):
    cursor: int
    items: list[RevocationOut]
