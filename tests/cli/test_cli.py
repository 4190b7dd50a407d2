"""The `unionhall` command line, run as a real process against the test database.

The CLI runs asyncio.run() itself, so it cannot run inside the test's event loop; each
test starts `.venv/bin/unionhall` with the test process's environment (conftest has set
UNIONHALL_DATABASE_URL, UNIONHALL_DATA_DIR, UNIONHALL_DEMO, ...).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.accounts import services as accounts
from service.accounts.tables import ApiToken
from service.demo import NODES, PEOPLE
from service.livestreams.demo import CREW as livestream_crew
from service.orgs.tables import Member, Node
from tests.conftest import Org

UNIONHALL = str(Path(sys.executable).with_name("unionhall"))


async def unionhall(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [UNIONHALL, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def problem_lines(stderr: str) -> list[str]:
    """What the CLI says to the person, without the INFO/DEBUG log lines of libraries."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith(("INFO ", "DEBUG "))
    ]


async def member_count() -> int:
    return await Member.count().run()


# --- users add --------------------------------------------------------------------------


async def test_users_add_creates_a_member_and_prints_the_phone_masked(org: Org) -> None:
    result = await unionhall(
        "users",
        "add",
        "--phone",
        "+86 139-1234-5678",
        "--name",
        "新成员",
        "--node",
        "ent-a1",
        "--role",
        "staff",
        "--role",
        "worker",
        "--group",
        "courier",
    )
    assert result.returncode == 0, result.stderr
    assert "139****5678" in result.stdout
    assert "13912345678" not in result.stdout + result.stderr
    assert "新成员" in result.stdout
    row = await Member.select().where(Member.phone == "13912345678").first().run()
    assert row is not None
    assert (row["name"], row["roles"], row["worker_group"]) == ("新成员", "staff,worker", "courier")
    node = await Node.select(Node.code).where(Node.id == row["node"]).first().run()
    assert node == {"code": "ent-a1"}


async def test_users_add_with_a_bad_phone_says_so_in_one_line_and_writes_nothing(
    org: Org,
) -> None:
    before = await member_count()
    result = await unionhall("users", "add", "--phone", "1234", "--name", "某人")
    assert result.returncode != 0
    lines = problem_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("unionhall: ")
    assert "Traceback" not in result.stderr
    assert await member_count() == before


async def test_users_add_with_a_taken_phone_fails_cleanly(org: Org) -> None:
    before = await member_count()
    result = await unionhall("users", "add", "--phone", org.phones["admin"], "--name", "重复")
    assert result.returncode != 0
    assert len(problem_lines(result.stderr)) == 1, result.stderr
    assert await member_count() == before


async def test_users_add_to_an_unknown_node_fails_cleanly(org: Org) -> None:
    before = await member_count()
    result = await unionhall(
        "users", "add", "--phone", "13912345678", "--name", "某人", "--node", "nowhere"
    )
    assert result.returncode != 0
    lines = problem_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert "nowhere" in lines[0]
    assert await member_count() == before


# --- users import -----------------------------------------------------------------------


