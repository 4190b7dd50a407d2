"""Reading member lists from the CSV and XLSX files unions keep."""

from __future__ import annotations

import csv
from pathlib import Path

from service.errors import DomainError
from service.orgs.services import IMPORT_COLUMNS

MAX_ROWS = 100_000


def read_member_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs; line 1 is the header row."""
    if not path.is_file():
        raise DomainError("not_found", "There is no file at %(path)s.", path=str(path))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _csv_rows(path)
    elif suffix in {".xlsx", ".xlsm"}:
        table = _xlsx_rows(path)
    else:
        raise DomainError("validation_error", "Use a .csv or .xlsx file.")
    if not table:
        raise DomainError("validation_error", "The file is empty.")
    header = [cell.strip().lower() for cell in table[0]]
    missing = [column for column in ("phone", "name") if column not in header]
    if missing:
        raise DomainError(
            "validation_error",
            "The first row must name the columns: %(columns)s.",
            columns=", ".join(IMPORT_COLUMNS),
        )
    if len(table) - 1 > MAX_ROWS:
        raise DomainError(
            "validation_error", "Import at most %(count)s rows at once.", count=MAX_ROWS
        )
    rows = []
    for offset, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = {
            name: (cells[index].strip() if index < len(cells) else "")
            for index, name in enumerate(header)
            if name in IMPORT_COLUMNS
        }
        rows.append((offset, row))
    return rows


def _csv_rows(path: Path) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))
    except UnicodeDecodeError:
        raise DomainError("validation_error", "Save the CSV file as UTF-8 and try again.") from None


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:
        raise DomainError(
            "validation_error", "This file could not be read as Excel (.xlsx)."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores typed phone numbers as numbers
    return str(value)
