"""The control-run switches are on in a process that no test touched: a fresh interpreter
imports every room and finds each seam on."""

from __future__ import annotations

import subprocess
import sys

from service.seams import SEAMS, Seams


def test_every_seam_is_on_in_a_fresh_process() -> None:
    script = (
        "from service import rooms; from service.app import create_app; create_app(); "
        "from service.seams import SEAMS; print(SEAMS.all_on())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_a_seam_switched_off_is_seen() -> None:
    assert SEAMS.all_on()
    assert not Seams(conditional_seat_write=False).all_on()
