"""Clinic-scoped credentials (ADR 0012): a key built for another clinic is refused by the AWS
stand-in itself, with the credentials of the clinic being served, not only by the code; the
global path still reaches the lookups; a warm request pays no STS call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import GetError, PutError, QueryError, TransactWriteError

from chalicelib.core import aws, scoping, storage
from chalicelib.core.config import settings
from chalicelib.core.db import Item, clinic_pk, transaction
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient
from tests.integration.api import Api
from tests.integration.conftest import Clinic
from tests.integration.patients.helpers import create_patient


class Probe(Item, discriminator="ScopeProbe"):
    """An item written only by these tests."""


def _denied(exc: BaseException) -> bool:
    cause: Any = exc
    while cause is not None:
        if isinstance(cause, ClientError):
            return cause.response["Error"]["Code"] in ("AccessDeniedException", "AccessDenied")
        cause = getattr(cause, "cause", None) or cause.__cause__  # PynamoDB keeps .cause
    return False


@pytest.fixture
def sts_calls() -> Iterator[list[str]]:
    """AssumeRole calls made by the product's STS client (a botocore event hook)."""
    calls: list[str] = []

    def count(**_: Any) -> None:
        calls.append("AssumeRole")

    events = aws.client("sts").meta.events
    events.register("before-call.sts.AssumeRole", count)
    yield calls
    events.unregister("before-call.sts.AssumeRole", count)


def test_scoping_is_on_in_the_suite() -> None:
    assert scoping.enabled()


def test_another_clinics_item_is_refused_by_the_credentials(
    clinic: Clinic, other_clinic: Clinic
) -> None:
    a, b = clinic.clinic_id, other_clinic.clinic_id
    Probe(clinic_pk(b), "PROBE#1").save()  # a fixture, written on the global (unscoped) path
    with scoping.clinic(a):
        Probe(clinic_pk(a), "PROBE#1").save()  # its own partition: fine
        assert Probe.get(clinic_pk(a), "PROBE#1").SK == "PROBE#1"
        with pytest.raises(GetError) as got:
            Probe.get(clinic_pk(b), "PROBE#1")
        assert _denied(got.value)
        with pytest.raises(PutError) as put:
            Probe(clinic_pk(b), "PROBE#2").save()
        assert _denied(put.value)
        # a prefix of another clinic's id is not its own either
        with pytest.raises(PutError) as near:
            Probe(clinic_pk(a) + "X", "PROBE#3").save()
        assert _denied(near.value)
        # an index query on another clinic's index key
        with pytest.raises(QueryError) as query:
            list(Patient.gsi1.query(Patient.list_pk(b)))
        assert _denied(query.value)
        # one foreign item spoils a whole transaction
        with pytest.raises(TransactWriteError) as tx, transaction() as t:
            t.save(Probe(clinic_pk(a), "PROBE#4"))
            t.save(Probe(clinic_pk(b), "PROBE#4"))
        assert _denied(tx.value)
    with pytest.raises(Probe.DoesNotExist):
        Probe.get(clinic_pk(b), "PROBE#2")


def test_global_lookups_and_mixed_transactions_still_work(clinic: Clinic) -> None:
    a = clinic.clinic_id
    with scoping.clinic(a):
        # pure lookups take the global path: the login email, the admin's memberships (GSI1)
        assert Item.count(f"EMAIL#{clinic.admin_email}") == 1
        members = list(Item.gsi1.query(f"USER#{clinic.admin_id}"))
        assert [m.PK for m in members] == [clinic_pk(a)]
        # a clinic item and a lookup in one transaction: the clinic's credentials reach both
        with transaction() as t:
            t.save(Probe(clinic_pk(a), "PROBE#MIX"))
            t.save(Probe("LIVETICKET#scope-probe", "LIVETICKET"))
        assert Probe.get("LIVETICKET#scope-probe", "LIVETICKET").PK.startswith("LIVETICKET#")


def test_objects_of_another_clinic_are_refused(clinic: Clinic, other_clinic: Clinic) -> None:
    a, b = clinic.clinic_id, other_clinic.clinic_id
    storage.write(f"clinics/{b}/probe.txt", b"b", content_type="text/plain")
    with scoping.clinic(a):
        storage.write(f"clinics/{a}/probe.txt", b"a", content_type="text/plain")
        assert storage.read(f"clinics/{a}/probe.txt") == b"a"
        for attempt in (
            lambda: storage.read(f"clinics/{b}/probe.txt"),
            lambda: storage.write(f"clinics/{b}/probe.txt", b"x", content_type="text/plain"),
            lambda: storage.head(f"clinics/{b}/probe.txt"),
            lambda: aws.client("s3").head_bucket(Bucket=settings().media_bucket),
        ):
            with pytest.raises(ClientError) as err:
                attempt()
            assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        # a presigned download of another clinic's object, signed inside A's scope
        url, _ = storage.presigned_get(f"clinics/{b}/probe.txt", content_type="text/plain")
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(url)  # noqa: S310 - loopback moto
    assert http.value.code == 403
    assert storage.read(f"clinics/{b}/probe.txt") == b"b"


