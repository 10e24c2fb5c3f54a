"""Official AEAT XSDs and WSDL (tikeV1.0), unmodified, loaded offline.

Files: SuministroLR.xsd, SuministroInformacion.xsd, RespuestaSuministro.xsd, ConsultaLR.xsd,
RespuestaConsultaLR.xsd (the consulta of the reconciliation, ADR 0205),
SistemaFacturacion.wsdl (AEAT) and xmldsig-core-schema.xsd (W3C), copied verbatim from the
AEAT publication. SuministroInformacion.xsd imports XML-DSig from its W3C URL; a resolver maps
that URL to the local copy and the parser never touches the network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.core.i18n import tr
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from lxml import etree
else:
    # lxml loads on first use, not with the API (issue 23): see chalicelib/core/lazy.py
    etree = lazy_module("lxml.etree")

__all__ = ["SCHEMA_DIR", "XsdValidationError", "load_schema", "validate"]

SCHEMA_DIR = Path(__file__).resolve().parent

_REMOTE_TO_LOCAL = {
    "http://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd": "xmldsig-core-schema.xsd",
}


class XsdValidationError(ValueError):
    """The document does not validate against the official schema."""

    def __init__(self, schema: str, errors: list[str]) -> None:
        self.schema = schema
        self.errors = errors
        super().__init__(f"{schema}: " + "; ".join(errors[:5]))


@cache
def _resolver_class() -> type:
    # Built on first use: subclassing lxml's Resolver at import would load lxml with the API.
    class _LocalResolver(etree.Resolver):
        def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
            if system_url is None:
                return None
            local = _REMOTE_TO_LOCAL.get(system_url)
            if local is None:
                name = system_url.rsplit("/", 1)[-1]
                if (SCHEMA_DIR / name).is_file() and not system_url.startswith(("http:", "https:")):
                    local = name
            if local is None:
                return None
            return self.resolve_filename(str(SCHEMA_DIR / local), context)

    return _LocalResolver


def _parser() -> etree.XMLParser:
    # No network, no external DTDs; the xmldsig schema's internal DTD subset only declares
    # the "dsig" entity it uses itself.
    parser = etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=True)
    parser.resolvers.add(_resolver_class()())
    return parser


@cache
def load_schema(name: str) -> etree.XMLSchema:
    """Compiled schema of one of the bundled XSD files (cached per process)."""
    path = SCHEMA_DIR / name
    if path.parent != SCHEMA_DIR or not path.is_file() or path.suffix != ".xsd":
        raise ValueError(tr(f"unknown schema {name!r}", f"esquema desconocido {name!r}"))
    document = etree.parse(str(path), _parser())  # noqa: S320 - bundled, trusted file
    return etree.XMLSchema(document)


def validate(element: etree._Element | etree._ElementTree, schema_name: str) -> None:
    """Raise :class:`XsdValidationError` unless ``element`` is valid against the schema."""
    schema = load_schema(schema_name)
    if not schema.validate(element):
        errors = [f"line {e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]
        raise XsdValidationError(schema_name, errors)