async def test_users_import_creates_members_from_csv(org: Org, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(
        "phone,name,node,group,roles\n"
        "13912345671,张三,ent-a1,courier,worker\n"
        "139 1234 5672,李四,union-b,,staff;worker\n",
        encoding="utf-8-sig",
    )
    before = await member_count()
    result = await unionhall("users", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "2 created, 0 updated" in result.stdout, result.stdout
    assert await member_count() == before + 2
    row = await Member.select(Member.name, Member.roles).where(Member.phone == "13912345672").run()
    assert row == [{"name": "李四", "roles": "staff,worker"}]


async def test_users_import_with_bad_rows_names_each_line_and_imports_nothing(
    org: Org, tmp_path: Path
) -> None:
    path = tmp_path / "members.csv"
    path.write_text(
        "phone,name,node\n"
        "13912345671,张三,ent-a1\n"  # line 2: fine
        "1391234567,号码短了,ent-a1\n"  # line 3: 10 digits
        "13912345673,李四,ent-a1\n"  # line 4: fine
        "13912345674,,ent-a1\n",  # line 5: no name
        encoding="utf-8",
    )
    before = await member_count()
    result = await unionhall("users", "import", str(path))
    assert result.returncode != 0
    located = [line for line in result.stderr.splitlines() if line.startswith(f"{path}:")]
    assert [line.split(":")[1] for line in located] == ["3", "5"], result.stderr
    assert all(line.split(":", 2)[2].strip() for line in located)
    assert "Traceback" not in result.stderr
    assert await member_count() == before


async def test_users_import_of_an_unreadable_file_fails_cleanly(org: Org, tmp_path: Path) -> None:
    path = tmp_path / "members.txt"
    path.write_text("phone,name\n13912345671,张三\n", encoding="utf-8")
    before = await member_count()
    result = await unionhall("users", "import", str(path))
    assert result.returncode != 0
    assert len(problem_lines(result.stderr)) == 1, result.stderr
    assert await member_count() == before


# --- tokens -----------------------------------------------------------------------------


async def test_tokens_create_prints_a_working_token_per_phone(org: Org) -> None:
    phones = [org.phones["organiser_a"], org.phones["staff_a"]]
    result = await unionhall("tokens", "create", "--phone", phones[0], "--phone", phones[1])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    tokens = {}
    for line in lines:
        phone, token = line.split(" ")
        tokens[phone] = token
    assert set(tokens) == set(phones)
    organiser = await accounts.actor_for_api_token(tokens[phones[0]])
    staff = await accounts.actor_for_api_token(tokens[phones[1]])
    assert organiser is not None and organiser.member_id == org.organiser_a.member_id
    assert staff is not None and staff.member_id == org.staff_a.member_id
    assert await ApiToken.count().run() == 2


async def test_tokens_create_for_an_unknown_phone_fails_cleanly(org: Org) -> None:
    result = await unionhall("tokens", "create", "--phone", "13912345678")
    assert result.returncode != 0
    assert len(problem_lines(result.stderr)) == 1, result.stderr
    assert result.stdout.strip() == ""
    assert await ApiToken.count().run() == 0


# --- demo, migrate, settings ------------------------------------------------------------


async def test_demo_is_idempotent() -> None:
    first = await unionhall("demo")
    assert first.returncode == 0, first.stderr
    added = re.search(r"(\d+) rows added", first.stdout)
    assert added, first.stdout
    assert int(added.group(1)) >= len(NODES) + len(PEOPLE)
    counts = (await Node.count().run(), await member_count())
    assert counts == (len(NODES), len(PEOPLE) + len(livestream_crew))

    second = await unionhall("demo")
    assert second.returncode == 0, second.stderr
    assert "demo data: 0 rows added" in second.stdout
    assert (await Node.count().run(), await member_count()) == counts


async def test_demo_if_empty_leaves_an_existing_organisation_alone(org: Org) -> None:
    before = (await Node.count().run(), await member_count())
    result = await unionhall("demo", "--if-empty")
    assert result.returncode == 0, result.stderr
    assert "0 rows added" in result.stdout
    assert (await Node.count().run(), await member_count()) == before


async def test_migrate_on_an_up_to_date_database_succeeds() -> None:
    result = await unionhall("migrate")
    assert result.returncode == 0, result.stderr


async def test_a_bad_setting_stops_with_one_line_naming_it() -> None:
    result = await unionhall("demo", UNIONHALL_PORT="abc")
    assert result.returncode != 0
    lines = problem_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert "UNIONHALL_PORT" in lines[0]
    assert "abc" in lines[0]
    assert await member_count() == 0


# --- tickets ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("keys", "rotate"), ("tickets", "rotate-key")])
async def test_rotating_the_signing_key_keeps_old_tickets_valid(command: tuple[str, str]) -> None:
    from service import signing
    from service.tickets import tokens

    signing.reset_keyring()
    old_code = tokens.ticket_code(7, 3, 0)
    result = await unionhall(*command)
    assert result.returncode == 0, result.stderr
    assert "new signing key" in result.stdout
    signing.reset_keyring()
    new_code = tokens.ticket_code(7, 3, 0)
    assert new_code != old_code
    assert len(signing.public_keys()) >= 2
    # Both verify: a scanner with the published keys admits tickets sent before the rotation.
    assert tokens.verify_ticket(old_code) == tokens.verify_ticket(new_code)