def test_a_route_with_a_cross_clinic_bug_is_refused_below_the_code(
    api: Api, clinic: Clinic, other_clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug: the service reads the patient under another clinic's partition. The request
    fails (500, the bug is logged) and shows nothing of the other clinic; with scoping off the
    same bug leaks, so it is the credentials that refused it."""
    theirs = create_patient(api, other_clinic.admin_token, first_name="Secreta")
    ours = create_patient(api, clinic.admin_token)
    real_load = patients.load

    def buggy_load(clinic_id: str, patient_id: str) -> Patient:
        return real_load(other_clinic.clinic_id, patient_id)

    monkeypatch.setattr(patients, "load", buggy_load)
    r = api.get(f"/patients/{theirs['patient_id']}", token=clinic.admin_token)
    assert r.status == 500, r.body
    assert b"Secreta" not in r.body
    # the clinic's own work is unaffected by the refusal
    monkeypatch.setattr(patients, "load", real_load)
    assert api.get(f"/patients/{ours['patient_id']}", token=clinic.admin_token).status == 200

    monkeypatch.setattr(patients, "load", buggy_load)
    monkeypatch.delenv("TENANT_ROLE_ARN")  # scoping off
    leaked = api.get(f"/patients/{theirs['patient_id']}", token=clinic.admin_token)
    assert leaked.status == 200 and b"Secreta" in leaked.body


def test_a_warm_request_makes_no_sts_call(
    api: Api, clinic: Clinic, other_clinic: Clinic, sts_calls: list[str]
) -> None:
    scoping.cache.clear()
    assert api.get("/patients", token=clinic.admin_token).status == 200
    assert sts_calls == ["AssumeRole"]  # cold: one per clinic
    for _ in range(3):
        assert api.get("/patients", token=clinic.admin_token).status == 200
    assert sts_calls == ["AssumeRole"]  # warm: none
    assert api.get("/patients", token=other_clinic.admin_token).status == 200
    assert len(sts_calls) == 2  # each clinic has its own


def test_credentials_are_renewed_before_they_expire(
    clinic: Clinic, sts_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scoping.cache.clear()
    with scoping.clinic(clinic.clinic_id):
        Probe(clinic_pk(clinic.clinic_id), "PROBE#R").save()
        assert len(sts_calls) == 1
        # as if the credentials were within the refresh margin of their expiry
        monkeypatch.setattr(scoping, "REFRESH_MARGIN_S", scoping.DURATION_S + 60)
        Probe.get(clinic_pk(clinic.clinic_id), "PROBE#R")
        assert len(sts_calls) == 2


def test_a_missing_object_of_the_own_clinic_is_still_missing(clinic: Clinic) -> None:
    """Scoped credentials may not list the bucket, so S3 answers 403 for a missing object; the
    storage layer still reports it as missing (and the stand-in answers as S3 does)."""
    key = f"clinics/{clinic.clinic_id}/never-written"
    with scoping.clinic(clinic.clinic_id):
        with pytest.raises(ClientError) as err:
            aws.client("s3").get_object(Bucket=settings().media_bucket, Key=key)
        assert err.value.response["Error"]["Code"] == "AccessDenied"
        with pytest.raises(storage.ObjectMissing):
            storage.head(key)
        with pytest.raises(storage.ObjectMissing):
            storage.read(key)


def test_a_presigned_upload_form_cannot_be_pointed_at_another_clinic(
    clinic: Clinic, other_clinic: Clinic
) -> None:
    """The form is signed by the clinic's credentials: its key changed to another clinic's
    prefix is refused by the stand-in as by S3, whatever the form's policy says."""
    import requests

    a, b = clinic.clinic_id, other_clinic.clinic_id
    with scoping.clinic(a):
        form = storage.presigned_post(
            f"clinics/{a}/uploads/probe/original", content_type="text/plain", max_bytes=100
        )
    fields = dict(form["fields"])
    ok = requests.post(form["url"], data=fields, files={"file": ("f.txt", b"mine")}, timeout=10)
    assert ok.status_code in (200, 201, 204), ok.text
    fields["key"] = f"clinics/{b}/uploads/probe/original"
    bad = requests.post(form["url"], data=fields, files={"file": ("f.txt", b"evil")}, timeout=10)
    assert bad.status_code == 403, bad.text
    with pytest.raises(storage.ObjectMissing):
        storage.head(f"clinics/{b}/uploads/probe/original")


def test_presigned_expiry_is_capped_at_the_signing_credentials(clinic: Clinic) -> None:
    """A presigned URL or form stops working when the role session that signed it expires:
    what the API reports must not be later than that (ADR 0012)."""
    import time
    from datetime import UTC, datetime

    a = clinic.clinic_id
    key = f"clinics/{a}/probe-expiry.txt"
    with scoping.clinic(a):
        storage.write(key, b"x", content_type="text/plain")  # the clinic's credentials, cached
        creds, _ = scoping.cache._creds[a]
        soon = time.time() + scoping.REFRESH_MARGIN_S + 120  # still served from the cache
        scoping.cache._creds[a] = (creds, soon)
        _, expires_at = storage.presigned_get(key, content_type="text/plain", expires_in=3600)
        form = storage.presigned_post(key, content_type="text/plain", max_bytes=10)
    assert expires_at <= datetime.fromtimestamp(soon, UTC)
    assert form["expires_in"] <= scoping.REFRESH_MARGIN_S + 120
    # outside a scope (the function's own credentials) what was asked is reported
    _, unscoped_at = storage.presigned_get(key, content_type="text/plain", expires_in=3600)
    assert (unscoped_at - datetime.now(UTC)).total_seconds() > 3500
    scoping.cache.clear()
