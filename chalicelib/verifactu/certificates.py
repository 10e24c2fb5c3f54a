"""The clinic's client certificate for the AEAT (PKCS#12 + password), stored sealed.

Upload parses the file with ``cryptography`` (wrong password or corrupt file -> 422), keeps
the PKCS#12 (base64) and the password sealed with the clinic's data key, and returns only
metadata: subject, NIF, issuer, validity. The private key never leaves this module except as
the short-lived PEM material the transport needs for one TLS handshake.

NIF: Spanish qualified certificates carry it in the subject: ``organizationIdentifier``
(2.5.4.97, ``VATES-B12345674``) for entity/representative certificates, ``serialNumber``
(2.5.4.5, ``IDCES-12345678Z``) for individuals, and often at the end of the CN
(``NOMBRE APELLIDO - 12345678Z``). The entity identifier wins: it is the taxpayer's.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pynamodb.exceptions import DoesNotExist

from chalicelib.core import audit, validators
from chalicelib.core.api import Principal
from chalicelib.core.crypto import open_sealed, seal
from chalicelib.core.errors import NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now
from chalicelib.identity.service import get_clinic
from chalicelib.verifactu import contracts as c
from chalicelib.verifactu.models import VfCertificate

EXPIRY_ALERT = timedelta(days=30)
_NIF_IN_TEXT = re.compile(r"(?<![0-9A-Z])([0-9A-Z]\d{7}[0-9A-Z])(?![0-9A-Z])")


@dataclass(frozen=True)
class ParsedCertificate:
    subject: str
    issuer: str
    serial_number: str
    nif: str | None
    not_before: datetime
    not_after: datetime


def _bad(message: str) -> Unprocessable:
    return Unprocessable(
        message, errors=[{"field": "pkcs12_base64", "message": message}], code="CERTIFICATE_INVALID"
    )


def _nif_from(value: str) -> str | None:
    text = value.strip().upper()
    for prefix in ("VATES-", "IDCES-", "PASES-", "ES-", "ES"):
        if text.startswith(prefix) and validators.valid_spanish_nif(text[len(prefix) :]):
            return text[len(prefix) :]
    if validators.valid_spanish_nif(text):
        return text
    for match in _NIF_IN_TEXT.finditer(text):
        if validators.valid_spanish_nif(match.group(1)):
            return match.group(1)
    return None


def nif_of(cert: x509.Certificate) -> str | None:
    subject = cert.subject
    for oid in (NameOID.ORGANIZATION_IDENTIFIER, NameOID.SERIAL_NUMBER, NameOID.COMMON_NAME):
        for attr in subject.get_attributes_for_oid(oid):
            nif = _nif_from(str(attr.value))
            if nif:
                return nif
    return None


def load(data: bytes, password: str) -> tuple[object, x509.Certificate, list[x509.Certificate]]:
    """(private key, certificate, extra certificates) or 422 with a clear message."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode() or None)
    except ValueError as exc:
        raise _bad(
            tr(
                "The certificate could not be opened: the password is wrong or the file is not "
                "a PKCS#12 (.p12/.pfx) certificate.",
                "No se ha podido abrir el certificado electrónico: la contraseña es incorrecta "
                "o el archivo no es un certificado PKCS#12 (.p12/.pfx).",
            )
        ) from exc
    if key is None or cert is None:
        raise _bad(
            tr(
                "The PKCS#12 file must contain the certificate and its private key.",
                "El archivo PKCS#12 debe contener el certificado y su clave privada.",
            )
        )
    return key, cert, list(extra or [])


def parse(data: bytes, password: str) -> ParsedCertificate:
    _key, cert, _extra = load(data, password)
    return ParsedCertificate(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial_number=format(cert.serial_number, "X"),
        nif=nif_of(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def certificate_out(item: VfCertificate, clinic_nif: str | None, at: datetime) -> c.CertificateOut:
    not_after = item.not_after.astimezone(UTC)
    left = not_after - at
    return c.CertificateOut(
        subject=item.subject,
        nif=item.nif,
        matches_clinic_nif=bool(item.nif and clinic_nif and item.nif == clinic_nif),
        issuer=item.issuer,
        serial_number=item.serial_number,
        not_before=item.not_before,
        not_after=not_after,
        expires_soon=left <= EXPIRY_ALERT,
        expired=left <= timedelta(0),
        days_left=max(0, left.days),
        label=item.label,
        uploaded_at=item.uploaded_at,
    )


def _clinic_nif(clinic_id: str) -> str | None:
    tax_id = get_clinic(clinic_id).tax_id
    return validators.normalise_id(tax_id) if tax_id else None


def store(
    clinic_id: str, data: bytes, password: str, *, actor: dict, label: str | None = None
) -> VfCertificate:
    info = parse(data, password)
    at = now()
    if info.not_after <= at:
        raise _bad(
            tr(
                f"The certificate expired on {info.not_after.date().isoformat()}.",
                f"El certificado caducó el {info.not_after.date().isoformat()}.",
            )
        )
    pk, sk = VfCertificate.key(clinic_id)
    item = VfCertificate(
        PK=pk,
        SK=sk,
        pkcs12_sealed=seal(clinic_id, base64.b64encode(data).decode()),
        password_sealed=seal(clinic_id, password),
        subject=info.subject,
        nif=info.nif,
        issuer=info.issuer,
        serial_number=info.serial_number,
        not_before=info.not_before,
        not_after=info.not_after,
        label=label,
        uploaded_at=at,
        uploaded_by=actor.get("id", ""),
    )
    item.save()
    audit.record(
        clinic_id,
        actor,
        "verifactu.certificate.uploaded",
        "verifactu_certificate",
        "VFCERT",
        after={"subject": info.subject, "nif": info.nif, "not_after": info.not_after.isoformat()},
    )
    return item


def upload(principal: Principal, body: c.CertificateIn) -> c.CertificateOut:
    try:
        data = base64.b64decode(body.pkcs12_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad(
            tr("pkcs12_base64 is not valid base64.", "pkcs12_base64 no es base64 válido.")
        ) from exc
    item = store(principal.clinic_id, data, body.password, actor=principal.actor)
    from chalicelib.verifactu import submission

    submission.wake(principal.clinic_id)  # chains waiting for a certificate may go now
    return certificate_out(item, _clinic_nif(principal.clinic_id), now())


def find(clinic_id: str) -> VfCertificate | None:
    try:
        return VfCertificate.get(*VfCertificate.key(clinic_id))
    except DoesNotExist:
        return None


def get(principal: Principal) -> c.CertificateOut:
    item = find(principal.clinic_id)
    if item is None:
        raise NotFound(
            tr(
                "No AEAT certificate has been uploaded.",
                "No se ha subido ningún certificado electrónico para la AEAT.",
            ),
            code="CERTIFICATE_NOT_FOUND",
        )
    return certificate_out(item, _clinic_nif(principal.clinic_id), now())


def client_pem(item: VfCertificate, clinic_id: str, key_password: bytes) -> tuple[bytes, bytes]:
    """(certificate chain PEM, private key PEM encrypted with ``key_password``) for one TLS
    client handshake. Never logged, never stored unsealed."""
    data = base64.b64decode(open_sealed(clinic_id, item.pkcs12_sealed))
    key, cert, extra = load(data, open_sealed(clinic_id, item.password_sealed))
    chain = cert.public_bytes(serialization.Encoding.PEM) + b"".join(
        x.public_bytes(serialization.Encoding.PEM) for x in extra
    )
    key_pem = key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(key_password),
    )
    return chain, key_pem
