"""Where Unionhall's time goes in the hot-event rush: the same setup and load as
test_rush.py (5,000 members, capacity 1,000, 500 clients, 5,000 attempts), with the server
run by tests/bench/profiled_server.py (pyinstrument + a per-statement count).

    .venv/bin/pip install pyinstrument
    .venv/bin/python -m tests.bench.profile_rush sqlite|postgres [OUT_DIR]

Prints the statements per signup attempt and the top of the profile; the full profile is
OUT_DIR/profile.html (default tests/bench/results/profile-<engine>/). Under the
profiler the server is slower than in `make bench`; read proportions, not rates.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.bench import test_rush as bench


def main() -> None:
    engine = sys.argv[1]
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else bench.RESULTS / f"profile-{engine}"
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="unionhall-profile-") as tmp_name:
        tmp = Path(tmp_name)
        with bench.databases(engine, tmp, bench.Report()) as dbs:
            data_dir = tmp / "data"
            env = bench.service_env(dbs.unionhall_url, data_dir)
            bench.run_checked([bench.UNIONHALL, "migrate"], env, "unionhall migrate")
            seeded_file = tmp / "seeded.json"
            bench.run_checked(
                [bench.PYTHON, "-m", "tests.bench.rush_seed", str(seeded_file)], env, "seeding"
            )
            seeded = json.loads(seeded_file.read_text())
            members = seeded["members"][: bench.ATTEMPTS]
            port = bench.free_port()
            command = [bench.PYTHON, "-m", "tests.bench.profiled_server", str(out)]
            server_env = bench.service_env(dbs.unionhall_url, data_dir, port)
            log = out / "server.log"
            with bench.server(command, server_env, log, port, stop_timeout=300) as target:
                measured = bench.load(
                    target,
                    f"/api/v1/activities/{seeded['activity_id']}/registrations",
                    "Authorization",
                    [f"Bearer {token}" for _, token in members],
                    tmp,
                    timeout=900,
                )
    print_profile(engine, measured, out)


def print_profile(engine: str, measured: dict[str, Any], out: Path, per: str = "attempt") -> None:
    """The statements per request and the top of the profile (also for profile_door.py)."""
    wall = measured["finished"] - measured["started"]
    attempts = sum(measured["statuses"].values())
    print(f"{engine}: {attempts} {per}s in {wall:.1f}s under the profiler", measured["statuses"])
    queries = json.loads((out / "queries.json").read_text())
    total = sum(row["count"] for row in queries["queries"])
    print(f"\nstatements per {per}: {total / attempts:.2f} (warm-up GETs included)")
    for row in queries["queries"]:
        print(
            f"  {row['count'] / attempts:5.2f} × {row['shape']:<60} "
            f"mean {row['mean_ms']:7.2f} ms  total {row['total_s']:7.1f} s"
        )
    tx = queries["transactions"]
    if tx["count"]:
        print(
            f"\nwrite transactions: {tx['count']}, mean wait to start "
            f"{tx['wait_s'] * 1000 / tx['count']:.2f} ms, mean held "
            f"{tx['hold_s'] * 1000 / tx['count']:.2f} ms, held in total {tx['hold_s']:.1f} s "
            f"of {wall:.1f} s"
        )
    print(f"\nprofile: {out / 'profile.html'}\n")
    print("\n".join((out / "profile.txt").read_text().splitlines()[:80]))


if __name__ == "__main__":
    main()
