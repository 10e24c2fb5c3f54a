"""Every RenderError the imaging code raises has its Spanish wording and a valid code.

Reads the source (the AST) of chalicelib/imaging: the first argument of each ``RenderError(...)``
(and of the worker's ``Violation(...)``) must be written with ``tr("English", "Español")``,
directly, through a module constant built with ``tr``, a module function that returns one, or
an upload slot's ``.message``; a code given as a literal must be one of RENDER_ERROR_CODES. The
worker stores both wordings, so a failed image can be shown in its user's language.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from chalicelib.imaging.contracts import RENDER_ERROR_CODES

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted(
    p for p in (ROOT / "chalicelib" / "imaging").glob("*.py") if p.name != "uploads.py"
)  # uploads.Violation is a plain record with both wordings, not a RenderError
RAISERS = {"RenderError", "Violation"}


def _is_tr(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"


def _translated_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Module constants assigned from tr(...), and functions whose every return is tr(...)."""
    constants, functions = set(), set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and _is_tr(node.value):
            constants |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if isinstance(node, ast.FunctionDef):
            returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
            if returns and all(r.value is not None and _is_tr(r.value) for r in returns):
                functions.add(node.name)
    return constants, functions


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    constants, functions = _translated_names(tree)
    out = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in RAISERS
        ):
            continue
        where = f"{path.name}:{node.lineno}"
        first = node.args[0] if node.args else None
        ok = first is not None and (
            _is_tr(first)
            or (isinstance(first, ast.Name) and first.id in constants)
            or (
                isinstance(first, ast.Call)
                and isinstance(first.func, ast.Name)
                and first.func.id in functions
            )
            or (isinstance(first, ast.Attribute) and first.attr == "message")
        )
        if not ok:
            out.append(f"{where}: reason without its Spanish wording")
        code = node.args[1] if len(node.args) > 1 else None
        for kw in node.keywords:
            if kw.arg == "code":
                code = kw.value
        if isinstance(code, ast.Constant) and code.value not in RENDER_ERROR_CODES:
            out.append(f"{where}: unknown code {code.value!r}")
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_render_errors_are_worded_in_both_languages(path):
    assert _problems(path) == []


def test_the_check_sees_the_raisers():
    found = sum(
        1
        for path in FILES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in RAISERS
    )
    assert found >= 50
