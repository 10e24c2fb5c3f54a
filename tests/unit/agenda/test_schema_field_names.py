"""Rules that read several fields name the field at fault in the pydantic error's ``loc`` (so
the API's 422 names it, not ``body``), in both languages (issue 20). No AWS needed."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from chalicelib.agenda.schemas import DayQuery, OpeningHoursIn
from chalicelib.audit.schemas import AuditQuery
from chalicelib.core.i18n import field_message
from chalicelib.identity.schemas import ClinicFields
from chalicelib.patients.schemas import PatientIn, PatientSearch


def only_error(model, data) -> dict:
    with pytest.raises(ValidationError) as err:
        model.model_validate(data)
    (e,) = err.value.errors(include_url=False)
    return e


def test_opening_hours_name_the_range_as_sent():
    e = only_error(
        OpeningHoursIn,
        {"monday": [{"start": "16:00", "end": "20:00"}, {"start": "09:00", "end": "17:00"}]},
    )
    assert e["loc"] == ("monday", 0, "start")
    assert field_message(e, "en") == "overlaps 09:00-17:00 on monday"
    assert field_message(e, "es") == "se solapa con 09:00-17:00 el lunes"
    e = only_error(OpeningHoursIn, {"sunday": [{"start": "12:00", "end": "12:00"}]})
    assert e["loc"] == ("sunday", 0, "end")
    assert field_message(e, "es") == "el fin debe ser posterior al inicio"


def test_a_minor_without_a_guardian_names_legal_guardian():
    born = date(date.today().year - 10, 1, 1).isoformat()
    data = {"first_name": "Leo", "last_name": "Gil", "date_of_birth": born}
    e = only_error(PatientIn, data)
    assert e["loc"] == ("legal_guardian",)
    assert field_message(e, "es") == "es obligatorio para un paciente menor de 18 años"


def test_query_rules_name_their_parameter():
    e = only_error(DayQuery, {"date": "2026-03-02", "cabinet_id": "c", "professional_id": "p"})
    assert e["loc"] == ("professional_id",)
    assert only_error(PatientSearch, {"q": "ana", "email": "a@b.es"})["loc"] == ("email",)
    assert only_error(AuditQuery, {"entity_id": "x"})["loc"] == ("entity_id",)
    assert only_error(AuditQuery, {"from": "2026-01-01T00:00:00"})["loc"] == ("from",)
    e = only_error(AuditQuery, {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
    assert e["loc"] == ("to",)


def test_a_bad_nif_names_tax_id():
    e = only_error(ClinicFields, {"name": "Clínica", "country": "ES", "tax_id": "B12345670"})
    assert e["loc"] == ("tax_id",)
    assert field_message(e, "en").startswith("is not a valid Spanish NIF")
