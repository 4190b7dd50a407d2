"""The crew rota as a pure rule (no database): who does which role on which episode, and
which department supplies the content, rotating fairly.

Fairness: within each role the next duty goes to the available person served longest ago
(never served counts as longest), then fewest so far, then the lower id. Taking the one
served longest ago is what bounds the counts: between two duties of X in a run of
episodes, anyone else of the role available all along was served at least once (X was
picked again only because everyone else had been served since X's last duty), so over any
run of episodes the counts of those available throughout differ by at most one.

Re-planning replays the fixed duties (the past, and accepted ones) into the same state, so
the past is never rewritten and the future continues from what really happened."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

# Why a duty went to this person or department (stored with the duty, shown to people).
FEWEST_SO_FAR = "fewest_so_far"
LONGEST_SINCE_LAST = "longest_since_last"
ONLY_AVAILABLE = "only_available"
NEXT_DEPARTMENT = "next_department"
SWAPPED = "swapped"
REASONS = (FEWEST_SO_FAR, LONGEST_SINCE_LAST, ONLY_AVAILABLE, NEXT_DEPARTMENT, SWAPPED)


@dataclass(frozen=True)
class Person:
    crew_id: int
    role: str
    department: str


@dataclass(frozen=True)
class Slot:
    """One live episode to staff: its id and its local date."""

    activity_id: int
    day: date
    fixed: bool = False  # the past: its duties and department are kept as they are


@dataclass(frozen=True)
class Duty:
    activity_id: int
    crew_id: int
    role: str
    reason: str


@dataclass(frozen=True)
class DepartmentTurn:
    activity_id: int
    department: str
    reason: str


@dataclass
class Plan:
    duties: list[Duty] = field(default_factory=list)
    departments: list[DepartmentTurn] = field(default_factory=list)


class Shortage(Exception):
    """Fewer available people than a role needs on a date: nothing is planned."""

    def __init__(self, day: date, role: str, available: int, needed: int) -> None:
        super().__init__(f"{day}: {role} {available}/{needed}")
        self.day = day
        self.role = role
        self.available = available
        self.needed = needed


@dataclass
class _RoleState:
    # crew id -> stamp of the last duty: one stamp a duty, never shared, so two people
    # served on one episode are still ordered (a tie there would let one of them be
    # passed over twice, which breaks the bound).
    last: dict[int, int] = field(default_factory=dict)
    count: dict[int, int] = field(default_factory=dict)
    stamp: int = 0

    def serve(self, crew_id: int) -> None:
        self.stamp += 1
        self.last[crew_id] = self.stamp
        self.count[crew_id] = self.count.get(crew_id, 0) + 1

    def order(self, crew_id: int) -> tuple[int, int, int]:
        return (self.last.get(crew_id, -1), self.count.get(crew_id, 0), crew_id)


def _reason(state: _RoleState, chosen: int, passed_over: Sequence[int]) -> str:
    if not passed_over:
        return ONLY_AVAILABLE
    mine = state.count.get(chosen, 0)
    if all(mine < state.count.get(other, 0) for other in passed_over):
        return FEWEST_SO_FAR
    return LONGEST_SINCE_LAST


def plan(
    slots: Sequence[Slot],
    crew: Sequence[Person],
    needs: Mapping[str, int],
    available: Callable[[int, date], bool],
    *,
    kept: Sequence[Duty] = (),
    declined: frozenset[tuple[int, int]] = frozenset(),
    kept_departments: Mapping[int, str] | None = None,
) -> Plan:
    """Staff every slot not fixed. `kept` are the duties that stay (all of a fixed slot's,
    the accepted ones of the others); `declined` holds (activity id, crew id) pairs that
    must not be asked again. Raises Shortage at the first date a role cannot be filled."""
    kept_departments = kept_departments or {}
    by_role: dict[str, list[Person]] = {}
    for person in crew:
        by_role.setdefault(person.role, []).append(person)
    departments = sorted({person.department for person in crew if person.department})
    kept_by_slot: dict[int, list[Duty]] = {}
    for duty in kept:
        kept_by_slot.setdefault(duty.activity_id, []).append(duty)
    states = {role: _RoleState() for role in set(needs) | set(by_role)}
    last_department: str | None = None
    out = Plan()
    for slot in slots:
        here = kept_by_slot.get(slot.activity_id, [])
        for duty in here:
            states.setdefault(duty.role, _RoleState()).serve(duty.crew_id)
        if slot.fixed:
            last_department = kept_departments.get(slot.activity_id, last_department)
            continue
        busy = {duty.crew_id for duty in here}
        for role, needed in needs.items():
            missing = needed - sum(1 for duty in here if duty.role == role)
            if missing <= 0:
                continue
            state = states[role]
            candidates = sorted(
                (
                    person.crew_id
                    for person in by_role.get(role, [])
                    if person.crew_id not in busy
                    and (slot.activity_id, person.crew_id) not in declined
                    and available(person.crew_id, slot.day)
                ),
                key=state.order,
            )
            if len(candidates) < missing:
                raise Shortage(slot.day, role, len(candidates), missing)
            chosen, passed_over = candidates[:missing], candidates[missing:]
            for crew_id in chosen:
                out.duties.append(
                    Duty(slot.activity_id, crew_id, role, _reason(state, crew_id, passed_over))
                )
            for crew_id in chosen:
                state.serve(crew_id)
                busy.add(crew_id)
        if departments:
            turn = (
                departments[0]
                if last_department not in departments
                else departments[(departments.index(last_department) + 1) % len(departments)]
            )
            out.departments.append(DepartmentTurn(slot.activity_id, turn, NEXT_DEPARTMENT))
            last_department = turn
    return out
