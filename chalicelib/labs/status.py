"""The lab case status machine (ADR 1222), pure: which moves exist and who may make them.

    draft -> sent -> in_progress -> shipped -> received -> fitted
                                              received -> returned_for_remake
                          returned_for_remake -> in_progress | sent

``sent`` is reached only by sending the case (which mails the lab its link). The lab, through
its link, makes only its own moves: starting the work and shipping it.
"""

from __future__ import annotations

from chalicelib.core.i18n import Text, tr

STATUSES = (
    "draft",
    "sent",
    "in_progress",
    "shipped",
    "received",
    "fitted",
    "returned_for_remake",
)
MOVES: dict[str, frozenset[str]] = {
    "draft": frozenset({"sent"}),
    "sent": frozenset({"in_progress"}),
    "in_progress": frozenset({"shipped"}),
    "shipped": frozenset({"received"}),
    "received": frozenset({"fitted", "returned_for_remake"}),
    "fitted": frozenset(),
    "returned_for_remake": frozenset({"in_progress", "sent"}),
}
LAB_MOVES = frozenset(
    {("sent", "in_progress"), ("in_progress", "shipped"), ("returned_for_remake", "in_progress")}
)
SENDABLE = frozenset({"draft", "sent", "in_progress", "returned_for_remake"})
"""Where a (new) link may be sent from: first send, re-send, or back to the lab for a remake."""
NOT_BACK = frozenset({"draft", "sent", "in_progress", "shipped", "returned_for_remake"})
"""Not in the clinic's hands yet: such a case can be overdue or late for its fitting."""
EDITABLE = frozenset({"draft", "sent", "in_progress", "returned_for_remake"})

ES = {
    "draft": "en borrador",
    "sent": "enviado",
    "in_progress": "en fabricación",
    "shipped": "enviado por el laboratorio",
    "received": "recibido",
    "fitted": "colocado",
    "returned_for_remake": "devuelto para rehacer",
}
EN = {
    "draft": "a draft",
    "sent": "sent",
    "in_progress": "in progress",
    "shipped": "shipped by the lab",
    "received": "received",
    "fitted": "fitted",
    "returned_for_remake": "returned for remake",
}


def can_move(current: str, target: str) -> bool:
    return target in MOVES.get(current, frozenset())


def lab_can_move(current: str, target: str) -> bool:
    return (current, target) in LAB_MOVES


def refusal(current: str, target: str) -> Text:
    """Why ``current -> target`` is refused, in words."""
    allowed = sorted(MOVES.get(current, frozenset()))
    en_next = ", ".join(EN[s] for s in allowed) or "nothing (it is finished)"
    es_next = ", ".join(ES[s] for s in allowed) or "nada (está terminado)"
    return tr(
        f"A case that is {EN.get(current, current)} cannot become {EN.get(target, target)}; "
        f"from here it can become: {en_next}.",
        f"Un caso {ES.get(current, current)} no puede pasar a {ES.get(target, target)}; "
        f"desde aquí puede pasar a: {es_next}.",
    )
