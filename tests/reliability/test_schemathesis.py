"""Issue 16 / QUALITY.md B12: Schemathesis over every operation of /schema/openapi.json, as
anonymous, worker, organiser and admin, against the real server (`unionhall run`) on the
demo data. No answer may be a 5xx, every answer must match the documented schema, and
every status must be one its operation declares (service/openapi.py derives them). Bounded
here (a few examples an operation: about two minutes on two cores); `make fuzz` runs the
same longer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import free_port
from tests.cli.test_cli import UNIONHALL

pytestmark = pytest.mark.skipif(
    os.environ.get("UNIONHALL_TEST_ENGINE", "sqlite") != "sqlite",
    reason="runs once, in the SQLite pass, against its own server",
)

SCHEMATHESIS = str(Path(sys.executable).with_name("st"))
EXAMPLES = int(os.environ.get("UNIONHALL_FUZZ_EXAMPLES", "4"))
ROLE_PHONES = {"admin": "13900000001", "organiser": "13900000003", "worker": "13900000101"}
# status_code_conformance: every status an operation answers is one it declares
# (service/openapi.py derives them).
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {
        **os.environ,
        "UNIONHALL_DATABASE_URL": f"sqlite:///{folder / 'fuzz.sqlite'}",
        "UNIONHALL_DATA_DIR": str(folder / "data"),
        "UNIONHALL_PORT": str(port),
        "UNIONHALL_DEMO": "1",
    }
    for step in (["migrate"], ["demo"]):
        subprocess.run([UNIONHALL, *step], env=env, check=True, capture_output=True, timeout=120)
    created = subprocess.run(
        [UNIONHALL, "tokens", "create", *[f"--phone={p}" for p in ROLE_PHONES.values()]],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    by_phone = dict(line.split(" ") for line in created.stdout.strip().splitlines())
    tokens = {role: by_phone[phone] for role, phone in ROLE_PHONES.items()}
    log = folder / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [UNIONHALL, "run", "--no-worker"], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        yield base, tokens
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("role", ["anonymous", "worker", "organiser", "admin"])
def test_no_5xx_and_no_schema_failure(
    server: tuple[str, dict[str, str]], role: str, tmp_path: Path
) -> None:
    base, tokens = server
    headers = [] if role == "anonymous" else ["-H", f"Authorization: Bearer {tokens[role]}"]
    result = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{base}/schema/openapi.json",
            *headers,
            "--checks",
            CHECKS,
            "--max-examples",
            str(EXAMPLES),
            "--phases",
            "examples,fuzzing",
            "--seed",
            "16",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,  # its .schemathesis cache stays out of the project
    )
    output = result.stdout + result.stderr
    (Path(os.environ.get("UNIONHALL_FUZZ_LOG_DIR", tmp_path)) / f"{role}.txt").write_text(output)
    tested = re.search(r"Tested:\s+(\d+)", output)
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    print(
        f"schemathesis as {role}: {tested and tested.group(1)} operations, "
        f"{cases and cases.group(0)}"
    )
    assert result.returncode == 0, output[-6000:]
    assert tested and int(tested.group(1)) >= 45, output[-3000:]
    assert cases and cases.group(1) == cases.group(2), output[-3000:]
