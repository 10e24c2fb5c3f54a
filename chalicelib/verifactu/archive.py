"""The WORM copy of every VERI*FACTU record as sent to the AEAT. ADR 0206.

Each record's XML (its ``sum1:RegistroAlta`` / ``sum1:RegistroAnulacion`` element: the
"fichero de registro de facturación de alta o anulación para conservación y exportación" of
Orden HAC/1177/2024, anexo, apartado 3) is written once to the archive bucket, which has
S3 Object Lock in COMPLIANCE mode (nobody can delete or shorten the retention of a stored
version before it ends, not even the account's root):

    verifactu/<clinic_id>/<nif>/<seq:010d>-<huella>.xml

* **What is stored**: the element exactly as the submission serialised it; the bytes are cut
  from the SOAP body that is sent and carry only the one ``xmlns:sum1`` declaration the element
  needs to stand alone (the body declares it on its root). ``record_xml(model)`` re-serialises
  a stored record the same way, so a copy can be compared with the table byte for byte.
* **When**: by the submission job, after the request is built and validated and before it is
  sent (``store_batch``). A copy that cannot be written stops the submission (retried later):
  a record never reaches the AEAT, and so is never marked answered, without its copy. A copy
  of a record whose submission then fails is harmless: the record is immutable and the same
  bytes go with the retry.
* **Write once**: ``PutObject`` with ``If-None-Match: *``; a second write of the same record
  (a retried submission) is refused by S3 and becomes a no-op that reads the stored copy back
  and checks it is the same bytes (a different copy holds the chain: a person must look).
  The bucket policy refuses puts without the condition, so no one stacks a new version.
* **On the item**: ``archive_key``, ``archive_version`` (the locked version), ``archive_sha256``
  (hex) and ``archived_at``; verification reads that version.
* **Verification** (``first_break``, used by ``GET /verifactu/chain/verify?archive=true``):
  every record that was answered or has a copy must have one, whose bytes hash to the stored
  sha256, carry the record's huella, and equal the table's record re-serialised.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core import aws, scoping
from chalicelib.core.config import settings
from chalicelib.core.ids import now
from chalicelib.core.lazy import lazy_module
from chalicelib.core.observability import logger
from chalicelib.verifactu.models import PENDING, RecordItem, seq_text
from chalicelib.verifactu.records import RegistroFacturacion
from chalicelib.verifactu.xml import NS_SF, registro_element

if TYPE_CHECKING:
    from lxml import etree
else:
    # lxml loads on first use, not with the API (issue 23): see chalicelib/core/lazy.py
    etree = lazy_module("lxml.etree")

CONTENT_TYPE = "application/xml"
#: Parallel S3 calls of one batch (up to 1,000 small objects) or one verification.
WORKERS = 16
#: The declaration a record's element needs on its own (the SOAP body has it on its root).
_SUM1 = f' xmlns:sum1="{NS_SF}"'.encode()


class ArchiveError(Exception):
    """A copy could not be written (``retryable``) or the stored copy differs (not)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Problem:
    """Why a record's archive copy does not hold (for a ``problem="archive"`` chain break)."""

    index: int  # position of the record in the list given to ``first_break``
    field: str
    expected: str
    found: str


def _s3() -> Any:
    return aws.client("s3")


def _bucket() -> str:
    return settings().archive_bucket


def key_for(clinic_id: str, nif: str, seq: int, huella: str) -> str:
    return f"verifactu/{clinic_id}/{nif}/{seq_text(seq)}-{huella}.xml"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_xml(model: RegistroFacturacion) -> bytes:
    """The record's element as the submission serialises it, standing alone (UTF-8)."""
    return etree.tostring(registro_element(model), encoding="UTF-8")


def sent_copies(body: bytes, models: Sequence[RegistroFacturacion]) -> list[bytes]:
    """Each record's copy, proved to be in the SOAP ``body`` that is sent, in order: its
    element without the namespace declaration is a slice of the body (one forward pass)."""
    copies, position = [], 0
    for model in models:
        data = record_xml(model)
        inner = data.replace(_SUM1, b"", 1)
        found = body.find(inner, position)
        if found < 0:
            raise ArchiveError(
                f"record {model.clave} is not in the request as serialised", retryable=False
            )
        position = found + len(inner)
        copies.append(data)
    return copies


# --- writing (the submission job) ------------------------------------------------------------


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def put_once(key: str, data: bytes) -> tuple[str | None, bool]:
    """Write ``data`` at ``key`` unless an object is there: ``(version id, written)``. An
    existing object must hold the same bytes (else ``ArchiveError``, not retryable).

    Signed with the submission job's own role (``archive_write``), never a clinic's
    credentials: those only read the archive (``scoping.ARCHIVE_ACTIONS``, ADR 0012)."""
    with scoping.unscoped():
        return _put_once(key, data)


