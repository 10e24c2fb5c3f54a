"""Run the AEAT stub on its own, to watch the submission job work in the local stack:

    .venv/bin/python -m tests.aeat_stub [--port 8443] [--dir .local/aeat-stub]

It writes ``ca.pem`` (the CA the job must trust) and ``client.p12`` (a certificate for the
demo clinic's NIF, B12345674, that the stub accepts) into ``--dir`` and prints how to start
``make run`` against it. Every request is answered "Correcto". Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from tests.aeat_stub.pki import Pki
from tests.aeat_stub.server import AeatStub

PASSWORD = "cuspide-demo"  # noqa: S105 - a throw-away test certificate


class PrintingStub(AeatStub):
    def handle(self, *args: Any) -> tuple[int, bytes]:
        status, body = super().handle(*args)
        entry = self.requests[-1]
        what = entry.get("error") or (
            f"{len(entry['claves'])} record(s)" if "claves" in entry else "consulta"
        )
        print(f"  {time.strftime('%H:%M:%S')} {status}: {what}", flush=True)
        return status, body


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.aeat_stub")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--dir", default=os.path.join(".local", "aeat-stub"))
    parser.add_argument("--nif", default="B12345674")
    args = parser.parse_args()
    os.makedirs(args.dir, mode=0o700, exist_ok=True)
    pki = Pki(directory=os.path.abspath(args.dir))
    p12 = os.path.join(pki.directory, "client.p12")
    with open(p12, "wb") as fh:
        fh.write(pki.client_p12(PASSWORD, nif=args.nif))
    with PrintingStub(pki, port=args.port) as stub:
        print(f"AEAT stub (mutual TLS) at {stub.base_url}")
        print("Start the local stack against it:")
        print(f"  AEAT_ENDPOINT_OVERRIDE={stub.base_url} AEAT_CA_BUNDLE={pki.ca_pem_path} make run")
        print(f"Then upload {p12} (password {PASSWORD!r}) as the clinic's certificate:")
        print("  POST /api/v1/verifactu/certificate {pkcs12_base64, password}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
