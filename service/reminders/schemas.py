"""The reminders API contract: the inbox, the push key and push subscriptions."""

from __future__ import annotations

from datetime import datetime

import msgspec


class NotificationOut(msgspec.Struct):
    id: int
    kind: str
    activity_id: int | None
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class NotificationsOut(msgspec.Struct):
    items: list[NotificationOut]


class PushKeyOut(msgspec.Struct):
    public_key: str  # base64url, the uncompressed P-256 point browsers subscribe with


class SubscriptionKeys(msgspec.Struct, forbid_unknown_fields=False):
    p256dh: str
    auth: str


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=False):
    """PushSubscription.toJSON() as the browser gives it (expirationTime is ignored)."""

    endpoint: str
    keys: SubscriptionKeys


class UnsubscribeIn(msgspec.Struct, forbid_unknown_fields=False):
    endpoint: str


class ReadAllOut(msgspec.Struct):
    marked: int
