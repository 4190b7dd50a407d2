"""The benchmarks run the real server against their own databases (made per engine by
tests/bench/test_rush.py), so the per-test table cleaning of tests/conftest.py, which
works on the suite's database and starts the embedded Redis, is not wanted here."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """Overrides tests/conftest.py's clean_state: nothing to clean for a benchmark."""


@pytest.fixture
async def org() -> Any:
    """The suite's organisation, on emptied tables: benchmarks that work on the suite's
    own database (B9, B11) each start from nothing, in any order, in one `make bench`."""
    from tests.conftest import build_org, empty_tables

    await empty_tables()
    return await build_org()
