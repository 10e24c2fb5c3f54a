"""Orthodontic cases: start (one active), plan, visits, tray changes, finish, figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.integration.ortho.conftest import Ortho, ago, aligner_body, today


def test_start_an_aligner_case_and_its_derived_dates(ortho: Ortho, published) -> None:
    pid = ortho.patient()
    c = ortho.start(pid)["data"]
    assert c["status"] == "active" and c["current_tray"] == 1
    start = today() - timedelta(days=60)
    assert c["next_tray_date"] == (start + timedelta(days=14)).isoformat()
    assert c["next_visit_due"] == (start + timedelta(weeks=6)).isoformat()
    assert c["current_phase"] == 0
    assert c["planned_end"] > c["start_date"]
    got = ortho.call("get", ortho.case_path(pid, c["case_id"]))["data"]
    assert got["phases"][0]["kind"] == "levelling"
    listed = ortho.call("get", f"/patients/{pid}/ortho/cases")["data"]["items"]
    assert [x["case_id"] for x in listed] == [c["case_id"]]
    names = [n for n, _ in published]
    assert "ortho.case_started" in names
    detail = next(d for n, d in published if n == "ortho.case_started")
    assert detail["case_id"] == c["case_id"] and "start_date" not in detail


def test_one_active_case_per_patient(ortho: Ortho) -> None:
    pid = ortho.patient()
    ortho.start(pid)
    r = ortho.start(pid, status=409)
    assert r["code"] == "ORTHO_CASE_ACTIVE"


def test_bad_plans_give_field_errors(ortho: Ortho) -> None:
    pid = ortho.patient()
    r = ortho.start(
        pid,
        status=422,
        current_tray=31,
        phases=[{"kind": "levelling", "planned_start": ago(10), "planned_end": ago(20)}],
    )
    fields = {e["field"] for e in r["errors"]}
    assert {"current_tray", "phases[0].planned_end"} <= fields
    r = ortho.start(pid, status=422, phases=[{"kind": "custom"}])
    assert r["errors"][0]["field"] == "phases[0].name"
    r = ortho.start(pid, status=422, total_trays=None)
    assert r["errors"][0]["field"] == "total_trays"
    r = ortho.start(pid, status=422, phases=[{"kind": "levelling", "actual_end": ago(1)}])
    assert r["errors"][0]["field"] == "phases[0].actual_end"
    # nothing half-written: the patient can still start a case
    ortho.start(pid)


def test_tray_change_moves_the_next_switch_date(ortho: Ortho, published) -> None:
    pid = ortho.patient()
    c = ortho.start(pid)["data"]
    path = ortho.case_path(pid, c["case_id"])
    c2 = ortho.call("post", path + "/tray-changes", {"tray": 2, "date": ago(3)})["data"]
    assert c2["current_tray"] == 2 and c2["tray_since"] == ago(3)
    assert c2["next_tray_date"] == (today() - timedelta(days=3) + timedelta(14)).isoformat()
    r = ortho.call("post", path + "/tray-changes", {"tray": 31, "date": ago(1)}, status=422)
    assert r["errors"][0]["field"] == "tray"
    r = ortho.call("post", path + "/tray-changes", {"tray": 2, "date": ago(1)}, status=422)
    assert r["errors"][0]["field"] == "tray"
    r = ortho.call("post", path + "/tray-changes", {"tray": 3, "date": ago(10)}, status=422)
    assert r["errors"][0]["field"] == "date"
    d = next(d for n, d in published if n == "ortho.tray_changed")
    assert d["tray"] == 2 and d["previous_tray"] == 1


def test_tray_change_refused_on_brackets(ortho: Ortho) -> None:
    pid = ortho.patient()
    c = ortho.start(
        pid,
        appliance="brackets",
        bracket_material="ceramic",
        total_trays=None,
        days_per_tray=None,
    )["data"]
    assert c["current_tray"] is None and c["next_tray_date"] is None
    r = ortho.call(
        "post",
        ortho.case_path(pid, c["case_id"]) + "/tray-changes",
        {"tray": 2, "date": ago(1)},
        status=409,
    )
    assert r["code"] == "ORTHO_NOT_ALIGNERS"


def test_visits_are_recorded_paged_and_move_the_due_date(ortho: Ortho, api: Any) -> None:
    pid = ortho.patient()
    c = ortho.start(pid)["data"]
    path = ortho.case_path(pid, c["case_id"])
    for days, tray in ((50, None), (30, 3), (10, None)):
        v = ortho.call(
            "post", path + "/visits", {"date": ago(days), "note": "Bien", "tray": tray}, 201
        )["data"]
        assert v["note"] == "Bien"
    got = ortho.call("get", path)["data"]
    assert got["last_visit"] == ago(10)
    assert got["current_tray"] == 3 and got["tray_since"] == ago(30)
    assert got["next_visit_due"] == (today() - timedelta(days=10) + timedelta(weeks=6)).isoformat()
    page1 = ortho.call("get", path + "/visits?limit=2")["data"]
    assert [v["date"] for v in page1["items"]] == [ago(10), ago(30)]
    page2 = ortho.call("get", path + f"/visits?limit=2&cursor={page1['next_cursor']}")["data"]
    assert [v["date"] for v in page2["items"]] == [ago(50)]
    r = ortho.call("post", path + "/visits", {"date": ago(90)}, 422)
    assert r["errors"][0]["field"] == "date"
    r = ortho.call("post", path + "/visits", {"date": ago(1), "tray": 99}, 422)
    assert r["errors"][0]["field"] == "tray"
    r = ortho.call("post", path + "/visits", {"date": ago(1), "appointment_id": "01NOPE"}, 422)
    assert r["errors"][0]["field"] == "appointment_id"


def test_update_plan_and_finish(ortho: Ortho, admin_ortho: Ortho) -> None:
    before = admin_ortho.call("get", "/ortho/figures")["data"]
    pid = ortho.patient()
    c = ortho.start(pid)["data"]
    path = ortho.case_path(pid, c["case_id"])
    body = aligner_body(
        start_date=c["start_date"],
        phases=[
            {"kind": "levelling", "actual_start": ago(60), "actual_end": ago(20)},
            {"kind": "retention", "actual_start": ago(20)},
        ],
    )
    c2 = ortho.call("put", path, body)["data"]
    assert c2["current_phase"] == 1 and c2["version"] == 2
    r = ortho.call("put", path, {**body, "appliance": "brackets"}, 422)
    assert r["errors"][0]["field"] == "appliance"
    r = ortho.call("post", path + "/finish", {"finished_on": ago(61)}, 422)
    assert r["errors"][0]["field"] == "finished_on"
    mid = admin_ortho.call("get", "/ortho/figures")["data"]
    assert mid["active"] == before["active"] + 1
    done = ortho.call("post", path + "/finish", {"finished_on": today().isoformat()})["data"]
    assert done["status"] == "finished" and done["next_visit_due"] is None
    r = ortho.call("post", path + "/visits", {"date": ago(1)}, 409)
    assert r["code"] == "ORTHO_CASE_FINISHED"
    after = admin_ortho.call("get", "/ortho/figures")["data"]
    assert after["active"] == before["active"]
    assert after["finished_this_month"] == before["finished_this_month"] + 1
    assert after["finished_total"] == before["finished_total"] + 1
    assert after["average_months"] is not None and after["average_planned_months"] is not None
    # a finished case is kept, and the patient can start another
    ortho.start(pid, start_date=today().isoformat(), phases=[], milestones=[])
    assert len(ortho.call("get", f"/patients/{pid}/ortho/cases")["data"]["items"]) == 2


def test_figures_count_started_this_month(admin_ortho: Ortho) -> None:
    before = admin_ortho.call("get", "/ortho/figures")["data"]
    pid = admin_ortho.patient()
    admin_ortho.start(pid, start_date=today().isoformat(), phases=[], milestones=[])
    after = admin_ortho.call("get", "/ortho/figures")["data"]
    assert after["started_this_month"] == before["started_this_month"] + 1
    assert after["month"] == today().isoformat()[:7]


def test_active_cases_list_with_names(admin_ortho: Ortho) -> None:
    pid = admin_ortho.patient(first_name="Irene", last_name="Ortega")
    c = admin_ortho.start(pid)["data"]
    items = admin_ortho.call("get", "/ortho/cases?limit=50")["data"]["items"]
    mine = [i for i in items if i["case_id"] == c["case_id"]]
    assert mine and mine[0]["patient_name"] == "Irene Ortega"
