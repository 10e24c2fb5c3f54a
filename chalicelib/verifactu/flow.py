"""Flow control of submissions (Orden HAC/1177/2024 art. 16.2; AEAT_descripcion_servicio_web
section 6.4.4.1).

The wait ``t`` starts at 60 s; every answer's TiempoEsperaEnvio replaces it. The next
submission may go when ``t`` seconds have passed since the previous one OR when 1,000 records
(the per-submission maximum of SuministroLR.xsd) are pending, whichever happens first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final, TypeVar

__all__ = [
    "MAX_REGISTROS_POR_ENVIO",
    "TIEMPO_ESPERA_INICIAL",
    "batches",
    "may_submit",
    "next_submission_at",
]

TIEMPO_ESPERA_INICIAL: Final = 60
# Records per submission at most (SuministroLR.xsd). Defined here, not in xml.py, so the flow
# rules (and the API that uses them) do not load the XML builder and lxml (issue 23).
MAX_REGISTROS_POR_ENVIO: Final = 1000

T = TypeVar("T")


def next_submission_at(last_sent_at: datetime | None, tiempo_espera: int | None) -> datetime | None:
    """Earliest time of the next submission by time alone (None: no previous submission)."""
    if last_sent_at is None:
        return None
    wait = TIEMPO_ESPERA_INICIAL if tiempo_espera is None else tiempo_espera
    if wait < 0:
        raise ValueError("TiempoEsperaEnvio cannot be negative")
    return last_sent_at + timedelta(seconds=wait)


def may_submit(
    now: datetime, last_sent_at: datetime | None, tiempo_espera: int | None, pending: int
) -> bool:
    """Whether a submission may be sent now (rule c) of art. 16.2)."""
    if pending <= 0:
        return False
    if pending >= MAX_REGISTROS_POR_ENVIO:
        return True
    earliest = next_submission_at(last_sent_at, tiempo_espera)
    return earliest is None or now >= earliest


def batches(items: Sequence[T], size: int = MAX_REGISTROS_POR_ENVIO) -> list[list[T]]:
    """Split pending records, in chain order, into submissions of at most ``size``."""
    if not 1 <= size <= MAX_REGISTROS_POR_ENVIO:
        raise ValueError(f"size must be 1 to {MAX_REGISTROS_POR_ENVIO}")
    return [list(items[i : i + size]) for i in range(len(items))[::size]]
