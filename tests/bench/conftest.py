"""The benchmarks run the real server against their own databases (made per engine by
tests/bench/test_rush.py), so the per-test table cleaning of tests/conftest.py, which
works on the suite's database and starts the embedded Redis, is not wanted here."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """Overrides tests/conftest.py's clean_state: nothing to clean for a benchmark."""
