"""SOAP 1.1 POST to the AEAT over mutual TLS with the clinic's certificate.

``ssl.SSLContext.load_cert_chain`` needs files: the certificate chain and the private key are
written to a private temporary directory (0700, files 0600) for the handshake only, the key
encrypted with a random one-time password, and removed right after. TLS 1.2 or later; the
server is verified against the system CAs or ``AEAT_CA_BUNDLE``.

``AEAT_ENDPOINT_OVERRIDE`` (tests, the local stub) replaces scheme and host of the endpoint and
keeps its path. The ``prod`` stage ignores it: production records only ever go to the AEAT.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import ssl
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.core.config import settings
from chalicelib.verifactu.xml import SOAP_CONTENT_TYPE, SOAP_ENDPOINTS

TIMEOUT_S = 60


class TransportError(Exception):
    """No HTTP answer (connection, TLS, timeout). Retried with backoff."""

    retryable = True


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes


def override() -> str:
    """The stub's base URL from ``AEAT_ENDPOINT_OVERRIDE`` ("" when unset or in prod)."""
    if settings().stage == "prod":
        return ""
    return os.environ.get("AEAT_ENDPOINT_OVERRIDE", "").strip().rstrip("/")


def endpoint(environment: str) -> str:
    """The VerifactuSOAP URL of ``environment`` (test | production); with
    ``AEAT_ENDPOINT_OVERRIDE`` the same path on the override's base URL."""
    url = SOAP_ENDPOINTS[environment]
    if override():
        return override() + urlsplit(url).path
    return url


def _write_private(directory: str, name: str, data: bytes) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def post_soap(
    url: str, body: bytes, cert_chain_pem: bytes, key_pem: bytes, key_password: bytes
) -> HttpAnswer:
    """POST ``body``; any HTTP answer (also 500 with a SOAP Fault) is returned, no answer
    raises :class:`TransportError`."""
    ca_bundle = os.environ.get("AEAT_CA_BUNDLE") or None
    with tempfile.TemporaryDirectory(prefix="aeat-") as directory:
        os.chmod(directory, 0o700)
        cert_path = _write_private(directory, "cert.pem", cert_chain_pem)
        key_path = _write_private(directory, "key.pem", key_pem)
        try:
            context = ssl.create_default_context(cafile=ca_bundle)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(cert_path, key_path, password=key_password)
        except (ssl.SSLError, OSError) as exc:
            raise TransportError(f"TLS setup failed: {type(exc).__name__}") from exc
        finally:
            for path in (cert_path, key_path):
                with contextlib.suppress(OSError):
                    os.remove(path)
    request = urllib.request.Request(  # noqa: S310 - https endpoint from our own table
        url,
        data=body,
        method="POST",
        headers={"Content-Type": SOAP_CONTENT_TYPE, "SOAPAction": '""'},
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=TIMEOUT_S) as resp:  # noqa: S310
            return HttpAnswer(resp.status, resp.read())
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, exc.read() or b"")
    except (urllib.error.URLError, ssl.SSLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransportError(f"no answer from the AEAT: {type(reason).__name__}: {reason}") from exc


def new_key_password() -> bytes:
    return secrets.token_urlsafe(32).encode()
