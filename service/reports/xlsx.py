"""A streaming XLSX writer: one sheet of plain values, written row by row into the zip.

openpyxl's write-only mode still builds a cell object per value (about 160 µs a row
here); writing the sheet's XML directly is some thirty times faster and keeps memory flat
whatever the number of rows. openpyxl remains what reads files (tests, member import)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from xml.sax.saxutils import quoteattr

Cell = str | int | float | None

# Markup escaped, and the characters XML 1.0 does not allow even escaped dropped, in one
# pass of str.translate.
_XML_TEXT: dict[int, str | None] = {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    **{code: None for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]},
    0xFFFE: None,
    0xFFFF: None,
}

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_RELATION = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_PACKAGE}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SPREADSHEET}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_SPREADSHEET}.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
    f'<Relationship Id="rId1" Type="{_RELATION}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
    f'<Relationship Id="rId1" Type="{_RELATION}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"


def _workbook(title: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name={quoteattr(_sheet_title(title))} sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )


def _sheet_title(title: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\ ."""
    return re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet1"


_TEXT_START = '<c t="inlineStr"><is><t xml:space="preserve">'
_TEXT_END = "</t></is></c>"
# Texts whose cell XML is kept for reuse, per writer: a list repeats few values in most
# columns (labels, organisations, gates, times to the minute) and many in a few (names,
# phones); past this many the memo starts over, so memory stays flat.
_MEMO_SIZE = 20_000
# Rows of XML joined into one write: large enough that the joins cost nothing, small
# enough that the text and its bytes are a few hundred KB, not a batch's megabytes.
_ROWS_A_WRITE = 500


def _cell(value: Cell) -> str:
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int | float):
        return f"<c><v>{value}</v></c>"
    return _TEXT_START + str(value).translate(_XML_TEXT) + _TEXT_END


class SheetWriter:
    """`with SheetWriter(path, title) as sheet: sheet.write_rows(rows)`; rows go to the
    deflated zip member as they come."""

    def __init__(self, path: Path, title: str) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self._zip.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr("xl/workbook.xml", _workbook(title))
        self._zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self._sheet.write(_SHEET_START.encode())
        self._memo: dict[str, str] = {}
        self.rows = 0

    def write_rows(self, rows: Iterable[Sequence[Cell]]) -> None:
        # A flat list of XML pieces, joined and written every _ROWS_A_WRITE rows: the
        # per-cell work is a memo lookup for a text seen before, _cell otherwise, and what
        # is held at once is a few hundred rows of XML, whatever the batch the caller gives.
        memo = self._memo
        parts: list[str] = []
        count = 0
        for row in rows:
            parts.append("<row>")
            for value in row:
                if type(value) is str:
                    xml = memo.get(value)
                    if xml is None:
                        xml = _cell(value)
                        if len(memo) >= _MEMO_SIZE:
                            memo.clear()
                        memo[value] = xml
                    parts.append(xml)
                else:
                    parts.append(_cell(value))
            parts.append("</row>")
            count += 1
            if count % _ROWS_A_WRITE == 0:
                self._sheet.write("".join(parts).encode())
                parts.clear()
        self.rows += count
        if parts:
            self._sheet.write("".join(parts).encode())

    def close(self) -> None:
        if self._sheet is not None:
            self._sheet.write(_SHEET_END.encode())
            self._sheet.close()
            self._sheet = None  # type: ignore[assignment]
            self._zip.close()

    def __enter__(self) -> SheetWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
