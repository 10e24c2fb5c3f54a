"""Scheduled job (hourly): upload slots whose file never arrived become ``expired``, so they
stop showing as pending in the patient's images, documents and the Bridge inbox. Reads only
the expiry hours that are due (GSI1 ``UPLEXP#<hour>``); never scans. The logic lives in
``chalicelib.imaging.expiry.expire_due`` (docs/adr/0014-upload-integrity-and-expiry.md)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.observability import logger
from chalicelib.imaging import expiry


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    result = expiry.expire_due()
    logger.info("upload expiry done", extra=result)
    return result
