"""The clinic's AEAT certificate: PKCS#12 + password, both stored sealed; metadata shown;
an alert 30 days before it expires; clear 422s for what cannot be used."""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from tests.integration.verifactu.conftest import P12_PASSWORD, upload_cert


def test_upload_shows_subject_nif_and_expiry_and_stores_both_secrets_sealed(
    billing, pki, clinic, other_clinic
):
    from chalicelib.core.config import settings
    from chalicelib.verifactu.models import VfCertificate

    p12 = pki.client_p12(P12_PASSWORD, days=365)
    out = upload_cert(billing, p12)
    assert "VATES-B12345674" in out["subject"] and "CLINICA UNO DENTAL SL" in out["subject"]
    assert out["nif"] == "B12345674" and out["matches_clinic_nif"] is True
    assert "Cuspide Test CA" in out["issuer"]
    assert out["expires_soon"] is False and out["expired"] is False
    assert 363 <= out["days_left"] <= 365
    assert billing.get("/verifactu/certificate") == out

    # the raw item: neither the file nor the password is readable without the clinic's key
    raw = boto3.client("dynamodb").get_item(
        TableName=settings().table_name,
        Key={k: {"S": v} for k, v in zip(("PK", "SK"), VfCertificate.key(clinic.clinic_id))},
    )["Item"]
    text = json.dumps(raw)
    assert raw["pkcs12_sealed"]["S"].startswith("v1:")
    assert raw["password_sealed"]["S"].startswith("v1:")
    assert P12_PASSWORD not in text and "contrase" not in text
    assert base64.b64encode(p12).decode()[:40] not in text
    # the API never returns key material either
    assert not {"pkcs12_base64", "password", "pkcs12_sealed", "password_sealed"} & set(out)

    # what is sealed opens again, for this clinic only
    from chalicelib.core.crypto import DecryptionError, open_sealed

    assert open_sealed(clinic.clinic_id, raw["password_sealed"]["S"]) == P12_PASSWORD
    with pytest.raises(DecryptionError):
        open_sealed(other_clinic.clinic_id, raw["password_sealed"]["S"])

    audit = billing.get("/audit?entity_type=verifactu_certificate")["items"]
    assert audit and audit[0]["action"] == "verifactu.certificate.uploaded"
    assert P12_PASSWORD not in json.dumps(audit)


def test_expiry_within_30_days_raises_an_alert(billing, pki):
    s = billing.get("/verifactu/settings")
    assert s["certificate"] is None
    assert "CERTIFICATE_MISSING" in {a["code"] for a in s["alerts"]}

    upload_cert(billing, pki.client_p12(P12_PASSWORD, days=31))
    s = billing.get("/verifactu/settings")
    codes = {a["code"] for a in s["alerts"]}
    assert s["certificate"]["expires_soon"] is False
    assert not codes & {"CERTIFICATE_MISSING", "CERTIFICATE_EXPIRES_SOON"}

    out = upload_cert(billing, pki.client_p12(P12_PASSWORD, days=20))  # a renewal replaces it
    assert out["expires_soon"] is True and out["days_left"] == 19
    s = billing.get("/verifactu/settings")
    alert = next(a for a in s["alerts"] if a["code"] == "CERTIFICATE_EXPIRES_SOON")
    assert "19 day(s)" in alert["message"] and out["not_after"][:10] in alert["message"]


def test_a_certificate_of_another_nif_is_flagged(billing, pki):
    out = upload_cert(billing, pki.client_p12(P12_PASSWORD, nif="A58818501"))
    assert out["nif"] == "A58818501" and out["matches_clinic_nif"] is False


@pytest.mark.parametrize(
    ("make", "password", "message"),
    [
        (lambda pki: pki.client_p12("otra-clave"), P12_PASSWORD, "password is wrong"),
        (lambda pki: b"\x30\x82garbage, not a PKCS#12 file" * 20, P12_PASSWORD, "not a PKCS#12"),
        (lambda pki: b"-----BEGIN CERTIFICATE-----\nMIIB\n", "", "not a PKCS#12"),
        (lambda pki: pki.client_p12(P12_PASSWORD, days=0), P12_PASSWORD, "expired"),
    ],
    ids=["wrong-password", "garbage", "pem-not-p12", "expired"],
)
def test_unusable_certificates_get_a_clear_422(billing, pki, make, password, message):
    r = billing.api.post(
        "/verifactu/certificate",
        {"pkcs12_base64": base64.b64encode(make(pki)).decode(), "password": password},
        token=billing.token,
    )
    assert r.status == 422, r.body
    err = r.json()
    assert err["code"] == "CERTIFICATE_INVALID" and message in err["message"]
    assert err["errors"][0]["field"] == "pkcs12_base64"
    assert billing.api.get("/verifactu/certificate", token=billing.token).status == 404


@pytest.mark.parametrize(
    "body",
    [
        {"pkcs12_base64": "this is not base64!", "password": "x"},
        {"pkcs12_base64": "AAAA"},
        {"pkcs12_base64": "AAAA", "password": "x", "extra": 1},
    ],
)
def test_malformed_upload_bodies_are_422(billing, body):
    r = billing.api.post("/verifactu/certificate", body, token=billing.token)
    assert r.status == 422, r.body
    assert r.json()["errors"]
