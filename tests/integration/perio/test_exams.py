"""Periodontal exams over the API: a draft saved as the hygienist goes, the indices, completion
(locked), amendments, the comparison with the previous exam and paging."""

from __future__ import annotations

import copy

from tests.integration.ddb_calls import dynamodb_calls
from tests.integration.perio.conftest import CHART

INDICES = {
    "sites_examined": 9,
    "teeth_examined": 2,
    "teeth_missing": 1,
    "implants": 1,
    "bop_sites": 4,
    "bop_percent": 44.4,
    "plaque_sites": 2,
    "plaque_percent": 22.2,
    "suppuration_sites": 1,
    "sites_pd_ge4": 3,
    "sites_pd_ge6": 1,
    "mean_pd": 3.11,
    "mean_cal": 3.78,
}


def test_a_draft_is_saved_then_completed_and_locked(perio, published):
    pid = perio.patient()
    e = perio.start(pid)
    assert e["status"] == "draft" and e["teeth"] == {} and e["version"] == 1
    assert e["indices"]["sites_examined"] == 0 and e["indices"]["bop_percent"] is None

    e = perio.save(e, {"16": {"sites": {"MB": {"pd": 3}}}})
    assert e["version"] == 2 and e["teeth"]["16"]["sites"]["MB"]["pd"] == 3
    e = perio.save(e, CHART)
    assert e["indices"] == INDICES
    site = e["teeth"]["16"]["sites"]["DB"]
    assert (site["pd"], site["gm"], site["cal"], site["bop"]) == (5, 2, 7, True)
    assert e["teeth"]["26"] == {
        "state": "missing",
        "mobility": None,
        "furcation": None,
        "sites": {},
    }
    assert perio.get(f"/perio/exams/{e['exam_id']}")["indices"] == INDICES

    n = len(published)
    done = perio.complete(e)
    assert done["status"] == "completed" and done["completed_at"] and done["version"] == 4
    assert [x for x, _ in published[n:]] == ["perio.exam_completed"]
    d = published[-1][1]
    assert d["exam_id"] == e["exam_id"] and d["patient_id"] == pid
    assert set(d) - {"event_id", "clinic_id", "occurred_at", "actor"} == {
        "exam_id",
        "patient_id",
        "appointment_id",
        "amends",
    }

    r = perio.api.put(
        f"/perio/exams/{e['exam_id']}",
        {"version": done["version"], "teeth": {}},
        token=perio.token,
    )
    assert r.status == 409 and r.json()["code"] == "PERIO_EXAM_LOCKED"
    r = perio.api.delete(f"/perio/exams/{e['exam_id']}", token=perio.token)
    assert r.status == 409
    r = perio.api.post(
        f"/perio/exams/{e['exam_id']}/complete", {"version": done["version"]}, token=perio.token
    )
    assert r.status == 409 and r.json()["code"] == "PERIO_EXAM_LOCKED"
    assert perio.get(f"/perio/exams/{e['exam_id']}")["indices"] == INDICES


def test_a_stale_save_is_refused_not_lost(perio):
    e = perio.start(perio.patient())
    newer = perio.save(e, {"11": {"sites": {"B": {"pd": 2}}}})
    r = perio.api.put(
        f"/perio/exams/{e['exam_id']}", {"version": 1, "teeth": {}}, token=perio.token
    )
    assert r.status == 409 and r.json()["code"] == "PERIO_EXAM_STALE"
    again = perio.get(f"/perio/exams/{e['exam_id']}")
    assert again["version"] == newer["version"] and again["teeth"]["11"]["sites"]["B"]["pd"] == 2


def test_an_empty_exam_cannot_be_completed_and_a_draft_can_be_discarded(perio):
    pid = perio.patient()
    e = perio.start(pid)
    r = perio.api.post(f"/perio/exams/{e['exam_id']}/complete", {"version": 1}, token=perio.token)
    assert r.status == 422 and r.json()["errors"][0]["field"] == "teeth"
    r = perio.api.delete(f"/perio/exams/{e['exam_id']}", token=perio.token)
    assert r.status == 204
    perio.get(f"/perio/exams/{e['exam_id']}", 404)
    assert perio.get(f"/patients/{pid}/perio-exams")["items"] == []


def _later(chart: dict) -> dict:
    later = copy.deepcopy(chart)
    s = later["16"]["sites"]
    s["DB"]["pd"] = 3  # 5 -> 3: improved
    s["DL"]["pd"] = 8  # 6 -> 8: worse
    s["MB"]["pd"] = 4  # 3 -> 4: stable (within probing error)
    del later["11"]
    return later


