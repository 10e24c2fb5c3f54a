"""The demo seed switches online booking on with three types and books upcoming online
appointments through the page's own path (so the agenda shows the mark)."""

from __future__ import annotations

from typing import Any

from chalicelib.agenda.models import Appointment
from chalicelib.core.db import clinic_pk
from infra.local.seed import booking as booking_seed
from infra.local.seed.context import DemoContext
from tests.integration.agenda.conftest import make_agenda
from tests.integration.conftest import admin_principal
from tests.integration.patients.helpers import create_patient


def test_demo_online_booking(api: Any, clinic: Any) -> None:
    ag = make_agenda(api, clinic)
    pids = [
        create_patient(api, ag.token, first_name=n, last_name="Demo")["patient_id"]
        for n in ("Ana", "Bea", "Carla")
    ]
    ctx = DemoContext(
        demo_clinic_id=clinic.clinic_id,
        norte_clinic_id="-",
        demo={"admin": admin_principal(clinic)},
    )
    booking_seed.seed(ctx, pids)
    s = api.get("/booking/settings", token=ag.token).json()["data"]
    assert s["enabled"] and [t["type_id"] for t in s["types"]] == [
        "revision",
        "limpieza",
        "primera",
    ]
    online = [
        a
        for a in Appointment.query(clinic_pk(clinic.clinic_id), Appointment.SK.startswith("APPT#"))
        if isinstance(a, Appointment) and a.source == "online"
    ]
    assert len(online) == 3
