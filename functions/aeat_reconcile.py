"""Scheduled job (daily, early morning): reconcile the VERI*FACTU records of the last days with
what the AEAT holds (ConsultaFactuSistemaFacturacion), flag every difference on the record and
email each clinic's admins a summary when something differs.

Reads only the chains due for a check (the ``VFRCDUE`` index: chains with records answered in
the last 7 days or an open discrepancy), so its cost grows with the records in that window. The
logic lives in ``chalicelib.verifactu.reconciliation`` (docs/adr/0205-verifactu-reconciliation.md).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.ids import now
from chalicelib.core.observability import logger
from chalicelib.verifactu import reconciliation


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    result = reconciliation.run(now(), time_left_ms=context.get_remaining_time_in_millis)
    logger.info("aeat reconciliation done", extra=result)
    return result
