"""The WORM archive of the records as sent (ADR 0206): each record's XML is written once, under
Object Lock, before its submission leaves; the chain check compares the table with it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from lxml import etree

from tests.aeat_stub import Script
from tests.integration.verifactu.conftest import issue_one, later, raw_table, run_job, tamper

NIF = "B12345674"


def s3():
    from chalicelib.core import aws

    return aws.client("s3")


def bucket() -> str:
    from chalicelib.core.config import settings

    return settings().archive_bucket


def items(clinic_id: str) -> list:
    from chalicelib.verifactu.models import RecordItem

    pk = f"C#{clinic_id}"
    return [
        i
        for i in RecordItem.query(pk, RecordItem.SK.startswith(RecordItem.chain_prefix(NIF)))
        if isinstance(i, RecordItem)
    ]


def versions(key: str) -> list[dict]:
    out = s3().list_object_versions(Bucket=bucket(), Prefix=key)
    return [v for v in out.get("Versions", []) if v["Key"] == key]


def verify(b, archive: bool = True) -> dict:
    return b.get(f"/verifactu/chain/verify?archive={'true' if archive else 'false'}")


def test_the_archive_bucket_is_object_locked_in_compliance_mode():
    from tests.conftest import RESOURCES

    lock = s3().get_object_lock_configuration(Bucket=bucket())["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    retention = lock["Rule"]["DefaultRetention"]
    assert retention["Mode"] == "COMPLIANCE" and retention["Days"] == RESOURCES.archive_lock.days
    assert s3().get_bucket_versioning(Bucket=bucket())["Status"] == "Enabled"
    assert bucket() == RESOURCES.archive_bucket


def test_each_record_is_archived_once_exactly_as_sent(certified, stub, clinic):
    from chalicelib.verifactu import archive, service
    from chalicelib.verifactu.schemas import validate

    first = issue_one(certified)
    issue_one(certified, iva=False)
    assert all(i.archive_key is None for i in items(clinic.clinic_id))  # not before sending

    assert run_job(later(0)) == {"answered": 1}

    body = stub.requests[0]["body"]
    stored = items(clinic.clinic_id)
    assert [i.status for i in stored] == ["accepted", "accepted"]
    for item in stored:
        key = f"verifactu/{clinic.clinic_id}/{NIF}/{int(item.seq):010d}-{item.huella}.xml"
        assert item.archive_key == key and item.archive_version and item.archived_at
        got = s3().get_object(Bucket=bucket(), Key=key, VersionId=item.archive_version)
        data = got["Body"].read()
        assert archive.sha256(data) == item.archive_sha256
        assert got["ContentType"] == "application/xml"
        # the element the submission carried, byte for byte (plus the namespace declaration it
        # needs on its own), which is what the table's record re-serialises to
        sum1 = f' xmlns:sum1="{archive.NS_SF}"'.encode()
        assert data.replace(sum1, b"", 1) in body
        assert data == archive.record_xml(service.as_model(item))
        # a standalone file of the Orden's "conservación y exportación" format (block 3)
        validate(etree.fromstring(data), "SuministroInformacion.xsd")
        assert data.startswith(b"<sum1:RegistroAlta ")
        # locked: COMPLIANCE until a day from now (the test stage's retention)
        head = s3().head_object(Bucket=bucket(), Key=key, VersionId=item.archive_version)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC)
        assert len(versions(key)) == 1
    assert (
        first["num_serie"].encode()
        in s3().get_object(Bucket=bucket(), Key=stored[0].archive_key)["Body"].read()
    )
    assert verify(certified) == {
        "intact": True,
        "chains": [{"nif": NIF, "records": 2, "intact": True, "first_break": None}],
    }


def test_a_retried_submission_writes_no_second_copy(certified, stub, clinic):
    from chalicelib.verifactu import archive

    issue_one(certified)
    stub.script(Script.server_fault(), Script.all_correct())
    assert run_job(later(0)) == {"retry": 1}
    (item,) = items(clinic.clinic_id)
    assert item.status == "pending" and item.archive_key  # archived before it was sent
    first_version = item.archive_version

    assert run_job(later(3600)) == {"answered": 1}
    (item,) = items(clinic.clinic_id)
    assert item.status == "accepted" and item.archive_version == first_version
    assert [v["VersionId"] for v in versions(item.archive_key)] == [first_version]
    # both attempts carried the same record (the retry's Cabecera may differ: Incidencia)
    data = s3().get_object(Bucket=bucket(), Key=item.archive_key)["Body"].read()
    element = data.replace(f' xmlns:sum1="{archive.NS_SF}"'.encode(), b"", 1)
    assert len(stub.requests) == 2
    assert all(element in r["body"] for r in stub.requests)


def test_writing_the_same_record_again_is_a_no_op_never_an_overwrite(certified, stub, clinic):
    from chalicelib.verifactu import archive

    issue_one(certified)
    run_job(later(0))
    (item,) = items(clinic.clinic_id)
    data = s3().get_object(Bucket=bucket(), Key=item.archive_key)["Body"].read()

    assert archive.put_once(item.archive_key, data) == (item.archive_version, False)
    with pytest.raises(archive.ArchiveError) as err:
        archive.put_once(item.archive_key, data.replace(b">1.0<", b">2.0<", 1))
    assert err.value.retryable is False and "different copy" in str(err.value)
    assert [v["VersionId"] for v in versions(item.archive_key)] == [item.archive_version]


def test_a_locked_copy_cannot_be_deleted_or_replaced(certified, stub, clinic):
    issue_one(certified)
    run_job(later(0))
    (item,) = items(clinic.clinic_id)
    key, version = item.archive_key, item.archive_version
    original = s3().get_object(Bucket=bucket(), Key=key)["Body"].read()

    with pytest.raises(ClientError) as denied:
        s3().delete_object(Bucket=bucket(), Key=key, VersionId=version)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as denied:
        s3().delete_object(
            Bucket=bucket(), Key=key, VersionId=version, BypassGovernanceRetention=True
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as refused:  # a conditional write never replaces it
        s3().put_object(
            Bucket=bucket(), Key=key, Body=b"<x/>", IfNoneMatch="*", ChecksumAlgorithm="SHA256"
        )
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"

    # An unconditional put (which the deployed bucket's policy refuses; moto does not enforce
    # bucket policies) or a delete without a version only stack a new version or a delete
    # marker on top: the locked version the record points at is untouched and still verifies.
    s3().put_object(Bucket=bucket(), Key=key, Body=b"<forged/>", ChecksumAlgorithm="SHA256")
    s3().delete_object(Bucket=bucket(), Key=key)
    got = s3().get_object(Bucket=bucket(), Key=key, VersionId=version)
    assert got["Body"].read() == original
    assert verify(certified)["intact"] is True


def test_a_record_is_never_sent_without_its_copy(certified, stub, clinic, monkeypatch):
    from chalicelib.verifactu import archive

    issue_one(certified)
    with monkeypatch.context() as m:
        m.setattr(archive, "_bucket", lambda: "cuspide-test-no-such-archive")
        assert run_job(later(0)) == {"retry": 1}
    assert stub.requests == []  # nothing left for the AEAT
    (item,) = items(clinic.clinic_id)
    assert item.status == "pending" and item.archive_key is None
    chain = certified.get("/verifactu/settings")["chains"][0]
    assert chain["submission_status"] == "retrying" and "archive" in chain["last_error"]

    assert run_job(later(3600)) == {"answered": 1}
    (item,) = items(clinic.clinic_id)
    assert item.status == "accepted" and item.archive_key
    assert verify(certified)["intact"] is True


def test_the_chain_check_finds_a_table_record_that_differs_from_its_copy(certified, stub, clinic):
    issue_one(certified)
    issue_one(certified)
    run_job(later(0))
    assert verify(certified)["intact"] is True

    # The description is not part of the huella: the chain alone cannot see this change.
    def change(record, item):
        record["DescripcionOperacion"] = "Blanqueamiento (importe rebajado)"

    tamper(clinic.clinic_id, 2, change)
    assert verify(certified, archive=False)["intact"] is True
    result = verify(certified)
    assert result["intact"] is False
    brk = result["chains"][0]["first_break"]
    assert brk["record"] == f"{NIF}-0000000002" and brk["position"] == 2
    assert brk["problem"] == "archive" and brk["field"] == "xml"
    assert brk["expected"] != brk["found"]  # sha256 of the copy vs the table's re-serialisation


def test_a_sent_record_without_a_copy_is_a_break(certified, stub, clinic):
    issue_one(certified)
    issue_one(certified)
    issue_one(certified)
    run_job(later(0))
    client, table = raw_table()
    stored = items(clinic.clinic_id)

    # the copy's version points nowhere: the copy is missing
    key = {"PK": {"S": stored[2].PK}, "SK": {"S": stored[2].SK}}
    client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET archive_version = :v",
        ExpressionAttributeValues={":v": {"S": "no-such-version"}},
    )
    brk = verify(certified)["chains"][0]["first_break"]
    assert (brk["problem"], brk["position"], brk["found"]) == ("archive", 3, "missing")

    # an answered record with no copy at all comes first
    key = {"PK": {"S": stored[1].PK}, "SK": {"S": stored[1].SK}}
    client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="REMOVE archive_key, archive_version, archive_sha256, archived_at",
    )
    brk = verify(certified)["chains"][0]["first_break"]
    assert brk["problem"] == "archive" and brk["position"] == 2
    assert brk["field"] == "archive_key" and brk["found"] == "none"
    # the chain itself is fine: only the archive check reports it
    assert verify(certified, archive=False)["intact"] is True


def test_a_pending_record_needs_no_copy_yet(billing, clinic):
    issue_one(billing)  # no certificate, no stub: nothing is sent
    assert verify(billing) == {
        "intact": True,
        "chains": [{"nif": NIF, "records": 1, "intact": True, "first_break": None}],
    }


def test_another_clinic_never_reaches_this_clinics_archive(
    certified, stub, clinic, other_billing, api
):
    issue_one(certified)
    run_job(later(0))
    assert verify(other_billing) == {"intact": True, "chains": []}
    (item,) = items(clinic.clinic_id)
    # each clinic's copies sit under its own prefix; a clinic's check only reads the copies its
    # own records (keys built from its own clinic id) point at
    assert item.archive_key.startswith(f"verifactu/{clinic.clinic_id}/{NIF}/")


def test_the_job_and_the_archive_pool_run_with_the_chains_clinic(
    certified, stub, clinic, monkeypatch, scoped_as, own_credentials
):
    """ADR 0012: the submission job handles each due chain in its clinic's scope, and the
    archive's thread pool keeps that scope (threads do not inherit context variables: the
    copies were written on the function's own credentials before)."""
    from chalicelib.core import scoping
    from chalicelib.verifactu import archive, submission

    seen: list[tuple[str, str | None]] = []
    for name, module in (("submit_chain", submission), ("_store", archive), ("_check", archive)):
        real = getattr(module, name)

        def spy(*a, _real=real, _name=name, **k):
            seen.append((_name, scoping.current_clinic()))
            return _real(*a, **k)

        monkeypatch.setattr(module, name, spy)
    issue_one(certified)
    issue_one(certified, iva=False)
    scoped_as.clear()
    own_credentials.clear()
    assert run_job(later(0)) == {"answered": 1}
    # its own role: the global path, and the archive writes (archive_write, ADR 0206)
    assert "tenant" not in own_credentials, own_credentials
    assert verify(certified)["intact"] is True  # the chain check's pool, inside the request
    cid = clinic.clinic_id
    assert {n for n, _ in seen} == {"submit_chain", "_store", "_check"}
    assert all(scope == cid for _, scope in seen), seen
    assert scoped_as and set(scoped_as) == {cid}


def test_a_missing_copy_read_with_the_clinics_credentials_is_missing_not_an_error(
    clinic, other_clinic
):
    """The clinic's credentials cannot list the archive bucket, so S3 answers a missing key of
    its own prefix with 403; that is a missing copy. Another clinic's key stays an error."""
    from types import SimpleNamespace

    from chalicelib.core import scoping
    from chalicelib.verifactu import archive

    cid = clinic.clinic_id
    mine = SimpleNamespace(archive_key=f"verifactu/{cid}/{NIF}/nothing.xml", archive_version="")
    theirs = SimpleNamespace(
        archive_key=f"verifactu/{other_clinic.clinic_id}/{NIF}/nothing.xml", archive_version=""
    )
    with scoping.clinic(cid):
        assert archive._read(mine) is None
        with pytest.raises(ClientError):
            archive._read(theirs)
