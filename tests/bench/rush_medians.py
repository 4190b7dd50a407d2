"""Medians over saved hot-event rush runs (tests/bench/results/rush-*.json), in the same
table as `make bench` prints.

    .venv/bin/python -m tests.bench.rush_medians [RESULT.json ...]
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from tests.bench.test_rush import RESULTS, Outcome, Report


def medians(paths: list[Path]) -> tuple[Report, int]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    runs = 0
    for path in paths:
        rows = json.loads(path.read_text())["results"]
        runs += bool(rows)
        for row in rows:
            groups.setdefault((row["engine"], row["target"]), []).append(row)
    report = Report()
    for rows in groups.values():
        merged: dict[str, Any] = dict(rows[0])
        for item in fields(Outcome):
            values = [row[item.name] for row in rows]
            numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
            if numbers and len(numbers) == len([v for v in values if v is not None]):
                merged[item.name] = statistics.median(numbers)
        report.add(Outcome(**merged))
    return report, runs


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or sorted(RESULTS.glob("rush-*.json"))
    report, runs = medians(paths)
    print(f"medians over {runs} runs ({', '.join(p.name for p in paths)})\n")
    print(report.table())


if __name__ == "__main__":
    main()
