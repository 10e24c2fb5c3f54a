"""Scheduled job (every minute): send the VERI*FACTU records that are due to the AEAT.

Reads only the chains whose due time has come (the ``VFDUE`` index), so its cost grows with
the records waiting, not with the clinics; per chain at most 1,000 records per submission,
honouring the AEAT's flow control. The logic lives in ``chalicelib.verifactu.submission``
(docs/adr/0203-verifactu-submission-job.md).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.ids import now
from chalicelib.core.observability import logger
from chalicelib.verifactu import submission


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    result = submission.run(now(), time_left_ms=context.get_remaining_time_in_millis)
    logger.info("aeat submission done", extra=result)
    return result
