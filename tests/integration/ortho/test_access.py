"""Permissions and cross-tenant: another clinic's ids are 404s, in paths and in bodies."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import add_member
from tests.integration.ortho.conftest import Ortho, ago, aligner_body


def test_receptionist_reads_but_does_not_write(api: Any, clinic: Any, ortho: Ortho) -> None:
    pid = ortho.patient()
    c = ortho.start(pid)["data"]
    rec = Ortho(api, add_member(api, clinic, "receptionist", "Rita")["token"])
    rec.call("get", ortho.case_path(pid, c["case_id"]))
    rec.call("get", "/ortho/alerts")
    rec.call("post", f"/patients/{pid}/ortho/cases", aligner_body(), 403)
    rec.call("post", ortho.case_path(pid, c["case_id"]) + "/visits", {"date": ago(1)}, 403)
    rec.call("post", ortho.case_path(pid, c["case_id"]) + "/reminders", {"kind": "tray"}, 403)


def test_other_clinic_ids_are_not_found(ortho: Ortho, other_ortho: Ortho) -> None:
    pid = ortho.patient()
    c = ortho.start(pid)["data"]
    path = ortho.case_path(pid, c["case_id"])
    other_ortho.call("get", path, status=404)
    other_ortho.call("put", path, aligner_body(start_date=c["start_date"]), 404)
    other_ortho.call("post", path + "/visits", {"date": ago(1)}, 404)
    other_ortho.call("get", path + "/visits", status=404)
    other_ortho.call("post", path + "/tray-changes", {"tray": 2, "date": ago(1)}, 404)
    other_ortho.call("post", path + "/finish", {"finished_on": ago(1)}, 404)
    other_ortho.call("post", path + "/photos", {"image_ids": ["01X"]}, 404)
    other_ortho.call("post", path + "/reminders", {"kind": "tray"}, 404)
    other_ortho.call("post", f"/patients/{pid}/ortho/cases", aligner_body(), 404)
    # their own patient with our case id
    opid = other_ortho.patient()
    other_ortho.call("get", other_ortho.case_path(opid, c["case_id"]), status=404)
    assert not any(
        a["case_id"] == c["case_id"]
        for a in other_ortho.call("get", "/ortho/alerts?limit=50")["data"]["items"]
    )
    assert not any(
        x["case_id"] == c["case_id"]
        for x in other_ortho.call("get", "/ortho/cases?limit=50")["data"]["items"]
    )


def test_our_case_under_another_of_our_patients_is_not_found(ortho: Ortho) -> None:
    pid, pid2 = ortho.patient(), ortho.patient()
    c = ortho.start(pid)["data"]
    ortho.call("get", ortho.case_path(pid2, c["case_id"]), status=404)


def test_other_clinic_appointment_and_photo_in_bodies(
    api: Any, ortho: Ortho, other_clinic: Any
) -> None:
    from tests.integration.agenda.conftest import booked, make_agenda

    ag = make_agenda(api, other_clinic)
    appt = booked(api, ag, f"{ag.monday.isoformat()}T10:00:00")
    pid = ortho.patient()
    c = ortho.start(pid)["data"]
    path = ortho.case_path(pid, c["case_id"])
    r = ortho.call(
        "post", path + "/visits", {"date": ago(1), "appointment_id": appt["appointment_id"]}, 422
    )
    assert r["errors"][0]["field"] == "appointment_id"
    r = ortho.call("post", path + "/photos", {"image_ids": ["01NOTAPHOTO"]}, 422)
    assert r["errors"][0]["field"] == "image_ids[0]"
