"""Test seams: the switches a control run turns off to show that a guard is what keeps a
rule that must never break (QUALITY.md: a race test proves it can fail). They are not
settings: no environment variable or command reaches them, nothing outside tests/ changes
them, and they are all on in every process (tests/unit/test_seams.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class Seams:
    # activities: a seat is taken only by the conditional UPDATE (off: read, then write).
    conditional_seat_write: bool = True
    # checkin: a live admission is decided under its ticket's lock (off: read, then write).
    serialise_admissions: bool = True
    # heatrelief: stock is taken only by the conditional UPDATE (off: read, then write).
    conditional_stock_write: bool = True

    def all_on(self) -> bool:
        return all(getattr(self, one.name) for one in fields(self))


SEAMS = Seams()