def test_comparison_with_the_previous_exam(perio):
    pid = perio.patient()
    first = perio.completed(pid, CHART, "2026-01-10")
    second = perio.start(pid, exam_date="2026-06-10", teeth=_later(CHART))
    assert second["previous_exam_id"] == first["exam_id"]
    c = perio.get(f"/perio/exams/{second['exam_id']}/compare")
    assert c["base_exam_id"] == first["exam_id"] and c["base_exam_date"] == "2026-01-10"
    assert (c["improved"], c["worse"], c["stable"]) == (1, 1, 4)
    by_site = {(s["tooth"], s["site"]): s for s in c["sites"]}
    assert set(by_site) == {("16", x) for x in ("MB", "B", "DB", "ML", "L", "DL")}
    db = by_site[("16", "DB")]
    assert (db["pd_before"], db["pd_after"], db["pd_delta"], db["change"]) == (5, 3, -2, "improved")
    assert (db["cal_before"], db["cal_after"], db["cal_delta"]) == (7, 5, -2)
    assert by_site[("16", "DL")]["change"] == "worse"
    assert by_site[("16", "MB")]["change"] == "stable"
    # 6 sites, bop 3 (50 %), >=4: MB, ML, DL = 3 (as before); >=6: DL; mean PD 24/6 = 4
    assert c["indices_after"]["bop_percent"] == 50.0
    assert c["index_deltas"]["bop_percent"] == round(50.0 - 44.4, 2)
    assert c["index_deltas"]["sites_pd_ge4"] == 0 and c["index_deltas"]["sites_pd_ge6"] == 0
    assert c["index_deltas"]["mean_pd"] == round(4.0 - 3.11, 2)

    # The other way round, explicitly
    back = perio.get(f"/perio/exams/{first['exam_id']}/compare?with={second['exam_id']}")
    assert back["base_exam_id"] == second["exam_id"] and back["improved"] == 1
    # The first has nothing before it
    none = perio.get(f"/perio/exams/{first['exam_id']}/compare")
    assert none["base_exam_id"] is None and none["sites"] == [] and none["index_deltas"] is None
    # Comparing with itself or with another patient's exam is refused
    other = perio.completed(perio.patient(), CHART)
    for bad in (first["exam_id"], other["exam_id"], "01HZZZZZZZZZZZZZZZZZZZZZZZ"):
        r = perio.api.get(f"/perio/exams/{first['exam_id']}/compare?with={bad}", token=perio.token)
        assert r.status == 422 and r.json()["errors"][0]["field"] == "query.with"


def test_an_amendment_takes_the_place_of_the_exam_it_corrects(perio, published):
    pid = perio.patient()
    first = perio.completed(pid, CHART, "2026-01-10")
    amend = perio.start(pid, exam_date=None, amends=first["exam_id"])
    assert amend["exam_date"] == "2026-01-10" and amend["amends"] == first["exam_id"]
    assert amend["indices"] == INDICES  # starts from the original's chart
    assert amend["previous_exam_id"] is None  # not the exam it corrects
    fixed = copy.deepcopy(CHART)
    fixed["16"]["sites"]["DL"]["pd"] = 5
    amend = perio.save(amend, fixed)
    r = perio.api.post(
        f"/patients/{pid}/perio-exams",
        {"amends": first["exam_id"], "exam_date": "2026-02-01"},
        token=perio.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "exam_date"
    n = len(published)
    done = perio.complete(amend)
    assert published[n][1]["amends"] == first["exam_id"]
    assert perio.get(f"/perio/exams/{first['exam_id']}")["amended_by"] == done["exam_id"]
    # Both stay visible; the original stays locked and cannot be amended twice
    items = perio.get(f"/patients/{pid}/perio-exams")["items"]
    assert {i["exam_id"] for i in items} == {first["exam_id"], done["exam_id"]}
    r = perio.api.post(
        f"/patients/{pid}/perio-exams", {"amends": first["exam_id"]}, token=perio.token
    )
    assert r.status == 409 and r.json()["code"] == "PERIO_EXAM_AMENDED"
    # A later exam compares with the amendment, not with the corrected original
    later = perio.start(pid, exam_date="2026-05-01")
    assert later["previous_exam_id"] == done["exam_id"]
    # A draft cannot be amended
    r = perio.api.post(
        f"/patients/{pid}/perio-exams", {"amends": later["exam_id"]}, token=perio.token
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "amends"


def test_linked_to_an_appointment_of_the_patient_only(api, perio, clinic):
    from tests.integration.agenda.conftest import at, booked, make_agenda  # noqa: PLC0415

    ag = make_agenda(api, clinic)
    a = booked(api, ag, at(ag.monday, "10:00"))
    e = perio.start(ag.patient_id, appointment_id=a["appointment_id"])
    assert e["appointment_id"] == a["appointment_id"]
    r = api.post(
        f"/patients/{perio.patient()}/perio-exams",
        {"exam_date": "2026-03-09", "appointment_id": a["appointment_id"]},
        token=perio.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "appointment_id"


def test_a_patients_exams_are_paged_latest_first(perio):
    pid = perio.patient()
    dates = [f"2026-0{m}-15" for m in range(1, 6)]
    for d in dates:
        perio.start(pid, exam_date=d)
    perio.start(perio.patient())  # another patient's exam is not listed
    seen, cursor = [], None
    with dynamodb_calls() as calls:
        while True:
            qs = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = perio.get(f"/patients/{pid}/perio-exams{qs}")
            assert len(page["items"]) <= 2
            seen += [i["exam_date"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert seen == sorted(dates, reverse=True)
    assert calls.of("Scan") == 0
    other = perio.patient()
    r = perio.api.get(
        f"/patients/{other}/perio-exams?limit=2&cursor={_first_cursor(perio, pid)}",
        token=perio.token,
    )
    assert r.status == 400


def _first_cursor(perio, pid):
    return perio.get(f"/patients/{pid}/perio-exams?limit=2")["next_cursor"]


def test_reads_cost_the_same_whatever_the_history(perio):
    pid = perio.patient()
    e = perio.completed(pid, CHART, "2026-01-01")
    last = perio.start(pid, exam_date="2026-12-01", teeth=CHART)

    def cost():
        with dynamodb_calls() as calls:
            perio.get(f"/perio/exams/{last['exam_id']}")
            perio.get(f"/perio/exams/{last['exam_id']}/compare")
            perio.get(f"/patients/{pid}/perio-exams?limit=5")
        return calls.count

    before = cost()
    for m in range(2, 9):
        perio.completed(pid, CHART, f"2026-0{m}-01")
    assert cost() == before
    assert e
