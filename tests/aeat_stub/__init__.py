"""A local stand-in for the AEAT's VERI*FACTU SOAP service, for tests only (never shipped).

- ``pki``: a throw-away CA, a server certificate for 127.0.0.1 and client PKCS#12 files.
- ``answers``: RespuestaSuministro documents and SOAP faults, each validated against the
  official RespuestaSuministro.xsd before it is sent.
- ``server.AeatStub``: HTTPS on 127.0.0.1 with mutual TLS (a client without a certificate
  signed by the CA is refused in the handshake); every request's payload is validated against
  SuministroLR.xsd and recorded; answers are scripted per test.
"""

from tests.aeat_stub.answers import Script
from tests.aeat_stub.pki import Pki
from tests.aeat_stub.server import AeatStub

__all__ = ["AeatStub", "Pki", "Script"]
