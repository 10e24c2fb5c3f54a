"""Parallel bookings of the same slot: exactly one wins, the others are told the slot was just
taken, and nothing is half-written (one appointment, one set of locks, no orphan)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from chalicelib.agenda.models import Appointment, SlotLock
from chalicelib.booking import service as booking
from chalicelib.core.db import clinic_pk
from chalicelib.identity.models import Clinic
from tests.integration.patients.helpers import create_patient


def test_n_parallel_bookings_of_one_slot_one_wins(api, bk):
    b = bk
    cid = b.ag.clinic_id
    n = 6
    pids = [
        create_patient(api, b.ag.token, first_name=f"P{i}", last_name="Paralelo")["patient_id"]
        for i in range(n)
    ]
    ctx = booking.context(cid)
    t = ctx.types()[0]
    start = booking.parse_start(ctx, b.start)
    principal = booking.online_principal(Clinic.get(*Clinic.key(cid)), "10.0.0.1", "pytest")

    def one(pid: str) -> str:
        try:
            booking.book(booking.context(cid), principal, pid, t, start, None)
            return "ok"
        except booking.Refused as exc:
            return exc.reason

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, pids))
    assert results.count("ok") == 1, results
    assert set(results) - {"ok"} <= {"taken", "gone"}, results
    appts = [
        a
        for a in Appointment.query(clinic_pk(cid), Appointment.SK.startswith("APPT#"))
        if isinstance(a, Appointment)
    ]
    assert len(appts) == 1 and appts[0].source == "online"
    locks = [
        s
        for s in SlotLock.query(clinic_pk(cid), SlotLock.SK.startswith("SLOT#CAB#"))
        if isinstance(s, SlotLock)
    ]
    assert locks and {s.appointment_id for s in locks} == {appts[0].appointment_id}
    assert datetime.fromisoformat(appts[0].start).strftime("%H:%M") == "10:00"
