"""Keep the local stack's data across restarts of ``make run``.

moto keeps everything in memory, so the runner snapshots what matters to a state folder
(``.local/`` by default) every few seconds and on shutdown, and restores it on start:

- the DynamoDB table's items (read with a Scan: this is developer tooling, never a request
  path), restored with BatchWriteItem;
- the media bucket's objects, as files;
- the signing-keys secret (generated once);
- the KMS key's id and material. moto cannot import key material, and every data key in the
  table is encrypted under it, so the runner (which hosts moto in-process) rewrites the freshly
  provisioned key to the saved identity. Local tooling only; the cloud uses real KMS.

SQS messages in flight and sent mail are not kept.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Any

import boto3

from infra.local.provision import ACCOUNT
from infra.resources import Resources


class StateStore:
    def __init__(self, folder: Path, res: Resources, endpoint: str, region: str) -> None:
        self.folder = folder
        self.res = res
        self.region = region
        self.s3_dir = folder / "s3"
        self._lock = threading.Lock()
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

    def secret_value(self, generate: Any) -> str:
        path = self.folder / "signing-keys.json"
        if not path.exists():
            path.write_text(generate())
            path.chmod(0o600)
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
                _atomic_write(self.folder / "kms.json", json.dumps(data))
                os.chmod(self.folder / "kms.json", 0o600)
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

    def save_bucket(self) -> int:
        index_path = self.s3_dir / "index.json"
        index: dict[str, dict] = json.loads(index_path.read_text()) if index_path.exists() else {}
        seen = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.res.media_bucket):
            for obj in page.get("Contents", []):
                key, etag = obj["Key"], obj["ETag"]
                seen[key] = index.get(key, {})
                if index.get(key, {}).get("etag") == etag:
                    continue
                got = self.s3.get_object(Bucket=self.res.media_bucket, Key=key)
                target = self.s3_dir / "objects" / key
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(got["Body"].read())
                seen[key] = {
                    "etag": etag,
                    "content_type": got.get("ContentType"),
                    "metadata": got.get("Metadata") or {},
                }
        for gone in set(index) - set(seen):
            (self.s3_dir / "objects" / gone).unlink(missing_ok=True)
        self.s3_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(index_path, json.dumps(seen))
        return len(seen)

    def restore_bucket(self) -> int:
        index_path = self.s3_dir / "index.json"
        if not index_path.exists():
            return 0
        index = json.loads(index_path.read_text())
        for key, meta in index.items():
            path = self.s3_dir / "objects" / key
            if path.exists():
                self.s3.put_object(
                    Bucket=self.res.media_bucket,
                    Key=key,
                    Body=path.read_bytes(),
                    ContentType=meta.get("content_type") or "binary/octet-stream",
                    Metadata=meta.get("metadata") or {},
                )
        return len(index)

    # --- all -------------------------------------------------------------------------------

    def snapshot(self) -> None:
        with self._lock:
            self.save_table()
            self.save_bucket()


def _encode_bytes(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(value).decode()}
    raise TypeError(type(value).__name__)


def _decode_bytes(obj: dict) -> Any:
    return base64.b64decode(obj["__b64__"]) if set(obj) == {"__b64__"} else obj


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
