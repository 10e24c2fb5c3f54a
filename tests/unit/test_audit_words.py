"""Every action the backend audits has words in the staff app's audit log
(frontend/src/views/settings/auditWords.ts), so staff never read a code. Collected from the code
itself: the constant actions of audit.entry/audit.record calls, the statuses' actions of the
agenda, and the few built from a variable."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from chalicelib.agenda.service import STATUS_EVENTS

ROOT = Path(__file__).resolve().parents[2]
WORDS = ROOT / "frontend" / "src" / "views" / "settings" / "auditWords.ts"
# Actions built from a variable (f-strings and parameters), with every value they take.
BUILT = {
    "comms.consent.granted",
    "comms.consent.withdrawn",
    "billing.payment.recorded",
    "billing.refund.recorded",
    "image.expired",
    "document.expired",
    "recalls.followup.contacted",
    "recalls.followup.done",
    "recalls.recall.set",
    "recalls.recall.snoozed",
    "recalls.recall.dismissed",
}
# Modules whose audit helper takes the action as a parameter: their literal action strings.
PARAMETER_ACTIONS = re.compile(
    r"^(billing\.(budget|invoice)|staff|patient|charting\.(finding|plan))\.[a-z_]+$"
)


def _audited() -> set[str]:
    found: set[str] = set(BUILT) | set(STATUS_EVENTS.values())
    for path in (ROOT / "chalicelib").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            if (
                call
                and getattr(node.func.value, "id", None) == "audit"
                and node.func.attr in ("entry", "record")
                and len(node.args) >= 3
                and isinstance(node.args[2], ast.Constant)
            ):
                found.add(node.args[2].value)
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and PARAMETER_ACTIONS.match(node.value)
                and path.parent.name in ("billing", "identity", "patients", "charting")
            ):
                found.add(node.value)
    return found


def _worded() -> set[str]:
    text = WORDS.read_text()
    actions = text[text.index("export const ACTIONS") : text.index("export const ENTITIES")]
    return set(re.findall(r"'([a-z_.]+)': \[", actions))


def test_every_audited_action_has_words_in_the_app() -> None:
    audited, worded = _audited(), _worded()
    assert audited - worded == set(), "add these to auditWords.ts (es and en)"


def test_the_app_words_no_action_the_backend_never_writes() -> None:
    assert _worded() - _audited() == set()
