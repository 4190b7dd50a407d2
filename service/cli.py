"""`unionhall run | worker | migrate | demo | users | tokens | keys | tickets`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from service.errors import DomainError
from service.i18n import gettext
from service.settings import SettingsError, get_settings

T = TypeVar("T")
log = logging.getLogger("unionhall")


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run one coroutine with the database pool open, and close it afterwards."""
    from service import db

    async def main() -> T:
        await db.open_pool()
        try:
            return await make()
        finally:
            from service.redis_client import close_redis

            await close_redis()
            await db.close_pool()

    return asyncio.run(main())


def fail(message: str) -> int:
    print(f"unionhall: {message}", file=sys.stderr)
    return 2


# --- commands ---------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = run_async(lambda: run_forwards(app_name="all"))
    if not result.success:
        return fail(f"migration failed: {result.message}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from service.demo import load_demo
    from service.orgs.tables import Member

    async def go() -> int:
        if args.if_empty and await Member.count().run() > 0:
            return 0
        return await load_demo()

    added = run_async(go)
    print(f"demo data: {added} rows added")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from service.orgs import services as orgs
    from service.orgs.schemas import SYSTEM, MemberIn

    member = run_async(
        lambda: orgs.create_member(
            SYSTEM,
            MemberIn(
                phone=args.phone,
                name=args.name,
                node=args.node,
                group=args.group or "other",
                roles=args.role or ["worker"],
            ),
        )
    )
    print(f"added member {member.id}: {member.name} {member.phone_masked} ({member.node_code})")
    return 0


def cmd_users_import(args: argparse.Namespace) -> int:
    from service.orgs import services as orgs
    from service.orgs.files import read_member_rows

    async def go() -> orgs.ImportResult:
        return await orgs.import_members(read_member_rows(Path(args.file)))

    result = run_async(go)
    if result.errors:
        for line, message in result.errors:
            print(f"{args.file}:{line}: {message}", file=sys.stderr)
        print(f"nothing imported: {len(result.errors)} bad rows", file=sys.stderr)
        return 1
    print(f"imported: {result.created} created, {result.updated} updated")
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    from service.accounts import services as accounts

    async def go() -> list[tuple[str, str]]:
        return [(phone, await accounts.create_api_token(phone)) for phone in args.phone]

    for phone, token in run_async(go):
        print(f"{phone} {token}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from service import signing

    path = signing.create_signing_key()
    print(f"new signing key: {path.name}; older keys keep verifying until their file is removed")
    print("restart the web processes so that they sign with it")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from tasks.worker import create_worker

    create_worker().run()
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def cmd_run(args: argparse.Namespace) -> int:
    import uvicorn

    from service.demo import demo_sign_ins
    from service.redis_client import start_embedded_redis, stop_embedded_redis

    settings = get_settings()
    embedded = settings.redis_url is None
    if embedded:
        # The web server (here) and the worker (a child process) share the embedded server.
        os.environ["UNIONHALL_REDIS_URL"] = start_embedded_redis()
        get_settings.cache_clear()
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"])
    url = f"http://{settings.host}:{settings.port}/"
    print(f"\nUnionhall is running at {url}")
    if settings.demo:
        print("Demo sign-ins (the one-time code is shown on the sign-in page):")
        for phone, who in demo_sign_ins():
            print(f"  {phone}  {who}")
    print("Press Ctrl-C to stop.\n", flush=True)
    # uvicorn shuts down on SIGTERM, then raises the signal again with the handler it found
    # at start. Left at the default, that kills this process before the `finally` below,
    # leaving the worker and the embedded Redis running (`docker stop`, systemd, timeout).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run(
            "service.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            proxy_headers=True,
            log_level="info",
        )
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
        if embedded:
            stop_embedded_redis()
    return 0


# --- parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="unionhall", description="Unionhall service")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="web server, job worker and (if needed) embedded Redis")
    run.add_argument("--no-worker", action="store_true", help="do not start a job worker")
    run.set_defaults(func=cmd_run)
    sub.add_parser("worker", help="one arq job worker").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    demo = sub.add_parser("demo", help="load idempotent demo data")
    demo.add_argument("--if-empty", action="store_true", help="only when there are no members")
    demo.set_defaults(func=cmd_demo)

    users = sub.add_parser("users", help="manage members").add_subparsers(
        dest="users_command", required=True
    )
    add = users.add_parser("add", help="add one member")
    add.add_argument("--phone", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", action="append", help="worker, staff, organiser, admin (repeat)")
    add.add_argument("--node", help="node code (default: the root)")
    add.add_argument("--group", help="worker group code (default: other)")
    add.set_defaults(func=cmd_users_add)
    imp = users.add_parser("import", help="create or update members from CSV or XLSX")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_users_import)

    tokens = sub.add_parser("tokens", help="API tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    create = tokens.add_parser("create", help="one token per phone, printed as PHONE TOKEN")
    create.add_argument("--phone", action="append", required=True)
    create.set_defaults(func=cmd_tokens_create)

    signing_keys = sub.add_parser("keys", help="keys that sign QR codes").add_subparsers(
        dest="keys_command", required=True
    )
    rotate = signing_keys.add_parser("rotate", help="start signing codes with a new key")
    rotate.set_defaults(func=cmd_keys_rotate)
    # The name from before codes other than tickets were signed; one key signs them all.
    tickets = sub.add_parser("tickets", help="ticket signing keys").add_subparsers(
        dest="tickets_command", required=True
    )
    rotate = tickets.add_parser("rotate-key", help="the same as `keys rotate`")
    rotate.set_defaults(func=cmd_keys_rotate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        get_settings()
    except SettingsError as error:
        return fail(str(error))
    try:
        result: Any = args.func(args)
    except DomainError as error:
        return fail(gettext(error.message, **error.params))
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
