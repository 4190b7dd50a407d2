"""Where Unionhall's time goes at the door: one round of test_door.py's scans (20
scanners, 1,500 of the 5,000 tickets, 1,630 scans) against the server run by
tests/bench/profiled_server.py (pyinstrument + a per-statement count).

    .venv/bin/pip install pyinstrument
    .venv/bin/python -m tests.bench.profile_door sqlite|postgres [OUT_DIR]

Prints the statements per verdict and the top of the profile; the full profile is
OUT_DIR/profile.html (default tests/bench/results/profile-door-<engine>/). Under the
profiler the server is slower than in `make bench`; read proportions, not rates.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.bench import test_door as door
from tests.bench import test_rush as bench
from tests.bench.profile_rush import print_profile


def main() -> None:
    engine = sys.argv[1]
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else bench.RESULTS / f"profile-door-{engine}"
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="unionhall-profile-") as tmp_name:
        tmp = Path(tmp_name)
        with bench.databases(engine, tmp, bench.Report()) as dbs:
            seeded = door.prepare(dbs, tmp)
            port = bench.free_port()
            command = [bench.PYTHON, "-m", "tests.bench.profiled_server", str(out)]
            server_env = bench.service_env(dbs.unionhall_url, tmp / "data", port)
            log = out / "server.log"
            with bench.server(command, server_env, log, port, stop_timeout=300) as target:
                measured = door.scan_round(target, seeded, 1, f"profile-{engine}", tmp, timeout=900)
    print_profile(engine, measured, out, per="verdict")


if __name__ == "__main__":
    main()
