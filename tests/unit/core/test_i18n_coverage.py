"""Every message the API can answer with has its Spanish wording (docs/adr/0009).

Reads chalicelib's source (the AST) and reports each English-only message where the API builds
one: the first argument of an API error (or of a module's helper that makes one), the
``message`` of a field error, and a validator's ``ValueError`` in the request schemas. Written
with ``tr("English", "Español")`` they pass. A string without a space is a field name or a code,
not a message, and is left alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "chalicelib"

ERRORS = {
    "ApiError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "Unprocessable",
    "TooManyRequests",
    # the modules' own helpers that build one of the above from a message
    "_field_error",
    "_unprocessable",
    "_bad",
}
MODULES = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def _is_schema(path: Path) -> bool:
    return path.name == "schemas.py" or path.parent.name == "schemas"


def _english(node: ast.AST | None) -> bool:
    """A literal message: a string (or f-string) of more than one word, not wrapped in tr()."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return " " in node.value.strip()
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return " " in text.strip() or len(node.values) > 1
    if isinstance(node, ast.BinOp | ast.IfExp):  # "a" + "b", x if c else "y"
        return any(_english(n) for n in ast.iter_child_nodes(node))
    return False


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def english_only(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        hits: list[ast.AST] = []
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name in ERRORS:
                hits += [a for a in node.args if _english(a)]
                hits += [k.value for k in node.keywords if k.arg == "message" and _english(k.value)]
            elif name == "ValueError" and _is_schema(path):
                hits += [a for a in node.args[:1] if _english(a)]
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "message" and _english(value):
                    hits.append(value)
        found += [f"{path.relative_to(ROOT)}:{getattr(h, 'lineno', '?')}" for h in hits]
    return found


@pytest.mark.parametrize("module", MODULES)
def test_every_api_message_has_its_spanish_wording(module: str) -> None:
    files = sorted((PACKAGE / module).rglob("*.py"))
    missing = [hit for path in files for hit in english_only(path)]
    hint = "English-only messages; write them as tr(english, spanish):\n"
    assert not missing, hint + "\n".join(missing)


def test_the_scanner_finds_what_it_should(tmp_path: Path) -> None:
    sample = tmp_path / "schemas.py"
    sample.write_text(
        "raise Conflict('That day is closed.', code='X')\n"
        "raise Conflict(tr('That day is closed.', 'Ese día está cerrado.'))\n"
        "raise NotFound(f'No patient {pid}.')\n"
        "x = {'field': 'email', 'message': 'is not valid'}\n"
        "y = {'field': 'email', 'message': tr('is not valid', 'no es válido')}\n"
        "raise ValueError('must be positive')\n"
        "raise ValueError('X')\n"
        "_bad('lines', 'needs one line')\n",
        encoding="utf-8",
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        hits = english_only(sample)
    finally:
        ROOT = saved
    assert [h.split(":")[1] for h in hits] == ["1", "3", "4", "6", "8"]
