"""The media bucket: presigned uploads and downloads, and the few object operations the
services and the image worker need. Nothing else touches S3 directly.

* Uploads are presigned POSTs with a ``content-length-range`` and an exact ``Content-Type``
  condition (S3 enforces both; moto does not, so whoever consumes an upload re-checks the
  bytes).
* Downloads are presigned GETs that carry the response headers the browser should see
  (``Content-Type``, ``Cache-Control``, ``Content-Disposition``), so the object's stored
  headers do not matter and a download always has the right type and file name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from botocore.exceptions import ClientError

from chalicelib.core import aws, scoping
from chalicelib.core.config import settings
from chalicelib.core.ids import now

URL_TTL_S = 3600
"""Lifetime of presigned URLs (about one hour)."""

IMMUTABLE = "private, max-age=31536000, immutable"
"""Cache-Control of renditions: a rendition's key never gets different bytes."""

# Error codes that mean "try again later", not "this request is wrong".
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "InternalError",
        "ServiceUnavailable",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
    }
)


class ObjectMissing(Exception):
    """The object does not exist (never uploaded, or removed)."""


@dataclass(frozen=True)
class Head:
    size: int
    content_type: str | None
    etag: str
    # User metadata (``x-amz-meta-*`` without the prefix) and the version (None when the
    # bucket is not versioned): the image worker checks an upload's slot token and deletes
    # exactly the version it rejects.
    metadata: dict[str, str] = field(default_factory=dict)
    version_id: str | None = None


def _s3() -> Any:
    return aws.client("s3")


def _bucket() -> str:
    return settings().media_bucket


