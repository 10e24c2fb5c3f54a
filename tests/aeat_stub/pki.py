"""Throw-away PKI for the stub: CA, server certificate (127.0.0.1) and client PKCS#12."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str, **extra: str) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "ES")]
    if "organization" in extra:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, extra["organization"]))
    if "organization_identifier" in extra:
        attrs.append(
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, extra["organization_identifier"])
        )
    if "serial_number" in extra:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, extra["serial_number"]))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


@dataclass
class Pki:
    """Generates everything on construction; files live in a private temp directory."""

    directory: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="aeat-stub-"))

    def __post_init__(self) -> None:
        now = datetime.now(UTC)
        self.ca_key = _key()
        ca_name = _name("Cuspide Test CA (not trusted anywhere)")
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.ca_key, hashes.SHA256())
        )
        server_key = _key()
        server_cert = self._issue(
            _name("127.0.0.1"),
            server_key.public_key(),
            days=30,
            san=x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            usage=ExtendedKeyUsageOID.SERVER_AUTH,
        )
        self.ca_pem_path = self._write(
            "ca.pem", self.ca_cert.public_bytes(serialization.Encoding.PEM)
        )
        self.server_cert_path = self._write(
            "server.pem", server_cert.public_bytes(serialization.Encoding.PEM)
        )
        self.server_key_path = self._write(
            "server.key",
            server_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )

    def _write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.directory, name)
        with open(path, "wb") as fh:
            fh.write(data)
        os.chmod(path, 0o600)
        return path

    def _issue(
        self,
        subject: x509.Name,
        public_key: object,
        *,
        days: int,
        san: object = None,
        usage: object = ExtendedKeyUsageOID.CLIENT_AUTH,
        not_before: datetime | None = None,
    ) -> x509.Certificate:
        start = not_before or datetime.now(UTC) - timedelta(hours=1)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.ca_cert.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)  # type: ignore[list-item]
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)  # type: ignore[arg-type]
        return builder.sign(self.ca_key, hashes.SHA256())

    def client_p12(
        self,
        password: str,
        *,
        nif: str = "B12345674",
        days: int = 365,
        entity: str = "CLINICA UNO DENTAL SL",
        representative: str = "12345678Z",
    ) -> bytes:
        """A representative-of-entity certificate like the FNMT's: organizationIdentifier
        VATES-<entity NIF>, serialNumber IDCES-<representative's DNI>."""
        key = _key()
        subject = _name(
            f"{representative} R: {entity} - {nif}",
            organization=entity,
            organization_identifier=f"VATES-{nif}",
            serial_number=f"IDCES-{representative}",
        )
        cert = self._issue(subject, key.public_key(), days=days)
        return pkcs12.serialize_key_and_certificates(
            b"cuspide-test",
            key,
            cert,
            [self.ca_cert],
            serialization.BestAvailableEncryption(password.encode()),
        )

    def foreign_client_p12(self, password: str) -> bytes:
        """A client certificate NOT signed by the stub's CA (the handshake must fail)."""
        other = Pki()
        return other.client_p12(password)
