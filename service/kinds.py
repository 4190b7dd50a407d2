"""The kinds registry: what each activity kind offers, and where its own room plugs in.

The activity core names no kind. Each kind's room declares one `Kind` in its `kind.py`
(`KIND = Kind(...)`); the registry imports those modules from the one list of rooms
(`service/rooms.py`), so adding a kind is its room plus one line there. Tests may
`register()` a kind of their own and `unregister()` it afterwards.

A kind says whether its activities have places (a capacity), sign-up, tickets and a door,
its default reminder rules and the message kinds it sends, and its hooks: details (its own
table keyed by activity id: validate, write inside the activity's transaction, read into
the activity's output, copy on duplicate), a form partial, and report sections.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from service.errors import DomainError


@dataclass(frozen=True)
class ReminderRule:
    """One reminder: `minutes_before` the start, or at a local time `days_before` it."""

    kind: str
    minutes_before: int | None = None
    days_before: int = 0
    at_local: time | None = None

    def due(self, starts_at: datetime, zone: ZoneInfo) -> datetime:
        if self.minutes_before is not None:
            return starts_at - timedelta(minutes=self.minutes_before)
        assert self.at_local is not None
        day = starts_at.astimezone(zone).date() - timedelta(days=self.days_before)
        return datetime.combine(day, self.at_local, tzinfo=zone)


# The reminders a kind may choose from (the reminder form offers these, by message kind).
DAY_BEFORE = ReminderRule("reminder_day_before", days_before=1, at_local=time(18, 0))
MORNING_OF = ReminderRule("reminder_morning", days_before=0, at_local=time(7, 0))
ONE_HOUR = ReminderRule("reminder_1h", minutes_before=60)
TEN_MINUTES = ReminderRule("reminder_10m", minutes_before=10)
REMINDER_RULES: tuple[ReminderRule, ...] = (DAY_BEFORE, MORNING_OF, ONE_HOUR, TEN_MINUTES)


class DetailsHooks(Protocol):
    """A kind's own details, kept in its room's table keyed by activity id.

    `validate` turns the raw `details` object of an activity's input (JSON or form) into
    the values to store, raising DomainError with a field; `write` stores them inside the
    activity's write transaction; `read` returns each activity's details as a plain dict
    (for ActivityOut.details); `copy` duplicates them onto a new activity.
    """

    def validate(self, raw: Mapping[str, Any]) -> Any: ...

    async def write(self, activity_id: int, values: Any) -> None: ...

    async def read(self, activity_ids: Sequence[int]) -> dict[int, dict[str, Any]]: ...

    async def copy(self, source_id: int, target_id: int) -> None: ...


# A report section builder: the activity id (or, for the summary, the actor and the
# date range) in, a list of report sections (service.reports.schemas.ReportSection) out.
ActivitySectionBuilder = Callable[[int], Awaitable[list[Any]]]
SummarySectionBuilder = Callable[[Any, datetime, datetime], Awaitable[list[Any]]]
# A pre-write check: the activity's cleaned values (starts_at, ends_at, capacity, …), the
# kind's validated details (None when an update leaves them as stored) and the id of the
# activity whose stored details apply (the one updated, or the one duplicated; None for a
# new activity). It raises DomainError to refuse the write; the core calls it first thing
# inside its write transaction, on create, update, duplicate and a change of capacity (with
# details None), so a kind that locks what it reads (service.db.lock_key) in both its own
# writes and its check closes the gap between the check and the write.
ActivityCheck = Callable[[Mapping[str, Any], Any, "int | None"], Awaitable[None]]


@dataclass(frozen=True)
class Kind:
    code: str
    label: str  # English msgid; its zh-CN text is in the catalogue like every string
    places: bool = True  # a capacity and a waitlist
    signup: bool = True  # workers register
    tickets: bool = True  # a confirmed registration carries a QR ticket
    door: bool = True  # check-in at a door
    reminder_rules: tuple[ReminderRule, ...] = (DAY_BEFORE, ONE_HOUR)
    # Messages of its own, beside the core's: message kind → (title, body) English msgids
    # with %(title)s, %(when)s, %(time)s, %(where)s filled in.
    messages: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # Those of its own messages that remind of the start: superseded with the core's
    # reminders when the activity moves or is cancelled.
    start_reminders: tuple[str, ...] = ()
    details: DetailsHooks | None = None
    form_partial: str | None = None  # a template included in the activity form
    detail_partial: str | None = None  # a template included in the activity page
    # What detail_partial shows that depends on who looks (the viewer's actor and the
    # activity id in; a dict out, given to the partial as `kind_view`): `details` are the
    # same for everyone, this is not (e.g. the delivery sites nearest the worker first).
    detail_view: Callable[[Any, int], Awaitable[dict[str, Any]]] | None = None
    report_section: ActivitySectionBuilder | None = None
    summary_section: SummarySectionBuilder | None = None
    check: ActivityCheck | None = None
    # Work the kind does on a schedule: the worker calls it hourly (and at start-up); it
    # returns how many things it did, for the job's log.
    upkeep: Callable[[], Awaitable[int]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tickets and not self.signup:
            raise ValueError(f"kind {self.code}: tickets need sign-up")
        if self.door and not self.tickets:
            raise ValueError(f"kind {self.code}: a door needs tickets")
        if self.places and not self.signup:
            raise ValueError(f"kind {self.code}: places need sign-up")

    def offers(self) -> dict[str, bool]:
        return {
            "places": self.places,
            "signup": self.signup,
            "tickets": self.tickets,
            "door": self.door,
        }


_registered: dict[str, Kind] = {}
_loaded = False


def _load() -> None:
    """Import every room's `kind.py` once (the rooms register in list order)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from service.rooms import ROOMS

    for room in ROOMS:
        module_name = f"service.{room}.kind"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        register(module.KIND)


def register(kind: Kind) -> None:
    if kind.code in _registered and _registered[kind.code] is not kind:
        raise ValueError(f"kind {kind.code} is registered twice")
    _registered[kind.code] = kind


def unregister(code: str) -> None:
    _registered.pop(code, None)


def all_kinds() -> tuple[Kind, ...]:
    _load()
    return tuple(_registered.values())


def codes() -> tuple[str, ...]:
    return tuple(kind.code for kind in all_kinds())


def find(code: str | None) -> Kind | None:
    _load()
    return _registered.get(code or "")


def get(code: str, *, field: str = "kind") -> Kind:
    """The registered kind, or the validation error a form shows beside its kind field."""
    found = find(code)
    if found is None:
        raise DomainError("validation_error", "Choose an activity kind from the list.", field=field)
    return found


async def detail_view(code: str, actor: Any, activity_id: int) -> dict[str, Any]:
    """The kind's per-viewer part of an activity page ({} when the kind has none)."""
    kind = find(code)
    if kind is None or kind.detail_view is None:
        return {}
    return await kind.detail_view(actor, activity_id)


def labels() -> dict[str, str]:
    """Kind code → English label (templates translate it with _())."""
    return {kind.code: kind.label for kind in all_kinds()}


def messages() -> dict[str, tuple[str, str]]:
    """Every kind's own message kinds with their (title, body) msgids."""
    return {name: texts for kind in all_kinds() for name, texts in kind.messages.items()}


async def run_upkeep() -> dict[str, int]:
    """Every kind's scheduled upkeep, by kind code."""
    return {kind.code: await kind.upkeep() for kind in all_kinds() if kind.upkeep is not None}


def start_reminders() -> tuple[str, ...]:
    """Every kind's own start-reminder message kinds."""
    return tuple(name for kind in all_kinds() for name in kind.start_reminders)
