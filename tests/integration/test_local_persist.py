"""The local stack's state folder with its write-ahead journal (infra/local/persist.py): what
moto accepted (items, media objects: PutObject, presigned POST uploads, deletes) is on disk
when the client gets its answer and comes back after a kill with no snapshot since; a snapshot
truncates the journal and restores the same; state folders from before the journal restore as
they did. Runs on this process's moto, with resources of a stage of its own."""

from __future__ import annotations

import json
import shutil

import boto3
import pytest
import requests

from chalicelib.core.config import settings
from chalicelib.core.keys import generate_secret_value
from infra.local import journal
from infra.local.persist import StateStore
from infra.local.provision import provision, reset_table
from infra.resources import for_stage
from tests.conftest import ENDPOINT

RES = for_stage("persisttest")
PK = {"S": "T#persist"}


def _client(service: str):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=settings().region)


@pytest.fixture(scope="module")
def clients(moto_server):
    provision(RES, ENDPOINT, settings().region, secret_value=generate_secret_value())
    return _client("dynamodb"), _client("s3")


def _wipe(s3) -> None:
    """What a new moto holds: an empty table and bucket."""
    reset_table(RES, ENDPOINT, settings().region)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=RES.media_bucket):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=RES.media_bucket, Key=obj["Key"])


@pytest.fixture
def store(clients, tmp_path):
    _wipe(clients[1])
    s = StateStore(tmp_path / "state", RES, ENDPOINT, settings().region)
    yield s
    s.stop_journal()


def _kill_and_restart(store: StateStore, s3) -> StateStore:
    """SIGKILL and a new start: no snapshot, moto forgets everything, a new store restores."""
    store.stop_journal()
    _wipe(s3)
    again = StateStore(store.folder, RES, ENDPOINT, settings().region)
    again.restore()
    return again


def _put(ddb, sk: str, v: str) -> None:
    ddb.put_item(TableName=RES.table_name, Item={"PK": PK, "SK": {"S": sk}, "v": {"S": v}})


def _get(ddb, sk: str) -> dict | None:
    key = {"PK": PK, "SK": {"S": sk}}
    return ddb.get_item(TableName=RES.table_name, Key=key, ConsistentRead=True).get("Item")


def _journal_names(store: StateStore, key: str) -> bool:
    return any(op.get("k") == key for ops in journal.read(store.journal_dir)[0] for op in ops)


def test_what_moto_accepted_is_on_disk_at_the_answer_and_back_after_a_kill(store, clients):
    ddb, s3 = clients
    store.start_journal()
    bucket = RES.media_bucket

    _put(ddb, "invoice-counter", "7")
    assert any(
        op.get("put", {}).get("SK") == {"S": "invoice-counter"}
        for ops in journal.read(store.journal_dir)[0]
        for op in ops
    )

    pdf = b"%PDF-1.7 accepted budget"
    s3.put_object(
        Bucket=bucket,
        Key="clinics/c1/budgets/b1/accepted.pdf",
        Body=pdf,
        ContentType="application/pdf",
        CacheControl="private, max-age=31536000, immutable",
        Metadata={"origin": "budget"},
    )
    assert (store.objects_dir / "clinics/c1/budgets/b1/accepted.pdf").read_bytes() == pdf
    assert _journal_names(store, "clinics/c1/budgets/b1/accepted.pdf")

    jpeg = b"\xff\xd8\xff\xe0 an uploaded photo"
    post = s3.generate_presigned_post(
        Bucket=bucket,
        Key="clinics/c1/uploads/i1/original",
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[{"Content-Type": "image/jpeg"}],
    )
    r = requests.post(
        post["url"], data=post["fields"], files={"file": ("photo.jpg", jpeg)}, timeout=30
    )
    assert r.status_code in (200, 201, 204), r.text
    assert (store.objects_dir / "clinics/c1/uploads/i1/original").read_bytes() == jpeg

    s3.put_object(Bucket=bucket, Key="clinics/c1/tmp/gone", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="clinics/c1/tmp/gone")
    assert not (store.objects_dir / "clinics/c1/tmp/gone").exists()

    again = _kill_and_restart(store, s3)
    try:
        assert _get(ddb, "invoice-counter")["v"] == {"S": "7"}
        got = s3.get_object(Bucket=bucket, Key="clinics/c1/budgets/b1/accepted.pdf")
        assert got["Body"].read() == pdf and got["ContentType"] == "application/pdf"
        assert got["Metadata"] == {"origin": "budget"}
        assert got["CacheControl"] == "private, max-age=31536000, immutable"
        got = s3.get_object(Bucket=bucket, Key="clinics/c1/uploads/i1/original")
        assert got["Body"].read() == jpeg and got["ContentType"] == "image/jpeg"
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        assert "clinics/c1/tmp/gone" not in {o["Key"] for o in listed}
    finally:
        again.stop_journal()


