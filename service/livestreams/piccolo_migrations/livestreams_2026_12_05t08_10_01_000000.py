import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, Integer, Text
from piccolo.table import Table

ID = "2026-12-05T08:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "each existing episode gets a copy of its column's rundown template"

# A migration of its own: Piccolo runs a migration's raw steps before its table steps, so
# the backfill cannot share a migration with the column it fills.


class _Column(Table, tablename="livestream_column"):
    # The tables as they are at this migration (not the app's classes, which may change).
    id = Integer(primary_key=True)
    rundown = Text()


class _Episode(Table, tablename="livestream_episode"):
    id = Integer(primary_key=True)
    column = Integer(null=True)
    rundown = JSON()


def template_segments(text: str) -> list[dict[str, object]]:
    """The template as it was stored (one segment a line, "title | minutes | who", already
    checked when saved): copied as it is, never re-judged by later rules."""
    segments: list[dict[str, object]] = []
    for line in (text or "").splitlines():
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 2 or not parts[0] or not parts[1].isdigit():
            continue
        segments.append({"title": parts[0], "minutes": int(parts[1]), "who": " ".join(parts[2:])})
    return segments


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="livestreams", description=DESCRIPTION)

    async def copy_templates() -> None:
        templates = {
            row["id"]: json.dumps(template_segments(row["rundown"]), ensure_ascii=False)
            for row in await _Column.select(_Column.id, _Column.rundown).run()
        }
        for column_id, rundown in templates.items():
            await (
                _Episode.update({_Episode.rundown: rundown})
                .where(_Episode.column == column_id)
                .run()
            )

    manager.add_raw(copy_templates)
    return manager
