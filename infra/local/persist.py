"""Keep the local stack's data across restarts of ``make run``, and across a kill.

moto keeps everything in memory. Two things put it on disk, in a state folder (``.local/`` by
default), and bring it back at start:

- Snapshots, every few seconds and on shutdown:
  - the DynamoDB table's items (read with a Scan: this is developer tooling, never a request
    path), restored with BatchWriteItem;
  - the media bucket's index (key, ETag, content type, metadata); the objects are files;
  - the signing-keys secret (generated once);
  - the KMS key's id and material. moto cannot import key material, and every data key in the
    table is encrypted under it, so the runner (which hosts moto in-process) rewrites the
    freshly provisioned key to the saved identity. Local tooling only; the cloud uses real KMS.
- The write-ahead journal (``infra/local/journal.py``), once the stack serves: each DynamoDB
  write moto accepts (``moto_dynamodb.record_writes``) and each media object it stores or
  deletes (``moto_s3.record_objects``: the object's file is written first) is on disk before the
  answer leaves, so a stack killed at any moment loses no write it confirmed. At start the
  journal is replayed over the last snapshot; a snapshot safely on disk truncates it.

Snapshot files are replaced atomically (written beside, fsync'd, renamed). SQS messages in
flight and sent mail are not kept.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3

from infra.local import journal, moto_dynamodb, moto_s3
from infra.local.provision import ACCOUNT
from infra.resources import Resources


class StateStore:
    def __init__(self, folder: Path, res: Resources, endpoint: str, region: str) -> None:
        self.folder = folder
        self.res = res
        self.region = region
        self.s3_dir = folder / "s3"
        self.objects_dir = self.s3_dir / "objects"
        self.journal_dir = folder / "journal"
        self.journal: journal.Journal | None = None  # set by start_journal
        self._lock = threading.Lock()  # one snapshot at a time
        # The media objects on disk (key -> etag, content type, metadata), kept by the restore,
        # the journal's object sink and the snapshots, which take turns under this lock.
        self._objects: dict[str, dict[str, Any]] = {}
        self._objects_lock = threading.Lock()
        kw: dict[str, Any] = {
            "endpoint_url": endpoint,
            "region_name": region,
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }
        self.ddb = boto3.client("dynamodb", **kw)
        self.s3 = boto3.client("s3", **kw)
        folder.mkdir(parents=True, exist_ok=True)

    # --- secret ----------------------------------------------------------------------------

    def secret_value(self, generate: Any, name: str = "signing-keys.json") -> str:
        """A secret generated once per state folder (kept across restarts, owner-only)."""
        path = self.folder / name
        if not path.exists():
            _atomic_write(path, generate(), mode=0o600)
        return path.read_text()

    # --- KMS -------------------------------------------------------------------------------

    def _kms_backend(self) -> Any:
        from moto.kms.models import kms_backends

        return kms_backends[ACCOUNT][self.region]

    def save_kms(self) -> None:
        backend = self._kms_backend()
        for key in backend.keys.values():
            if self.res.kms_alias in key.aliases:
                data = {"key_id": key.id, "material": base64.b64encode(key.key_material).decode()}
                _atomic_write(self.folder / "kms.json", json.dumps(data), mode=0o600)
                return

    def restore_kms(self) -> None:
        path = self.folder / "kms.json"
        if not path.exists():
            self.save_kms()
            return
        saved = json.loads(path.read_text())
        backend = self._kms_backend()
        current = next(k for k in backend.keys.values() if self.res.kms_alias in k.aliases)
        if current.id == saved["key_id"]:
            return
        backend.keys.pop(current.id)
        current.arn = current.arn.replace(current.id, saved["key_id"])
        current.id = saved["key_id"]
        current.key_material = base64.b64decode(saved["material"])
        for alias in current.aliases.values():
            alias.target_key_id = current.id
        backend.keys[current.id] = current

    # --- start: the snapshot, then the journal over it --------------------------------------

    def restore(self) -> dict[str, int]:
        """Restore the last snapshot (table and bucket) and replay the journal over it. Call
        before ``start_journal``: nothing restored here is journaled again."""
        items = self.restore_table()
        entries, ignored = journal.read(self.journal_dir)
        replayed = moto_dynamodb.replay(entries, ACCOUNT, self.region)
        objects = self.restore_bucket(entries)
        return {"items": items, "replayed": replayed, "objects": objects, "ignored": ignored}

    def start_journal(self) -> None:
        """From now on every write moto accepts is on disk before it answers (see the module
        doc). Take a snapshot first if the state was changed without the journal (the seed)."""
        moto_dynamodb.apply()
        moto_s3.apply()
        self.journal = journal.Journal(self.journal_dir)
        moto_dynamodb.record_writes(self.journal.append)
        moto_s3.record_objects(self._keep_object)

    def stop_journal(self) -> None:
        moto_dynamodb.record_writes(None)
        moto_s3.record_objects(None)
        if self.journal is not None:
            self.journal.close()

    def unsaved(self) -> bool:
        """Whether some write is only in the journal (a snapshot would truncate it)."""
        return self.journal is not None and self.journal.dirty

    # --- DynamoDB --------------------------------------------------------------------------

    def save_table(self) -> int:
        items: list[dict] = []
        for page in self.ddb.get_paginator("scan").paginate(TableName=self.res.table_name):
            items.extend(page["Items"])
        _atomic_write(
            self.folder / "table.jsonl",
            "\n".join(json.dumps(i, default=_encode_bytes) for i in items),
        )
        return len(items)

    def restore_table(self) -> int:
        path = self.folder / "table.jsonl"
        if not path.exists():
            return 0
        items = [
            json.loads(line, object_hook=_decode_bytes)
            for line in path.read_text().splitlines()
            if line.strip()
        ]
        for i in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": it}} for it in items[i : i + 25]]
            pending = {self.res.table_name: batch}
            while pending:
                pending = (
                    self.ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                )
        return len(items)

    # --- S3 --------------------------------------------------------------------------------

    def _object_path(self, key: str) -> Path | None:
        """The file of an object, None for a key that names no file inside the objects folder
        (``a/``, ``../x``): such an object is kept in memory only."""
        root = self.objects_dir.resolve()
        path = (root / key).resolve()
        if key.endswith("/") or path == root or not path.is_relative_to(root):
            return None
        return path

    def _keep_object(self, bucket: str, key: str, obj: moto_s3.StoredObject | None) -> None:
        """The journal's object sink: the file first, then the journal line that names it."""
        jrnl = self.journal
        path = self._object_path(key)
        if bucket != self.res.media_bucket or jrnl is None or path is None:
            return
        with self._objects_lock:
            if obj is None:
                path.unlink(missing_ok=True)
                self._objects.pop(key, None)
                jrnl.append([{"b": bucket, "k": key, "del": True}])
                return
            journal.write_durable(path, obj.body)
            meta = {
                "etag": obj.etag,
                "content_type": obj.content_type,
                "cache_control": obj.cache_control,
                "metadata": obj.metadata,
            }
            self._objects[key] = meta
            jrnl.append([{"b": bucket, "k": key, "put": meta}])

    def save_bucket(self) -> int:
        """Write the bucket's index. The journal's sink has already written every object it was
        handed; what it was not (stored before the journal started: the seed, or an older
        state folder) is downloaded here, and files of objects gone from the bucket removed."""
        with self._objects_lock:
            listed: dict[str, str] = {}
            for page in self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.res.media_bucket
            ):
                for obj in page.get("Contents", []):
                    listed[obj["Key"]] = obj["ETag"]
            for key, etag in listed.items():
                path = self._object_path(key)
                known = self._objects.get(key)
                if path is None or (known and known.get("etag") == etag and path.exists()):
                    continue
                got = self.s3.get_object(Bucket=self.res.media_bucket, Key=key)
                journal.write_durable(path, got["Body"].read())
                self._objects[key] = {
                    "etag": got["ETag"],
                    "content_type": got.get("ContentType"),
                    "cache_control": got.get("CacheControl"),
                    "metadata": got.get("Metadata") or {},
                }
            for gone in set(self._objects) - set(listed):
                if (path := self._object_path(gone)) is not None:
                    path.unlink(missing_ok=True)
                del self._objects[gone]
            self.s3_dir.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.s3_dir / "index.json", json.dumps(self._objects))
            return len(self._objects)

    def restore_bucket(self, entries: Iterable[list[dict[str, Any]]] = ()) -> int:
        """Put the objects of the snapshot's index, as the journal ``entries`` left them."""
        index_path = self.s3_dir / "index.json"
        index: dict[str, dict] = json.loads(index_path.read_text()) if index_path.exists() else {}
        for ops in entries:
            for op in ops:
                if not isinstance(op, dict) or op.get("b") != self.res.media_bucket:
                    continue
                if "put" in op:
                    index[op["k"]] = op["put"]
                else:
                    index.pop(op["k"], None)
        restored: dict[str, dict[str, Any]] = {}
        for key, meta in index.items():
            path = self._object_path(key)
            if path is None or not path.exists():
                continue  # deleted, or its upload never finished: never confirmed
            extra: dict[str, Any] = {}
            if meta.get("cache_control"):
                extra["CacheControl"] = meta["cache_control"]
            put = self.s3.put_object(
                Bucket=self.res.media_bucket,
                Key=key,
                Body=path.read_bytes(),
                ContentType=meta.get("content_type") or "binary/octet-stream",
                Metadata=meta.get("metadata") or {},
                **extra,
            )
            restored[key] = {**meta, "etag": put["ETag"]}
        with self._objects_lock:
            self._objects = restored
        return len(restored)

    # --- all -------------------------------------------------------------------------------

    def snapshot(self) -> None:
        """Save the table and the bucket's index; then the journal up to the moment the
        snapshot began is no longer needed and is deleted."""
        with self._lock:
            sealed = self.journal.rotate() if self.journal is not None else None
            self.save_bucket()
            self.save_table()
            if sealed is not None:
                self.journal.drop_through(sealed)  # type: ignore[union-attr]


def _encode_bytes(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(value).decode()}
    raise TypeError(type(value).__name__)


def _decode_bytes(obj: dict) -> Any:
    return base64.b64decode(obj["__b64__"]) if set(obj) == {"__b64__"} else obj


def _atomic_write(path: Path, text: str, mode: int | None = None) -> None:
    journal.write_durable(path, text.encode())
    if mode is not None:
        os.chmod(path, mode)