def test_a_snapshot_truncates_the_journal_and_restores_the_same(store, clients, tmp_path):
    ddb, s3 = clients
    store.start_journal()
    _put(ddb, "x", "before the snapshot")
    _put(ddb, "y", "kept")
    s3.put_object(Bucket=RES.media_bucket, Key="a/original", Body=b"A", ContentType="image/png")
    old_segments = tmp_path / "old-segments"
    shutil.copytree(store.journal_dir, old_segments)
    assert store.unsaved()

    store.snapshot()
    assert journal.read(store.journal_dir) == ([], 0) and not store.unsaved()
    index = json.loads((store.s3_dir / "index.json").read_text())
    assert index["a/original"]["content_type"] == "image/png"

    _put(ddb, "x", "after the snapshot")  # only in the journal
    # The kill came between the snapshot's rename and the journal's truncation: the covered
    # segment is still there. Replaying it first is harmless, the later image wins.
    for seg in old_segments.iterdir():
        shutil.copy(seg, store.journal_dir / seg.name)
    again = _kill_and_restart(store, s3)
    try:
        assert _get(ddb, "x")["v"] == {"S": "after the snapshot"}
        assert _get(ddb, "y")["v"] == {"S": "kept"}
        assert s3.get_object(Bucket=RES.media_bucket, Key="a/original")["Body"].read() == b"A"
    finally:
        again.stop_journal()


def test_objects_stored_before_the_journal_started_are_kept_by_the_snapshot(store, clients):
    """The demo seed writes before the journal starts; the snapshot right after keeps it, and
    the journal then takes over (here: a delete)."""
    ddb, s3 = clients
    s3.put_object(Bucket=RES.media_bucket, Key="seed/original", Body=b"seeded")
    _put(ddb, "seeded", "yes")
    store.snapshot()
    assert (store.objects_dir / "seed/original").read_bytes() == b"seeded"
    store.start_journal()
    s3.delete_object(Bucket=RES.media_bucket, Key="seed/original")
    assert not (store.objects_dir / "seed/original").exists()
    again = _kill_and_restart(store, s3)
    try:
        assert _get(ddb, "seeded")["v"] == {"S": "yes"}
        assert s3.list_objects_v2(Bucket=RES.media_bucket).get("KeyCount", 0) == 0
    finally:
        again.stop_journal()


def test_a_state_folder_from_before_the_journal_restores_as_before(clients, tmp_path):
    ddb, s3 = clients
    _wipe(s3)
    folder = tmp_path / "old-state"
    (folder / "s3" / "objects" / "k").mkdir(parents=True)
    item = {"PK": PK, "SK": {"S": "old"}, "b": {"B": {"__b64__": "AAE="}}}
    (folder / "table.jsonl").write_text(json.dumps(item))
    (folder / "s3" / "objects" / "k" / "original").write_bytes(b"old object")
    index = {"k/original": {"etag": '"x"', "content_type": "image/jpeg", "metadata": {}}}
    (folder / "s3" / "index.json").write_text(json.dumps(index))
    store = StateStore(folder, RES, ENDPOINT, settings().region)
    assert store.restore() == {"items": 1, "replayed": 0, "objects": 1, "ignored": 0}
    assert _get(ddb, "old")["b"] == {"B": b"\x00\x01"}
    got = s3.get_object(Bucket=RES.media_bucket, Key="k/original")
    assert got["Body"].read() == b"old object" and got["ContentType"] == "image/jpeg"
