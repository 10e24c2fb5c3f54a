"""A VERI*FACTU record that cannot be built is refused at issue with field errors a person can
read, never pydantic's dump ("1 validation error for RegistroAlta ... For further information
visit https://errors.pydantic.dev ...") (issue 13)."""

from __future__ import annotations

from chalicelib.billing import invoices


def test_record_build_error_answers_field_errors_not_a_dump(billing, monkeypatch):
    import chalicelib.verifactu.service  # noqa: F401 - registers the issue hook

    real = invoices.aeat_fields

    def broken(inv):
        fields = real(inv)
        fields["Desglose"][0]["TipoImpositivo"] = "5.5"  # not canonical: the model refuses it
        fields["Desglose"][0]["CalificacionOperacion"] = "S1"
        fields["Desglose"][0].pop("OperacionExenta", None)
        return fields

    monkeypatch.setattr(invoices, "aeat_fields", broken)
    pid = billing.patient_with_nif()
    inv = billing.invoice(pid, [{"treatment_id": billing.treatment("LIM", "60.00")}])
    for lang in ("en", "es"):
        r = billing.api.post(
            f"/billing/invoices/{inv['invoice_id']}/issue",
            token=billing.token,
            headers={"Accept-Language": lang},
        )
        assert r.status == 422, r.body
        body = r.json()
        assert body["code"] == "VERIFACTU_INVALID_RECORD"
        text = r.body.decode()
        assert "validation error" not in text and "pydantic" not in text
        assert "RegistroAlta" not in text and "input_value" not in text
        fields = [e["field"] for e in body["errors"]]
        assert "Desglose.0.TipoImpositivo" in fields, body["errors"]
    assert billing.get(f"/billing/invoices/{inv['invoice_id']}")["status"] == "draft"


def test_plain_errors_name_the_field_and_the_problem_only():
    from pydantic import ValidationError

    from chalicelib.verifactu.records import DetalleDesglose
    from chalicelib.verifactu.service import plain_errors, record_errors

    try:
        DetalleDesglose(
            CalificacionOperacion="S1", TipoImpositivo="5.5", BaseImponibleOimporteNoSujeto="1.00"
        )
    except ValidationError as exc:
        text = plain_errors(exc)
        errors = record_errors(exc, "verifactu")
    assert text.startswith("TipoImpositivo: ") and "5.5" in text
    assert "validation error" not in text and "errors.pydantic.dev" not in text
    assert errors[0]["field"] == "TipoImpositivo"
    assert plain_errors(ValueError("plain")) == "plain"
