"""Labs directory and lab cases: happy paths, bad input, permissions, paging, alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.integration.labs.conftest import appointment


def test_lab_directory_create_edit_archive(labs):
    lab = labs.lab(contact="Luis", phone="+34 600 000 000")
    assert lab["name"] == "Dental Lab Sur" and not lab["archived"]
    labs.lab(name="Orto Norte", email="hola@orto.example")
    names = {x["name"] for x in labs.call("get", "/labs")["items"]}
    assert names == {"Dental Lab Sur", "Orto Norte"}
    body = {"name": "Dental Lab Sur SL", "email": "orders@lab-sur.example", "archived": True}
    out = labs.call("put", f"/labs/{lab['lab_id']}", body)
    assert out["archived"] and out["name"] == "Dental Lab Sur SL"
    assert {x["name"] for x in labs.call("get", "/labs")["items"]} == {"Orto Norte"}
    assert len(labs.call("get", "/labs?archived=true")["items"]) == 2


def test_lab_bad_input_is_422_with_fields(labs):
    r = labs.api.post("/labs", {"name": "", "email": "nope"}, token=labs.token)
    assert r.status == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"name", "email"} <= fields


def test_case_create_validates_teeth_lab_and_appointment(api, clinic, labs, other_labs):
    pid = labs.patient()
    lab = labs.lab()
    c = labs.case(pid, lab["lab_id"], teeth=[36, 11, 36])
    assert c["status"] == "draft" and c["teeth"] == [11, 36]
    assert c["history"][0]["to_status"] == "draft" and c["lab_name"] == "Dental Lab Sur"
    r = api.post(
        "/labs/cases",
        {
            "patient_id": pid,
            "lab_id": lab["lab_id"],
            "teeth": [19],
            "work_type": "crown",
            "due_date": "2026-01-01",
        },
        token=labs.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "teeth"
    r = api.post(
        "/labs/cases",
        {"patient_id": pid, "lab_id": lab["lab_id"], "work_type": "tiara", "due_date": "x"},
        token=labs.token,
    )
    assert r.status == 422
    assert {"work_type", "due_date"} <= {e["field"] for e in r.json()["errors"]}
    # another clinic's lab, an appointment of another patient
    other_lab = other_labs.lab()
    labs.case(pid, other_lab["lab_id"], status=422)
    appt = appointment(api, clinic)  # booked for another patient of this clinic
    r = api.post(
        "/labs/cases",
        {
            "patient_id": pid,
            "lab_id": lab["lab_id"],
            "work_type": "crown",
            "due_date": "2030-01-01",
            "appointment_id": appt["appointment_id"],
        },
        token=labs.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "appointment_id"


def test_status_machine_and_history(labs):
    pid = labs.patient()
    c = labs.case(pid, labs.lab()["lab_id"])
    cid = c["case_id"]
    r = labs.api.post(f"/labs/cases/{cid}/status", {"status": "shipped"}, token=labs.token)
    assert r.status == 409 and "borrador" not in r.json()["message"]
    assert r.json()["code"] == "LAB_CASE_BAD_TRANSITION"
    es = labs.api.post(
        f"/labs/cases/{cid}/status",
        {"status": "fitted"},
        token=labs.token,
        headers={"Accept-Language": "es"},
    )
    assert es.status == 409 and "no puede pasar a" in es.json()["message"]
    labs.move(cid, "sent", status=409)  # only by sending
    labs.send(cid, email=False)
    for to in (
        "in_progress",
        "shipped",
        "received",
        "returned_for_remake",
        "in_progress",
        "shipped",
        "received",
        "fitted",
    ):
        out = labs.move(cid, to)
    assert out["status"] == "fitted"
    assert [h["to_status"] for h in out["history"]] == [
        "draft",
        "sent",
        "in_progress",
        "shipped",
        "received",
        "returned_for_remake",
        "in_progress",
        "shipped",
        "received",
        "fitted",
    ]
    assert all(h["by"] == "staff" for h in out["history"])
    labs.move(cid, "received", status=409)
    # a fitted case is closed for edits
    body = {"lab_id": out["lab_id"], "work_type": "bridge", "due_date": "2030-01-01"}
    r = labs.api.put(f"/labs/cases/{cid}", body, token=labs.token)
    assert r.status == 409


def test_update_case_and_appointment_listing(api, clinic, labs, other_labs):
    appt = appointment(api, clinic)
    pid = appt["patient_id"]
    lab = labs.lab()
    c = labs.case(pid, lab["lab_id"], appointment_id=appt["appointment_id"])
    assert c["appointment_start"]
    listed = labs.call("get", f"/appointments/{appt['appointment_id']}/lab-cases")
    assert [x["case_id"] for x in listed] == [c["case_id"]]
    # another clinic asking for our appointment's cases: as if it did not exist
    r = api.get(f"/appointments/{appt['appointment_id']}/lab-cases", token=other_labs.token)
    assert r.status == 404 and r.json()["code"] == "APPOINTMENT_NOT_FOUND"
    body = {
        "lab_id": lab["lab_id"],
        "work_type": "bridge",
        "teeth": [35, 36, 37],
        "due_date": "2030-01-01",
    }
    out = labs.call("put", f"/labs/cases/{c['case_id']}", body)
    assert out["work_type"] == "bridge" and out["appointment_id"] is None
    assert labs.call("get", f"/appointments/{appt['appointment_id']}/lab-cases") == []


def test_lists_by_status_lab_patient_and_paging(labs):
    pid, pid2 = labs.patient(), labs.patient(first_name="Otra")
    a, b = labs.lab()["lab_id"], labs.lab(name="B")["lab_id"]
    ids = [labs.case(pid, a, due_date=f"2030-01-0{i + 1}")["case_id"] for i in range(3)]
    labs.case(pid2, b)
    labs.send(ids[0], email=False)
    drafts = labs.call("get", "/labs/cases?status=draft")["items"]
    order = [x["case_id"] for x in drafts]
    assert order.index(ids[1]) < order.index(ids[2])  # earliest due first
    assert len(drafts) == 3
    assert len(labs.call("get", f"/labs/cases?lab_id={a}")["items"]) == 3
    assert [
        x["case_id"] for x in labs.call("get", f"/labs/cases?lab_id={a}&status=sent")["items"]
    ] == [ids[0]]
    page = labs.call("get", "/labs/cases?limit=2")
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = labs.call("get", f"/labs/cases?limit=2&cursor={page['next_cursor']}")
    assert len(rest["items"]) == 2
    mine = labs.call("get", f"/patients/{pid}/lab-cases")["items"]
    assert {x["case_id"] for x in mine} == set(ids)
    assert mine[0]["patient_name"]
    r = labs.api.get("/labs/cases?cursor=garbage", token=labs.token)
    assert r.status == 400
    r = labs.api.get("/labs/cases?status=lost", token=labs.token)
    assert r.status == 422


def test_alerts_overdue_and_not_back_before_fitting(api, clinic, labs, monkeypatch):
    from chalicelib.labs import service

    pid = labs.patient()
    lab = labs.lab()["lab_id"]
    overdue = labs.case(pid, lab, due_date=(date.today() - timedelta(days=2)).isoformat())
    assert overdue["alerts"] == ["overdue"]
    labs.case(pid, lab, due_date="2030-01-01")  # fine
    appt = appointment(api, clinic)
    fit = labs.case(
        appt["patient_id"], lab, appointment_id=appt["appointment_id"], due_date="2030-01-01"
    )
    assert fit["alerts"] == []
    alerts = labs.call("get", "/labs/alerts")["items"]
    assert [x["case_id"] for x in alerts] == [overdue["case_id"]]
    # 47 hours before the fitting appointment: it is not back
    start = datetime.fromisoformat(appt["start"])
    monkeypatch.setattr(service, "now", lambda: start.astimezone(UTC) - timedelta(hours=47))
    alerts = labs.call("get", "/labs/alerts")["items"]
    got = {x["case_id"]: x["alerts"] for x in alerts}
    assert got[fit["case_id"]] == ["not_back"]
    # once received, no alert
    monkeypatch.undo()
    labs.send(fit["case_id"], email=False)
    for to in ("in_progress", "shipped", "received"):
        labs.move(fit["case_id"], to)
    monkeypatch.setattr(service, "now", lambda: start.astimezone(UTC) - timedelta(hours=47))
    ids = [x["case_id"] for x in labs.call("get", "/labs/alerts")["items"]]
    assert fit["case_id"] not in ids and overdue["case_id"] in ids


def test_eod_section_lists_alerts(labs, clinic):
    from chalicelib.labs import eod

    assert eod.section(clinic.clinic_id, date.today(), "es") is None
    pid = labs.patient()
    labs.case(pid, labs.lab()["lab_id"], due_date=(date.today() - timedelta(days=1)).isoformat())
    s = eod.section(clinic.clinic_id, date.today(), "en")
    assert s is not None and "overdue" in s.lines[0] and "/labs" in s.lines[-1]


@pytest.mark.parametrize("role", ["hygienist"])
def test_permissions(api, clinic, labs, hygienist, role):
    pid = labs.patient()
    lab = labs.lab()["lab_id"]
    c = labs.case(pid, lab)
    t = hygienist["token"]
    assert api.get("/labs/cases", token=t).status == 200
    assert api.get(f"/labs/cases/{c['case_id']}", token=t).status == 200
    assert api.post("/labs", {"name": "X", "email": "x@x.example"}, token=t).status == 403
    assert api.post(f"/labs/cases/{c['case_id']}/send", {}, token=t).status == 403
    assert (
        api.post(f"/labs/cases/{c['case_id']}/status", {"status": "fitted"}, token=t).status == 403
    )
    assert api.delete(f"/labs/cases/{c['case_id']}/link", token=t).status == 403


def test_cross_tenant_ids_are_404(api, labs, other_labs):
    pid = labs.patient()
    lab = labs.lab()
    c = labs.case(pid, lab["lab_id"])
    o = other_labs.token
    cid = c["case_id"]
    for method, path, body in [
        ("get", f"/labs/cases/{cid}", None),
        (
            "put",
            f"/labs/cases/{cid}",
            {"lab_id": lab["lab_id"], "work_type": "crown", "due_date": "2030-01-01"},
        ),
        ("post", f"/labs/cases/{cid}/status", {"status": "in_progress"}),
        ("post", f"/labs/cases/{cid}/send", {}),
        ("delete", f"/labs/cases/{cid}/link", None),
        (
            "post",
            f"/labs/cases/{cid}/files",
            {"filename": "a.png", "content_type": "image/png", "size": 10},
        ),
        ("put", f"/labs/{lab['lab_id']}", {"name": "x", "email": "x@x.example"}),
        ("get", f"/patients/{pid}/lab-cases", None),
        ("post", f"/labs/cases/{cid}/files/01ARZ3NDEKTSV4RRFFQ69G5FAV/complete", None),
    ]:
        fn = getattr(api, method)
        r = fn(path, body, token=o) if body is not None else fn(path, token=o)
        assert r.status == 404, (method, path, r.status)
    # our ids in the other clinic's body
    opid = other_labs.patient()
    other_labs.case(opid, lab["lab_id"], status=422)
    olab = other_labs.lab()
    other_labs.case(pid, olab["lab_id"], status=404)
    assert lab["lab_id"] not in str(other_labs.call("get", "/labs?archived=true"))
    assert cid not in str(other_labs.call("get", "/labs/cases"))
    assert cid not in str(other_labs.call("get", f"/labs/cases?lab_id={lab['lab_id']}"))


def test_files_staff_upload_checks_type_size_and_bytes(api, labs):
    import requests

    pid = labs.patient()
    c = labs.case(pid, labs.lab()["lab_id"])
    cid = c["case_id"]
    r = api.post(
        f"/labs/cases/{cid}/files",
        {"filename": "scan.exe", "content_type": "application/octet-stream", "size": 5},
        token=labs.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "filename"
    r = api.post(
        f"/labs/cases/{cid}/files",
        {"filename": "a.png", "content_type": "image/png", "size": 30 * 1024 * 1024},
        token=labs.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "size"
    up = labs.call(
        "post",
        f"/labs/cases/{cid}/files",
        {"filename": "foto.png", "content_type": "image/png", "size": 64},
        201,
    )
    assert up["file"]["status"] == "pending"
    assert up["upload"]["fields"]["key"].startswith("clinics/")
    labs.call("post", f"/labs/cases/{cid}/files/{up['file']['file_id']}/complete", None, 409)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 40
    resp = requests.post(
        up["upload"]["url"],
        data=up["upload"]["fields"],
        files={"file": ("foto.png", png, "image/png")},
        timeout=10,
    )
    assert resp.status_code in (200, 201, 204)
    f = labs.call("post", f"/labs/cases/{cid}/files/{up['file']['file_id']}/complete")
    assert f["status"] == "available" and f["by"] == "staff"
    got = labs.call("get", f"/labs/cases/{cid}")
    assert got["files"][0]["url"]
