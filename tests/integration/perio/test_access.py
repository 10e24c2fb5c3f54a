"""Who may read and write periodontal exams, and another clinic's ids (every route)."""

from __future__ import annotations

import pytest

from tests.integration.perio.conftest import CHART

UNKNOWN = "01HZZZZZZZZZZZZZZZZZZZZZZZ"


def _routes(pid: str, eid: str, version: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", f"/patients/{pid}/perio-exams", None),
        ("POST", f"/patients/{pid}/perio-exams", {"exam_date": "2026-03-09"}),
        ("GET", f"/perio/exams/{eid}", None),
        ("PUT", f"/perio/exams/{eid}", {"version": version, "teeth": {}}),
        ("POST", f"/perio/exams/{eid}/complete", {"version": version}),
        ("GET", f"/perio/exams/{eid}/compare", None),
        ("DELETE", f"/perio/exams/{eid}", None),
    ]


def _call(api, method, path, body, token):
    if method == "GET":
        return api.get(path, token=token)
    if method == "DELETE":
        return api.delete(path, token=token)
    return getattr(api, method.lower())(path, body, token=token)


def test_a_receptionist_neither_reads_nor_writes_perio(api, perio, member):
    pid = perio.patient()
    e = perio.start(pid, teeth=CHART)
    desk = member("receptionist")
    for method, path, body in _routes(pid, e["exam_id"], e["version"]):
        r = _call(api, method, path, body, desk.token)
        assert r.status == 403, (method, path, r.body)
        assert r.json()["data"]["permission"].startswith("clinical.perio.")
    assert perio.get(f"/perio/exams/{e['exam_id']}")["version"] == 1


@pytest.mark.parametrize("role", ["hygienist", "assistant", "dentist"])
def test_clinical_staff_enter_and_complete_exams(perio, member, role):
    who = member(role)
    pid = perio.patient()
    e = who.start(pid)
    e = who.save(e, CHART)
    done = who.complete(e)
    assert done["status"] == "completed" and done["completed_by_name"] == f"Staff {role}"
    assert done["examiner_name"] == f"Staff {role}"
    assert who.get(f"/patients/{pid}/perio-exams")["items"][0]["exam_id"] == e["exam_id"]


def test_another_clinics_token_finds_nothing_on_any_route(api, perio, other_perio):
    pid = perio.patient()
    first = perio.completed(pid, CHART, "2026-01-01")
    e = perio.start(pid, teeth=CHART)
    for method, path, body in _routes(pid, e["exam_id"], e["version"]):
        r = _call(api, method, path, body, other_perio.token)
        assert r.status == 404, (method, path, r.body)
    for path in (f"/perio/exams/{first['exam_id']}", f"/perio/exams/{first['exam_id']}/compare"):
        assert _call(api, "GET", path, None, other_perio.token).status == 404
    # nothing changed
    assert perio.get(f"/perio/exams/{e['exam_id']}")["version"] == 1
    assert len(perio.get(f"/patients/{pid}/perio-exams")["items"]) == 2
    # and the unknown id answers the same
    for method, path, body in _routes(pid, UNKNOWN, 1)[2:]:
        r = _call(api, method, path, body, perio.token)
        assert r.status == 404 and r.json()["code"] == "PERIO_EXAM_NOT_FOUND", (method, path)


def test_another_clinics_ids_in_bodies_and_queries_are_refused(
    api, clinic, perio, other_perio, other_clinic
):
    from tests.integration.agenda.conftest import at, booked, make_agenda  # noqa: PLC0415

    theirs_pid = other_perio.patient()
    theirs = other_perio.completed(theirs_pid, CHART)
    ag = make_agenda(api, other_clinic)
    their_appt = booked(api, ag, at(ag.monday, "10:00"))

    pid = perio.patient()
    mine = perio.start(pid, teeth=CHART)
    r = api.post(f"/patients/{pid}/perio-exams", {"amends": theirs["exam_id"]}, token=perio.token)
    assert r.status == 422 and r.json()["errors"][0]["field"] == "amends"
    r = api.post(
        f"/patients/{pid}/perio-exams",
        {"exam_date": "2026-03-09", "appointment_id": their_appt["appointment_id"]},
        token=perio.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "appointment_id"
    r = api.put(
        f"/perio/exams/{mine['exam_id']}",
        {"version": 1, "teeth": {}, "appointment_id": their_appt["appointment_id"]},
        token=perio.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "appointment_id"
    r = api.get(
        f"/perio/exams/{mine['exam_id']}/compare?with={theirs['exam_id']}", token=perio.token
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "query.with"
    # a cursor of their listing does not page mine
    for d in ("2026-01-01", "2026-02-01", "2026-03-01"):
        other_perio.start(theirs_pid, exam_date=d)
    cursor = other_perio.get(f"/patients/{theirs_pid}/perio-exams?limit=1")["next_cursor"]
    r = api.get(f"/patients/{pid}/perio-exams?cursor={cursor}", token=perio.token)
    assert r.status == 400
    assert other_perio.get(f"/perio/exams/{theirs['exam_id']}")["amended_by"] is None
