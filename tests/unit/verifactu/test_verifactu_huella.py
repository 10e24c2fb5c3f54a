"""The huella against the AEAT's own worked examples (AEAT_huella_hash v0.1.2, section 6)."""

from __future__ import annotations

import re

import pytest

from chalicelib.verifactu import cadena_alta, cadena_anulacion, huella_alta, huella_anulacion

# Section 6.1: first record of the SIF (alta), no previous huella.
CASO_1 = {
    "IDEmisorFactura": "89890001K",
    "NumSerieFactura": "12345678/G33",
    "FechaExpedicionFactura": "01-01-2024",
    "TipoFactura": "F1",
    "CuotaTotal": "12.35",
    "ImporteTotal": "123.45",
    "Huella": "",
    "FechaHoraHusoGenRegistro": "2024-01-01T19:20:30+01:00",
}
CADENA_1 = (
    "IDEmisorFactura=89890001K&NumSerieFactura=12345678/G33&FechaExpedicionFactura=01-01-2024"
    "&TipoFactura=F1&CuotaTotal=12.35&ImporteTotal=123.45&Huella="
    "&FechaHoraHusoGenRegistro=2024-01-01T19:20:30+01:00"
)
HUELLA_1 = "3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60"

# Section 6.2: second record (alta) chained to case 1.
CASO_2 = {
    "IDEmisorFactura": "89890001K",
    "NumSerieFactura": "12345679/G34",
    "FechaExpedicionFactura": "01-01-2024",
    "TipoFactura": "F1",
    "CuotaTotal": "12.35",
    "ImporteTotal": "123.45",
    "Huella": HUELLA_1,
    "FechaHoraHusoGenRegistro": "2024-01-01T19:20:35+01:00",
}
CADENA_2 = (
    "IDEmisorFactura=89890001K&NumSerieFactura=12345679/G34&FechaExpedicionFactura=01-01-2024"
    "&TipoFactura=F1&CuotaTotal=12.35&ImporteTotal=123.45"
    "&Huella=3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60"
    "&FechaHoraHusoGenRegistro=2024-01-01T19:20:35+01:00"
)
HUELLA_2 = "F7B94CFD8924EDFF273501B01EE5153E4CE8F259766F88CF6ACB8935802A2B97"

# Section 6.3: anulación chained to case 2.
CASO_3 = {
    "IDEmisorFacturaAnulada": "89890001K",
    "NumSerieFacturaAnulada": "12345679/G34",
    "FechaExpedicionFacturaAnulada": "01-01-2024",
    "Huella": HUELLA_2,
    "FechaHoraHusoGenRegistro": "2024-01-01T19:20:40+01:00",
}
CADENA_3 = (
    "IDEmisorFacturaAnulada=89890001K&NumSerieFacturaAnulada=12345679/G34"
    "&FechaExpedicionFacturaAnulada=01-01-2024"
    "&Huella=F7B94CFD8924EDFF273501B01EE5153E4CE8F259766F88CF6ACB8935802A2B97"
    "&FechaHoraHusoGenRegistro=2024-01-01T19:20:40+01:00"
)
HUELLA_3 = "177547C0D57AC74748561D054A9CEC14B4C4EA23D1BEFD6F2E69E3A388F90C68"


def test_caso_1_primer_registro_alta() -> None:
    assert cadena_alta(CASO_1) == CADENA_1
    assert huella_alta(CASO_1) == HUELLA_1


def test_caso_2_alta_encadenada() -> None:
    assert cadena_alta(CASO_2) == CADENA_2
    assert huella_alta(CASO_2) == HUELLA_2


def test_caso_3_anulacion_encadenada() -> None:
    assert cadena_anulacion(CASO_3) == CADENA_3
    assert huella_anulacion(CASO_3) == HUELLA_3


def test_public_import_path_and_output_format() -> None:
    from chalicelib.verifactu import huella_alta as public_alta
    from chalicelib.verifactu import huella_anulacion as public_anulacion

    assert public_alta(CASO_2) == HUELLA_2
    assert public_anulacion(CASO_3) == HUELLA_3
    digest = public_alta(dict(CASO_1, NumSerieFactura="otra"))
    assert re.fullmatch(r"[0-9A-F]{64}", digest)


@pytest.mark.parametrize("absent", [None, "", "missing"])
def test_first_record_previous_huella_may_be_absent_none_or_empty(absent: str | None) -> None:
    fields = dict(CASO_1)
    if absent == "missing":
        del fields["Huella"]
    else:
        fields["Huella"] = absent  # type: ignore[assignment]
    assert huella_alta(fields) == HUELLA_1


def test_values_are_trimmed_and_key_order_and_extra_keys_do_not_matter() -> None:
    padded = {name: f"  {value}  " for name, value in reversed(list(CASO_2.items()))}
    padded["NombreRazonEmisor"] = "ignored"
    assert huella_alta(padded) == HUELLA_2
    # The section 3 example: "    12345678 / G33  " is hashed as "12345678 / G33".
    inner = dict(CASO_1, NumSerieFactura="    12345678 / G33  ")
    assert "NumSerieFactura=12345678 / G33&" in cadena_alta(inner)


def test_every_field_changes_the_digest() -> None:
    for name in CASO_2:
        changed = dict(CASO_2)
        changed[name] = CASO_2[name][:-1] + ("0" if not CASO_2[name].endswith("0") else "1")
        assert huella_alta(changed) != HUELLA_2, name
    for name in CASO_3:
        changed = dict(CASO_3)
        changed[name] = CASO_3[name][:-1] + ("0" if not CASO_3[name].endswith("0") else "1")
        assert huella_anulacion(changed) != HUELLA_3, name


def test_utf8_encoding_of_non_ascii_values() -> None:
    import hashlib

    fields = dict(CASO_1, NumSerieFactura="Ñ-1")
    expected = hashlib.sha256(cadena_alta(fields).encode("utf-8")).hexdigest().upper()
    assert huella_alta(fields) == expected
    assert (
        huella_alta(fields)
        != hashlib.sha256(cadena_alta(fields).encode("latin-1")).hexdigest().upper()
    )


@pytest.mark.parametrize("name", ["IDEmisorFactura", "CuotaTotal", "FechaHoraHusoGenRegistro"])
def test_missing_mandatory_field_is_an_error_not_an_empty_value(name: str) -> None:
    fields = dict(CASO_2)
    del fields[name]
    with pytest.raises(ValueError, match=name):
        huella_alta(fields)


def test_non_text_values_are_refused() -> None:
    from decimal import Decimal

    with pytest.raises(TypeError):
        huella_alta(dict(CASO_1, ImporteTotal=Decimal("123.45")))  # type: ignore[dict-item]
