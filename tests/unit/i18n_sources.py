"""Every user-facing English msgid in the code and templates, for the catalogue checks."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.extract import extract_from_dir

ROOT = Path(__file__).resolve().parents[2]
# Call name → which positional arguments are msgids.
MESSAGE_ARGS = {
    "gettext": (0,),
    "ngettext": (0, 1),
    "DomainError": (1,),
    "NotFound": (0,),
    "Forbidden": (0,),
    "_error_response": (3,),
}
MESSAGE_DICTS = ("_LABELS", "HTTP_MESSAGES")


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def python_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "service").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for index in MESSAGE_ARGS.get(_call_name(node), ()):
                    if index < len(node.args) and isinstance(node.args[index], ast.Constant):
                        value = node.args[index].value
                        if isinstance(value, str):
                            found.setdefault(value, f"{where}:{node.lineno}")
                for keyword in node.keywords:
                    # message="…", and a kind's label="…" and messages={kind: (title, body)}
                    if keyword.arg in ("message", "label") and isinstance(
                        keyword.value, ast.Constant
                    ):
                        found.setdefault(str(keyword.value.value), f"{where}:{node.lineno}")
                    if keyword.arg == "messages" and isinstance(keyword.value, ast.Dict):
                        for pair in keyword.value.values:
                            for text in getattr(pair, "elts", ()):
                                if isinstance(text, ast.Constant):
                                    found.setdefault(str(text.value), f"{where}:{node.lineno}")
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                # default messages such as NotFound(message="Not found.")
                for default in node.args.defaults:
                    if (
                        node.name == "__init__"
                        and isinstance(default, ast.Constant)
                        and isinstance(default.value, str)
                        and default.value.endswith(".")
                    ):
                        found.setdefault(default.value, f"{where}:{node.lineno}")
            if isinstance(node, ast.AnnAssign | ast.Assign):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                # A message kept in a constant (NAME_REFUSAL = "…") and passed on by name.
                if (
                    any(name.endswith("_REFUSAL") for name in names)
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)
                ):
                    found.setdefault(node.value.value, f"{where}:{node.lineno}")
                if any(name.endswith(MESSAGE_DICTS) for name in names) and isinstance(
                    node.value, ast.Dict
                ):
                    for value in node.value.values:
                        if isinstance(value, ast.Constant) and isinstance(value.value, str):
                            found.setdefault(value.value, f"{where}:{node.lineno}")
                        if isinstance(value, ast.Tuple) and isinstance(
                            value.elts[-1], ast.Constant
                        ):
                            found.setdefault(str(value.elts[-1].value), f"{where}:{node.lineno}")
    return found


def template_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    method_map = [("**.html", "jinja2.ext:babel_extract")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "web" / "templates"), method_map=method_map, options_map=options
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"web/templates/{filename}:{lineno}")
    return found


def all_messages() -> dict[str, str]:
    return {**python_messages(), **template_messages()}


if __name__ == "__main__":
    # `python -m tests.unit.i18n_sources`: the msgids the zh-CN catalogue still lacks.
    from service.i18n import catalog

    known = catalog("zh-CN")
    for text, where in all_messages().items():
        if text not in known:
            print(f"{where}: {text!r}")
