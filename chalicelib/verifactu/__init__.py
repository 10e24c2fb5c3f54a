"""VERI*FACTU core: pure functions and models, no AWS and no database.

Public checking API (issue 6): ``huella_alta(fields)``, ``huella_anulacion(fields)`` and
``qr_url(nif, numserie, fecha, importe, environment)``. Importing this package never imports
Pillow. See docs/adr/0201-verifactu-core.md.
"""

from __future__ import annotations

from .chain import ChainBreak, verify_chain
from .flow import TIEMPO_ESPERA_INICIAL, batches, may_submit, next_submission_at
from .format import (
    format_amount,
    format_fecha,
    format_fecha_hora_huso,
    format_rate,
    parse_fecha,
    parse_fecha_hora_huso,
)
from .huella import (
    ALTA_FIELDS,
    ANULACION_FIELDS,
    cadena_alta,
    cadena_anulacion,
    huella_alta,
    huella_anulacion,
    is_huella,
)
from .qr import qr_matrix, qr_printed_mm, qr_svg, qr_symbol_mm, qr_url
from .records import (
    DetalleDesglose,
    Encadenamiento,
    IDFactura,
    IDFacturaAnulada,
    IDOtro,
    ImporteRectificacion,
    PersonaFisicaJuridica,
    PersonaFisicaJuridicaES,
    RegistroAlta,
    RegistroAnterior,
    RegistroAnulacion,
    RegistroFacturacion,
    SistemaInformatico,
    check_generation_order,
    fecha_hora_huso,
)
from .response import (
    RespuestaInvalida,
    RespuestaLinea,
    RespuestaSuministro,
    SoapFault,
    parse_respuesta,
)
from .schemas import XsdValidationError
from .xml import (
    MAX_REGISTROS_POR_ENVIO,
    SOAP_CONTENT_TYPE,
    SOAP_ENDPOINTS,
    Cabecera,
    RemisionVoluntaria,
    build_reg_factu,
    build_soap_request,
    registro_element,
    soap_envelope,
    validate_reg_factu,
)

__all__ = [
    "ALTA_FIELDS",
    "ANULACION_FIELDS",
    "MAX_REGISTROS_POR_ENVIO",
    "SOAP_CONTENT_TYPE",
    "SOAP_ENDPOINTS",
    "TIEMPO_ESPERA_INICIAL",
    "Cabecera",
    "ChainBreak",
    "DetalleDesglose",
    "Encadenamiento",
    "IDFactura",
    "IDFacturaAnulada",
    "IDOtro",
    "ImporteRectificacion",
    "PersonaFisicaJuridica",
    "PersonaFisicaJuridicaES",
    "RegistroAlta",
    "RegistroAnterior",
    "RegistroAnulacion",
    "RegistroFacturacion",
    "RemisionVoluntaria",
    "RespuestaInvalida",
    "RespuestaLinea",
    "RespuestaSuministro",
    "SistemaInformatico",
    "SoapFault",
    "XsdValidationError",
    "batches",
    "build_reg_factu",
    "build_soap_request",
    "cadena_alta",
    "cadena_anulacion",
    "check_generation_order",
    "fecha_hora_huso",
    "format_amount",
    "format_fecha",
    "format_fecha_hora_huso",
    "format_rate",
    "huella_alta",
    "huella_anulacion",
    "is_huella",
    "may_submit",
    "next_submission_at",
    "parse_fecha",
    "parse_fecha_hora_huso",
    "parse_respuesta",
    "qr_matrix",
    "qr_printed_mm",
    "qr_symbol_mm",
    "qr_svg",
    "qr_url",
    "registro_element",
    "soap_envelope",
    "validate_reg_factu",
    "verify_chain",
]