def _put_once(key: str, data: bytes) -> tuple[str | None, bool]:
    s3, bucket = _s3(), _bucket()
    try:
        out = s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=CONTENT_TYPE,
            IfNoneMatch="*",
            # Object Lock wants an integrity checksum on every put; S3 checks it on arrival.
            ChecksumAlgorithm="SHA256",
        )
        return out.get("VersionId"), True
    except ClientError as exc:
        if _code(exc) not in ("PreconditionFailed", "412"):
            raise ArchiveError(f"archive write failed: {_code(exc) or exc}") from exc
    except BotoCoreError as exc:
        raise ArchiveError(f"archive write failed: {type(exc).__name__}") from exc
    # Already there (a retried submission): a no-op, if it is the same record.
    try:
        got = s3.get_object(Bucket=bucket, Key=key)
        stored = got["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise ArchiveError(f"archive read-back failed: {exc}") from exc
    if stored != data:
        raise ArchiveError(
            f"the archive already holds a different copy at {key}; the chain is held until "
            "someone looks (GET /verifactu/chain/verify?archive=true)",
            retryable=False,
        )
    return got.get("VersionId"), False


def _store(item: RecordItem, data: bytes) -> None:
    key = key_for(item.clinic_id, item.nif, int(item.seq), item.huella)
    version, _ = put_once(key, data)
    try:
        item.update(
            actions=[
                RecordItem.archive_key.set(key),
                RecordItem.archive_version.set(version or ""),
                RecordItem.archive_sha256.set(sha256(data)),
                RecordItem.archived_at.set(now()),
            ],
            condition=RecordItem.SK.exists(),
        )
    except Exception as exc:  # noqa: BLE001 - the copy is safe; the next attempt notes it
        raise ArchiveError("archive copy written but not noted on the record") from exc


def _in_scope(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``fn`` run in a copy of the caller's context: a pool's threads do not inherit context
    variables, and the clinic scope (ADR 0012) must follow the reads and writes they make.
    One copy per call: a context cannot be entered by two threads at once."""
    ctx = contextvars.copy_context()
    return lambda arg: ctx.copy().run(fn, arg)


def store_batch(items: Sequence[RecordItem], models: Sequence[Any], body: bytes) -> int:
    """Archive each record of a submission about to be sent (those not archived yet), in
    parallel. Raises ``ArchiveError`` if any copy is not safely stored: send nothing then."""
    copies = sent_copies(body, models)
    todo = [(i, d) for i, d in zip(items, copies, strict=True) if not i.archive_key]
    if not todo:
        return 0
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(todo))) as pool:
        failures = [f for f in pool.map(_in_scope(lambda t: _attempt(*t)), todo) if f is not None]
    if failures:
        fatal = [f for f in failures if not f.retryable]
        raise (fatal or failures)[0]
    return len(todo)


def _attempt(item: RecordItem, data: bytes) -> ArchiveError | None:
    try:
        _store(item, data)
        return None
    except ArchiveError as exc:
        logger.warning(
            "verifactu archive copy not stored",
            extra={"clinic_id": item.clinic_id, "record_id": item.record_id},
        )
        return exc


# --- verification (the API) ------------------------------------------------------------------


def _read(item: RecordItem) -> bytes | None:
    """The copy the item points at (its locked version), or None when it is not there."""
    kwargs: dict[str, Any] = {"Bucket": _bucket(), "Key": item.archive_key}
    if item.archive_version:
        kwargs["VersionId"] = item.archive_version
    try:
        return _s3().get_object(**kwargs)["Body"].read()
    except ClientError as exc:
        if _code(exc) in ("NoSuchKey", "NoSuchVersion", "404", "NotFound"):
            return None
        if _code(exc) in ("AccessDenied", "403") and _own_copy(item.archive_key):
            # A clinic's credentials cannot list the bucket, so S3 answers a missing key of
            # the clinic's own prefix with 403, not 404 (ADR 0012).
            return None
        raise


def _own_copy(key: str) -> bool:
    cid = scoping.current_clinic()
    return cid is not None and scoping.enabled() and key.startswith(f"verifactu/{cid}/")


def _huella_of(data: bytes) -> str:
    try:
        root = etree.fromstring(  # noqa: S320 - our own copy; no DTD, entities or network
            data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        )
    except etree.XMLSyntaxError:
        return ""
    found = root.find(f"{{{NS_SF}}}Huella")
    return (found.text or "") if found is not None else ""


def _check(index: int, item: RecordItem, as_model: Any) -> Problem | None:
    if not item.archive_key:
        if item.status == PENDING:
            return None  # not sent yet: its copy is written just before it is
        return Problem(index, "archive_key", "a WORM copy of the record as sent", "none")
    expected_key = key_for(item.clinic_id, item.nif, int(item.seq), item.huella)
    if item.archive_key != expected_key:
        return Problem(index, "archive_key", expected_key, item.archive_key)
    data = _read(item)
    if data is None:
        return Problem(index, "archive", f"{item.archive_key} ({item.archive_version})", "missing")
    if sha256(data) != item.archive_sha256:
        return Problem(index, "archive_sha256", item.archive_sha256 or "", sha256(data))
    huella = _huella_of(data)
    if huella != item.huella:
        return Problem(index, "Huella", huella, item.huella)
    try:
        table = record_xml(as_model(item))
    except ValueError as exc:
        return Problem(index, "xml", sha256(data), f"not serialisable: {str(exc)[:200]}")
    if table != data:
        return Problem(index, "xml", sha256(data), sha256(table))
    return None


def first_break(items: Sequence[RecordItem], as_model: Any) -> Problem | None:
    """The first record (in the given order) whose archive copy does not hold: absent while
    the record was answered, not the version noted, or not the table's record byte for byte
    (``expected`` is what the archive holds, ``found`` what the table gives)."""
    if not items:
        return None
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(items))) as pool:
        check = _in_scope(lambda t: _check(t[0], t[1], as_model))
        for problem in pool.map(check, enumerate(items)):
            if problem is not None:
                return problem  # map yields in order: the first break
    return None
