"""What the stub holds, and its answers to ConsultaFactuSistemaFacturacion.

``Ledger`` keeps what the stub "registered" from the submissions it answered (accepted altas,
their later subsanaciones, anulaciones), in presentation order, like the AEAT: one entry per
invoice (NIF, number, date) with its latest data and state. Tests script the differences the
reconciliation must find: ``forget`` (missing), ``set_huella``, ``set_estado``
(AceptadoConErrores, Anulado...), ``add_foreign`` (a record we never sent) and ``page_size``
(pagination). Every answer is validated against the official RespuestaConsultaLR.xsd.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from chalicelib.verifactu.consulta import NS_SFLRC, NS_SFLRRC
from chalicelib.verifactu.response import RespuestaInvalida, SoapFault, parse_respuesta
from chalicelib.verifactu.schemas import validate
from chalicelib.verifactu.xml import NS_SF, NS_SFLR, NS_SOAPENV

Clave3 = tuple[str, str, str]

#: Fields of the submitted RegistroAlta not echoed in DatosRegistroFacturacion (or only on
#: request: NombreRazonEmisor, SistemaInformatico).
_NOT_ECHOED = {"IDVersion", "IDFactura", "NombreRazonEmisor", "SistemaInformatico", "Signature"}
#: Anonymous wrappers of RespuestaConsultaLR.xsd: their children are in its namespace too.
_WRAPPERS = {"FacturasRectificadas", "FacturasSustituidas", "Destinatarios", "Encadenamiento"}
_n = itertools.count(1)


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(ns, name))
    if text is not None:
        element.text = text
    return element


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def datos_from_alta(alta: etree._Element) -> etree._Element:
    """``sfLRRC:DatosRegistroFacturacion`` from a submitted ``sf:RegistroAlta``."""
    datos = etree.Element(_q(NS_SFLRRC, "DatosRegistroFacturacion"))
    for child in alta:
        name = _local(child)
        if name in _NOT_ECHOED:
            continue
        target = _sub(datos, NS_SFLRRC, name, child.text)
        for grandchild in child:
            if name in _WRAPPERS:
                inner = _sub(target, NS_SFLRRC, _local(grandchild), grandchild.text)
                for deep in grandchild:
                    inner.append(copy.deepcopy(deep))
            else:
                target.append(copy.deepcopy(grandchild))
    return datos


@dataclass
class Held:
    clave: Clave3
    datos: etree._Element
    estado: str = "Correcto"  # Correcto | AceptadoConErrores | Anulado (RespuestaConsultaLR.xsd)
    codigo: int | None = None
    descripcion: str | None = None
    presentado: str = "2026-11-21T13:05:12+01:00"
    modificado: str = "2026-11-21T13:05:12+01:00"
    id_peticion: str = field(default_factory=lambda: f"2026112113051{next(_n):07d}")

    def text(self, name: str) -> str | None:
        element = self.datos.find(_q(NS_SFLRRC, name))
        return element.text if element is not None else None

    @property
    def periodo(self) -> tuple[str, str]:
        fecha = self.text("FechaOperacion") or self.clave[2]
        return fecha[6:10], fecha[3:5]


def _fecha_key(text: str) -> str:
    return text[6:10] + text[3:5] + text[0:2]


class Ledger:
    """What the stub AEAT holds for every NIF, in presentation order."""

    def __init__(self) -> None:
        self.held: dict[Clave3, Held] = {}
        self.page_size = 10_000  # web service 6.4: at most 10,000 records per answer

    # -- registering what the submissions' answers accepted -----------------------------------

    def record(self, payload: etree._Element, status: int, answer: bytes) -> None:
        """Register what a submission answer accepted (nothing for faults or garbage)."""
        if status != 200:
            return
        try:
            respuesta = parse_respuesta(answer)
        except (SoapFault, RespuestaInvalida):
            return
        lines = respuesta.por_clave()
        for wrapper in payload.findall(_q(NS_SFLR, "RegistroFactura")):
            alta = wrapper.find(_q(NS_SF, "RegistroAlta"))
            registro = alta if alta is not None else wrapper.find(_q(NS_SF, "RegistroAnulacion"))
            suffix = "" if alta is not None else "Anulada"
            idf = registro.find(_q(NS_SF, "IDFactura"))
            clave = tuple(
                idf.findtext(_q(NS_SF, f"{name}{suffix}"))
                for name in ("IDEmisorFactura", "NumSerieFactura", "FechaExpedicionFactura")
            )
            linea = lines.get((*clave, "Alta" if alta is not None else "Anulacion"))
            if linea is None or linea.outcome == "rejected" or linea.is_duplicate:
                continue  # a duplicate changes nothing the AEAT holds
            at = (
                respuesta.DatosPresentacion.TimestampPresentacion
                if respuesta.DatosPresentacion
                else None
            )
            if alta is not None:
                before = self.held.get(clave)  # a subsanación keeps the first presentation
                self.held[clave] = Held(
                    clave,
                    datos_from_alta(alta),
                    estado="Correcto" if linea.outcome == "accepted" else "AceptadoConErrores",
                    codigo=linea.CodigoErrorRegistro,
                    descripcion=linea.DescripcionErrorRegistro,
                    presentado=before.presentado if before else (at or Held.presentado),
                    modificado=at or Held.modificado,
                )
            elif clave in self.held:
                self.held[clave].estado = "Anulado"
                self.held[clave].modificado = at or Held.modificado

    # -- scripting what the reconciliation must find -----------------------------------------

    def _find(self, num_serie: str, nif: str | None = None) -> Clave3:
        (clave,) = [k for k in self.held if k[1] == num_serie and nif in (None, k[0])]
        return clave

    def forget(self, num_serie: str, nif: str | None = None) -> None:
        """The AEAT does not hold this invoice (a record lost on its side)."""
        del self.held[self._find(num_serie, nif)]

    def set_huella(self, num_serie: str, huella: str, nif: str | None = None) -> None:
        self.held[self._find(num_serie, nif)].datos.find(_q(NS_SFLRRC, "Huella")).text = huella

    def set_estado(
        self,
        num_serie: str,
        estado: str,
        codigo: int | None = None,
        descripcion: str | None = None,
        nif: str | None = None,
    ) -> None:
        held = self.held[self._find(num_serie, nif)]
        held.estado, held.codigo, held.descripcion = estado, codigo, descripcion

    def add_foreign(
        self, nif: str, num_serie: str, fecha: str, *, huella: str = "A" * 64, total: str = "10.00"
    ) -> None:
        """A record the AEAT holds that we never sent (another system, or a mistake)."""
        datos = etree.Element(_q(NS_SFLRRC, "DatosRegistroFacturacion"))
        _sub(datos, NS_SFLRRC, "TipoFactura", "F2")
        _sub(datos, NS_SFLRRC, "DescripcionOperacion", "Venta")
        _sub(datos, NS_SFLRRC, "CuotaTotal", "0.00")
        _sub(datos, NS_SFLRRC, "ImporteTotal", total)
        _sub(datos, NS_SFLRRC, "TipoHuella", "01")
        _sub(datos, NS_SFLRRC, "Huella", huella)
        self.held[(nif, num_serie, fecha)] = Held((nif, num_serie, fecha), datos)

    # -- answering a consulta -------------------------------------------------------------

    @staticmethod
    def describe(consulta: etree._Element) -> dict[str, Any]:
        """The filters of a ConsultaFactuSistemaFacturacion (what tests assert on)."""
        cabecera = consulta.find(_q(NS_SFLRC, "Cabecera"))
        filtro = consulta.find(_q(NS_SFLRC, "FiltroConsulta"))
        periodo = filtro.find(_q(NS_SFLRC, "PeriodoImputacion"))
        fechas = filtro.find(_q(NS_SFLRC, "FechaExpedicionFactura"))
        rango = fechas.find(_q(NS_SF, "RangoFechaExpedicion")) if fechas is not None else None
        paginacion = filtro.find(_q(NS_SFLRC, "ClavePaginacion"))
        return {
            "nif": cabecera.findtext(f"{_q(NS_SF, 'ObligadoEmision')}/{_q(NS_SF, 'NIF')}"),
            "nombre": cabecera.findtext(
                f"{_q(NS_SF, 'ObligadoEmision')}/{_q(NS_SF, 'NombreRazon')}"
            ),
            "periodo": (
                periodo.findtext(_q(NS_SF, "Ejercicio")),
                periodo.findtext(_q(NS_SF, "Periodo")),
            ),
            "num_serie": filtro.findtext(_q(NS_SFLRC, "NumSerieFactura")),
            "fecha": fechas.findtext(_q(NS_SF, "FechaExpedicionFactura"))
            if fechas is not None
            else None,
            "desde": rango.findtext(_q(NS_SF, "Desde")) if rango is not None else None,
            "hasta": rango.findtext(_q(NS_SF, "Hasta")) if rango is not None else None,
            "clave": tuple(x.text for x in paginacion) if paginacion is not None else None,
        }

    def select(self, f: dict[str, Any]) -> list[Held]:
        out = []
        for held in self.held.values():
            fecha = _fecha_key(held.clave[2])
            if held.clave[0] != f["nif"] or held.periodo != f["periodo"]:
                continue
            if f["num_serie"] is not None and held.clave[1] != f["num_serie"]:
                continue
            if f["fecha"] is not None and held.clave[2] != f["fecha"]:
                continue
            if f["desde"] is not None and fecha < _fecha_key(f["desde"]):
                continue
            if f["hasta"] is not None and fecha > _fecha_key(f["hasta"]):
                continue
            out.append(held)
        return out

    def answer(self, consulta: etree._Element) -> bytes:
        f = self.describe(consulta)
        found = self.select(f)
        if f["clave"] is not None:
            keys = [h.clave for h in found]
            found = found[keys.index(f["clave"]) + 1 :] if f["clave"] in keys else []
        page, more = found[: self.page_size], len(found) > self.page_size
        return respuesta_consulta(f["nif"], f["nombre"] or "Obligado", f["periodo"], page, more)


def respuesta_consulta(
    nif: str, nombre: str, periodo: tuple[str, str], page: list[Held], more: bool
) -> bytes:
    """A SOAP answer with a RespuestaConsultaFactuSistemaFacturacion (schema-valid)."""
    envelope = etree.Element(_q(NS_SOAPENV, "Envelope"), nsmap={"env": NS_SOAPENV})
    _sub(envelope, NS_SOAPENV, "Header")
    body = _sub(envelope, NS_SOAPENV, "Body")
    answer = etree.SubElement(
        body,
        _q(NS_SFLRRC, "RespuestaConsultaFactuSistemaFacturacion"),
        nsmap={"tikLRRC": NS_SFLRRC, "tik": NS_SF},
    )
    cabecera = _sub(answer, NS_SFLRRC, "Cabecera")
    _sub(cabecera, NS_SF, "IDVersion", "1.0")
    obligado = _sub(cabecera, NS_SF, "ObligadoEmision")
    _sub(obligado, NS_SF, "NombreRazon", nombre)
    _sub(obligado, NS_SF, "NIF", nif)
    imputacion = _sub(answer, NS_SFLRRC, "PeriodoImputacion")
    _sub(imputacion, NS_SFLRRC, "Ejercicio", periodo[0])
    _sub(imputacion, NS_SFLRRC, "Periodo", periodo[1])
    _sub(answer, NS_SFLRRC, "IndicadorPaginacion", "S" if more else "N")
    _sub(answer, NS_SFLRRC, "ResultadoConsulta", "ConDatos" if page else "SinDatos")
    for held in page:
        registro = _sub(answer, NS_SFLRRC, "RegistroRespuestaConsultaFactuSistemaFacturacion")
        idf = _sub(registro, NS_SFLRRC, "IDFactura")
        for name, value in zip(
            ("IDEmisorFactura", "NumSerieFactura", "FechaExpedicionFactura"),
            held.clave,
            strict=True,
        ):
            _sub(idf, NS_SF, name, value)
        registro.append(copy.deepcopy(held.datos))
        presentacion = _sub(registro, NS_SFLRRC, "DatosPresentacion")
        _sub(presentacion, NS_SF, "NIFPresentador", nif)
        _sub(presentacion, NS_SF, "TimestampPresentacion", held.presentado)
        _sub(presentacion, NS_SF, "IdPeticion", held.id_peticion)
        estado = _sub(registro, NS_SFLRRC, "EstadoRegistro")
        _sub(estado, NS_SFLRRC, "TimestampUltimaModificacion", held.modificado)
        _sub(estado, NS_SFLRRC, "EstadoRegistro", held.estado)
        if held.codigo is not None:
            _sub(estado, NS_SFLRRC, "CodigoErrorRegistro", str(held.codigo))
        if held.descripcion is not None:
            _sub(estado, NS_SFLRRC, "DescripcionErrorRegistro", held.descripcion)
    if more and page:
        paginacion = _sub(answer, NS_SFLRRC, "ClavePaginacion")
        for name, value in zip(
            ("IDEmisorFactura", "NumSerieFactura", "FechaExpedicionFactura"),
            page[-1].clave,
            strict=True,
        ):
            _sub(paginacion, NS_SF, name, value)
    validate(answer, "RespuestaConsultaLR.xsd")  # the stub only says what the AEAT may say
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


__all__ = ["NS_SFLRC", "Held", "Ledger", "datos_from_alta", "respuesta_consulta"]