def is_transient(exc: BaseException) -> bool:
    """True for throttling and server-side errors of any AWS call."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return err.get("Code") in TRANSIENT_CODES or int(status or 0) >= 500
    return False


def tagging_xml(tags: dict[str, str]) -> str:
    body = "".join(
        f"<Tag><Key>{escape(k)}</Key><Value>{escape(v)}</Value></Tag>" for k, v in tags.items()
    )
    return f"<Tagging><TagSet>{body}</TagSet></Tagging>"


def presigned_post(
    key: str,
    *,
    content_type: str,
    max_bytes: int,
    tags: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    expires_in: int = URL_TTL_S,
) -> dict[str, Any]:
    """A browser-ready upload form: ``{"url", "fields", "expires_in"}``.

    The form must send ``fields`` first and the file last, as the ``file`` field; S3 refuses
    a size outside ``1..max_bytes``, another ``Content-Type`` or other ``tags`` (object tags
    drive the bucket's lifecycle rules) or ``metadata`` (stored as ``x-amz-meta-<name>``).
    """
    fields = {"Content-Type": content_type}
    conditions: list[Any] = [
        {"Content-Type": content_type},
        ["content-length-range", 1, max_bytes],
    ]
    if tags:
        fields["tagging"] = tagging_xml(tags)
        conditions.append({"tagging": fields["tagging"]})
    for name, value in (metadata or {}).items():
        fields[f"x-amz-meta-{name}"] = value
        conditions.append({f"x-amz-meta-{name}": value})
    post = _s3().generate_presigned_post(
        Bucket=_bucket(),
        Key=key,
        Fields=fields,
        Conditions=conditions,
        ExpiresIn=expires_in,
    )
    return {"url": post["url"], "fields": post["fields"], "expires_in": _usable_s(expires_in)}


def _usable_s(expires_in: int) -> int:
    """How long a presigned URL or form signed just now really works: what was asked, capped
    at the signing credentials' expiry (a clinic's role session, ADR 0012)."""
    until = scoping.signing_expiry()
    if until is None:
        return expires_in
    return max(0, min(expires_in, int(until - now().timestamp())))


def _ascii_filename(filename: str) -> str:
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._ -]+", "_", folded).strip() or "download"


def content_disposition(filename: str, *, attachment: bool = False) -> str:
    """RFC 6266 header with an ASCII fallback and the UTF-8 name (``filename*``)."""
    kind = "attachment" if attachment else "inline"
    return (
        f'{kind}; filename="{_ascii_filename(filename)}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )


def presigned_get(
    key: str,
    *,
    content_type: str,
    cache_control: str = IMMUTABLE,
    filename: str | None = None,
    attachment: bool = False,
    expires_in: int = URL_TTL_S,
) -> tuple[str, datetime]:
    """A download URL and when it expires."""
    params: dict[str, Any] = {
        "Bucket": _bucket(),
        "Key": key,
        "ResponseContentType": content_type,
        "ResponseCacheControl": cache_control,
    }
    if filename:
        params["ResponseContentDisposition"] = content_disposition(filename, attachment=attachment)
    url = _s3().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
    return url, now() + timedelta(seconds=_usable_s(expires_in))


def _missing(exc: ClientError, key: str) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    if code in ("404", "NoSuchKey", "NotFound"):
        return True
    # Clinic-scoped credentials may not list the bucket, so S3 answers a missing object of the
    # clinic's own prefix with 403, not 404 (ADR 0012).
    return code in ("403", "AccessDenied", "Forbidden") and scoping.owns_object(key)


def head(key: str) -> Head:
    try:
        r = _s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as exc:
        if _missing(exc, key):
            raise ObjectMissing(key) from exc
        raise
    return Head(
        size=int(r["ContentLength"]),
        content_type=r.get("ContentType"),
        etag=str(r.get("ETag", "")).strip('"'),
        metadata={str(k).lower(): str(v) for k, v in (r.get("Metadata") or {}).items()},
        version_id=r.get("VersionId") if r.get("VersionId") not in (None, "null") else None,
    )


def read(key: str, *, first: int | None = None, version_id: str | None = None) -> bytes:
    """The object's bytes (only the ``first`` N bytes when given; that version when given)."""
    kwargs: dict[str, Any] = {"Bucket": _bucket(), "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    if first is not None:
        kwargs["Range"] = f"bytes=0-{max(0, first - 1)}"
    try:
        r = _s3().get_object(**kwargs)
    except ClientError as exc:
        if _missing(exc, key):
            raise ObjectMissing(key) from exc
        raise
    return r["Body"].read()


def write(key: str, data: bytes, *, content_type: str, cache_control: str = IMMUTABLE) -> None:
    _s3().put_object(
        Bucket=_bucket(),
        Key=key,
        Body=data,
        ContentType=content_type,
        CacheControl=cache_control,
    )


def delete(key: str, *, version_id: str | None = None) -> None:
    """Remove the object; with ``version_id``, only that version (the previous one, if any,
    becomes current again), so rejecting a bad upload never leaves a delete marker over a
    good original."""
    kwargs: dict[str, Any] = {"Bucket": _bucket(), "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    _s3().delete_object(**kwargs)


def tag(key: str, tags: dict[str, str]) -> None:
    """Set the object's tags (they drive the media bucket's lifecycle rules)."""
    _s3().put_object_tagging(
        Bucket=_bucket(),
        Key=key,
        Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
    )


def open_stream(key: str) -> Any:
    """The object's body as a stream (``read(n)``, ``close()``), for copying large objects
    with bounded memory."""
    try:
        return _s3().get_object(Bucket=_bucket(), Key=key)["Body"]
    except ClientError as exc:
        if _missing(exc, key):
            raise ObjectMissing(key) from exc
        raise


def upload_file(
    key: str,
    fileobj: Any,
    *,
    content_type: str,
    tags: dict[str, str] | None = None,
    cache_control: str = "private, no-store",
) -> None:
    """Upload an open local file from its start (multipart when large, one part at a time in
    memory)."""
    extra: dict[str, Any] = {"ContentType": content_type, "CacheControl": cache_control}
    if tags:
        extra["Tagging"] = "&".join(
            f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags.items()
        )
    fileobj.seek(0)
    _s3().upload_fileobj(fileobj, _bucket(), key, ExtraArgs=extra)
