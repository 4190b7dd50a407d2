"""Rewrite the zh-CN catalogue from the sources: keep known translations, drop stale
ones, add `additions` (a dict of new msgid → translation). Run by hand:
`python -m tests.unit.update_catalogue [file-with-ADDITIONS-dict.py]`."""

from __future__ import annotations

import runpy
import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from service.i18n import catalog, catalog_path
from tests.unit.i18n_sources import all_messages


def rewrite(additions: dict[str, str]) -> list[str]:
    known = {**catalog("zh-CN"), **additions}
    po = Catalog(locale="zh_CN", project="Unionhall", charset="utf-8")
    missing = []
    for text, where in all_messages().items():
        if text not in known:
            missing.append(f"{where}: {text}")
            continue
        path, _, line = where.rpartition(":")
        po.add(
            text,
            known[text],
            locations=[(path, int(line))],
            flags=("python-format",) if "%(" in text else (),
        )
    with catalog_path("zh-CN").open("wb") as handle:
        write_po(handle, po, width=100)
    catalog.cache_clear()
    return missing


if __name__ == "__main__":
    extra = runpy.run_path(sys.argv[1])["ADDITIONS"] if len(sys.argv) > 1 else {}
    for line in rewrite(extra):
        print("untranslated:", line)
