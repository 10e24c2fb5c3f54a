"""The stub HTTPS server (mutual TLS) on 127.0.0.1."""

from __future__ import annotations

import ssl
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lxml import etree

from chalicelib.verifactu.schemas import validate
from chalicelib.verifactu.xml import NS_SF, NS_SFLR, NS_SOAPENV
from tests.aeat_stub.answers import Clave, Maker, Script
from tests.aeat_stub.consulta import NS_SFLRC, Ledger
from tests.aeat_stub.pki import Pki

PATH = "/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"


def claves_of(payload: etree._Element) -> list[Clave]:
    out: list[Clave] = []
    for wrapper in payload.findall(f"{{{NS_SFLR}}}RegistroFactura"):
        alta = wrapper.find(f"{{{NS_SF}}}RegistroAlta")
        if alta is not None:
            idf = alta.find(f"{{{NS_SF}}}IDFactura")
            out.append(
                (
                    idf.findtext(f"{{{NS_SF}}}IDEmisorFactura"),
                    idf.findtext(f"{{{NS_SF}}}NumSerieFactura"),
                    idf.findtext(f"{{{NS_SF}}}FechaExpedicionFactura"),
                    "Alta",
                )
            )
        else:
            an = wrapper.find(f"{{{NS_SF}}}RegistroAnulacion")
            idf = an.find(f"{{{NS_SF}}}IDFactura")
            out.append(
                (
                    idf.findtext(f"{{{NS_SF}}}IDEmisorFacturaAnulada"),  # noqa: E501
                    idf.findtext(f"{{{NS_SF}}}NumSerieFacturaAnulada"),
                    idf.findtext(f"{{{NS_SF}}}FechaExpedicionFacturaAnulada"),
                    "Anulacion",
                )
            )
    return out


class AeatStub:
    """``with AeatStub() as stub: stub.script(Script.all_correct()); ...``"""

    def __init__(self, pki: Pki | None = None, port: int = 0) -> None:
        self.pki = pki or Pki()
        self.answers: deque[Maker] = deque()
        self.requests: list[dict[str, Any]] = []
        self.default: Maker = Script.all_correct()
        # ConsultaFactuSistemaFacturacion: answered from what the submissions registered
        # (``ledger``), unless a test scripted a fault or garbage for it (``script_consulta``).
        self.ledger = Ledger()
        self.consulta_answers: deque[Maker] = deque()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer = stub.handle(self.path, dict(self.headers), body, self.connection)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.pki.server_cert_path, self.pki.server_key_path)
        context.load_verify_locations(self.pki.ca_pem_path)
        context.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no connection
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.httpd.server_address[1]}"

    def script(self, *makers: Maker) -> None:
        self.answers.extend(makers)

    def script_consulta(self, *makers: Maker) -> None:
        self.consulta_answers.extend(makers)

    @property
    def consultas(self) -> list[dict[str, Any]]:
        """The filters of each ConsultaFactuSistemaFacturacion received, in order."""
        return [r["consulta"] for r in self.requests if "consulta" in r]

    def consultar(self, entry: dict[str, Any], consulta: etree._Element) -> tuple[int, bytes]:
        validate(consulta, "ConsultaLR.xsd")  # what we ask must be schema-valid
        entry["consulta"] = self.ledger.describe(consulta)
        if self.consulta_answers:
            return self.consulta_answers.popleft()([])
        return 200, self.ledger.answer(consulta)

    def handle(self, path: str, headers: dict, body: bytes, conn: Any) -> tuple[int, bytes]:
        peer = conn.getpeercert() or {}
        subject = dict(x[0] for x in peer.get("subject", ()))
        entry: dict[str, Any] = {
            "path": path,
            "headers": headers,
            "body": body,
            "client_subject": subject,
        }
        self.requests.append(entry)
        try:
            root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
            consulta = root.find(
                f"{{{NS_SOAPENV}}}Body/{{{NS_SFLRC}}}ConsultaFactuSistemaFacturacion"
            )
            if consulta is not None and path == PATH:
                return self.consultar(entry, consulta)
            payload = root.find(f"{{{NS_SOAPENV}}}Body/{{{NS_SFLR}}}RegFactuSistemaFacturacion")
            if path != PATH or payload is None:
                raise ValueError("not a RegFactuSistemaFacturacion request")
            validate(payload, "SuministroLR.xsd")  # what we send must be schema-valid
            claves = claves_of(payload)
        except (ValueError, etree.XMLSyntaxError) as exc:
            entry["error"] = str(exc)
            from tests.aeat_stub.answers import fault

            return 500, fault("Client", f"Codigo[4102].El XML no cumple el esquema. {exc}"[:300])
        entry["claves"] = claves
        maker = self.answers.popleft() if self.answers else self.default
        status, answer = maker(claves)
        self.ledger.record(payload, status, answer)  # what a later consulta finds
        return status, answer

    def __enter__(self) -> AeatStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
