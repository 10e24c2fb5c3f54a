"""A hook in the embedded S3 (moto): each object it accepts or deletes is handed to a sink
before moto answers the request.

The local stack's runner uses it to keep media objects on disk (``infra/local/persist.py``):
an upload through a presigned POST, a PutObject of the API or of the image worker (a child
process that talks to moto over HTTP), a copy or a completed multipart upload is written to the
state folder before the client hears its 200 or 204, so a stack killed right after loses none.
Applied in-process wherever moto runs as the local AWS; off until ``record_objects`` is given a
sink; never part of the product.

It also makes a presigned POST's object whole before S3's ``Object Created`` notification goes
out, as S3 does: moto stores the form's metadata (``Content-Type``, ``x-amz-meta-*``: the
slot token the image worker checks) only after it has sent the notification, so a fast worker
could see an object without them.

Changed keys are noted as moto's backend stores or deletes them and handed over once the
request's response is ready (object metadata is set after the store), one request at a time,
each with the object as it is then: when two requests write the same key, the last one handed
over is the one moto keeps.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

USER_META = "x-amz-meta-"


@dataclass(frozen=True)
class StoredObject:
    body: bytes
    etag: str
    content_type: str | None
    cache_control: str | None
    metadata: dict[str, str]  # user metadata, as boto3 gives it (without ``x-amz-meta-``)


Sink = Callable[[str, str, StoredObject | None], None]

_sink: Sink | None = None
_flush_lock = threading.Lock()
_touched = threading.local()
_posting = threading.local()  # the metadata of the presigned POST being handled
_applied = False


def record_objects(sink: Sink | None) -> None:
    """From now on call ``sink(bucket, key, object or None when deleted)`` for every object a
    request changed, before moto answers it (the request fails if the sink raises); ``None``
    stops."""
    global _sink
    with _flush_lock:
        _sink = sink


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.s3 import notifications
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response
    from moto.s3.utils import metadata_from_headers

    put, delete = S3Backend.put_object, S3Backend.delete_object
    post = S3Response._bucket_response_post

    def put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kw: Any) -> Any:
        meta = getattr(_posting, "metadata", None)
        if meta is None or kw.get("request_method") != "POST" or kw.get("disable_notification"):
            key = put(self, bucket_name, key_name, *args, **kw)
        else:  # a presigned POST: metadata first, then the notification (as S3 does)
            key = put(self, bucket_name, key_name, *args, **{**kw, "disable_notification": True})
            key.set_metadata(meta)
            notifications.send_event(
                self.account_id,
                notifications.S3NotificationEvent.OBJECT_CREATED_POST_EVENT,
                self.get_bucket(bucket_name),
                key,
            )
        _touch(self, bucket_name, key_name)
        return key

    def bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
        _posting.metadata = metadata_from_headers(getattr(self, "form_data", None) or {})
        try:
            return post(self, request, bucket_name)
        finally:
            _posting.metadata = None

    def delete_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kw: Any) -> Any:
        result = delete(self, bucket_name, key_name, *args, **kw)
        _touch(self, bucket_name, key_name)
        return result

    S3Backend.put_object = put_object  # type: ignore[method-assign]
    S3Response._bucket_response_post = bucket_response_post  # type: ignore[method-assign]
    S3Backend.delete_object = delete_object  # type: ignore[method-assign]
    # Every S3 request of the server goes through one of these two (the ambiguous one calls
    # either); whatever changed is handed over once the response is ready.
    S3Response.key_response = _handing_over(S3Response.key_response)  # type: ignore[method-assign]
    S3Response.bucket_response = _handing_over(S3Response.bucket_response)  # type: ignore[method-assign]
    _applied = True


def _handing_over(respond: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(respond)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _sink is None or getattr(_touched, "keys", None) is not None:
            return respond(self, *args, **kwargs)
        touched: dict[tuple[str, str], Any] = {}
        _touched.keys = touched
        try:
            return respond(self, *args, **kwargs)
        finally:
            _touched.keys = None
            if touched:
                _hand_over(touched)

    return wrapper


def _touch(backend: Any, bucket_name: str, key_name: str) -> None:
    touched = getattr(_touched, "keys", None)
    if touched is not None:
        touched[(bucket_name, key_name)] = backend


def _hand_over(touched: dict[tuple[str, str], Any]) -> None:
    with _flush_lock:
        sink = _sink
        if sink is None:
            return
        for (bucket_name, key_name), backend in touched.items():
            sink(bucket_name, key_name, _current(backend, bucket_name, key_name))


def _current(backend: Any, bucket_name: str, key_name: str) -> StoredObject | None:
    from moto.s3.models import FakeKey

    bucket = backend.buckets.get(bucket_name)
    key = bucket.keys.get(key_name) if bucket is not None else None
    if not isinstance(key, FakeKey):  # gone, or a delete marker
        return None
    meta = dict(key.metadata)  # lower-case header names
    return StoredObject(
        body=key.value,
        etag=key.etag,
        content_type=meta.get("content-type"),
        cache_control=meta.get("cache-control"),
        metadata={k[len(USER_META) :]: v for k, v in meta.items() if k.startswith(USER_META)},
    )
