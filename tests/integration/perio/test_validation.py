"""Bad charts answer 422 naming the tooth and the site, in English and Spanish; nothing is
saved."""

from __future__ import annotations

import pytest


def _errors(perio, exam, teeth, lang="en"):
    r = perio.api.put(
        f"/perio/exams/{exam['exam_id']}",
        {"version": exam["version"], "teeth": teeth},
        token=perio.token,
        headers={"Accept-Language": lang},
    )
    assert r.status == 422, r.body
    return r.json()["errors"]


@pytest.mark.parametrize(
    ("teeth", "field"),
    [
        ({"16": {"sites": {"MB": {"pd": 16}}}}, "teeth.16.sites.MB.pd"),
        ({"16": {"sites": {"MB": {"pd": -1}}}}, "teeth.16.sites.MB.pd"),
        ({"16": {"sites": {"DL": {"pd": "3"}}}}, "teeth.16.sites.DL.pd"),
        ({"16": {"sites": {"DL": {"pd": 3.5}}}}, "teeth.16.sites.DL.pd"),
        ({"16": {"sites": {"B": {"pd": 3, "gm": 16}}}}, "teeth.16.sites.B.gm"),
        ({"16": {"sites": {"B": {"pd": 3, "gm": -11}}}}, "teeth.16.sites.B.gm"),
        ({"16": {"sites": {"B": {"bop": "yes"}}}}, "teeth.16.sites.B.bop"),
        ({"16": {"sites": {"XB": {"pd": 3}}}}, "teeth.16.sites.XB.[key]"),
        ({"19": {"sites": {"B": {"pd": 3}}}}, "teeth.19.[key]"),
        ({"55": {"state": "present"}}, "teeth.55.[key]"),
        ({"16": {"mobility": 4}}, "teeth.16.mobility"),
        ({"16": {"furcation": 4}}, "teeth.16.furcation"),
        ({"16": {"state": "bridge"}}, "teeth.16.state"),
        ({"16": {"sites": {"B": {"pd": 3, "colour": "red"}}}}, "teeth.16.sites.B.colour"),
        # rules across fields (service)
        ({"11": {"furcation": 1}}, "teeth.11.furcation"),
        ({"26": {"state": "missing", "sites": {"MB": {"pd": 3}}}}, "teeth.26.sites"),
        ({"36": {"state": "implant", "mobility": 1}}, "teeth.36.mobility"),
        ({"21": {"sites": {"L": {"pd": 2, "gm": -3}}}}, "teeth.21.sites.L.pd"),
    ],
)
def test_a_bad_value_names_its_tooth_and_site(perio, teeth, field):
    e = perio.start(perio.patient())
    assert field in [x["field"] for x in _errors(perio, e, teeth)]
    again = perio.get(f"/perio/exams/{e['exam_id']}")
    assert again["version"] == 1 and again["teeth"] == {}


def test_furcation_is_taken_on_multi_rooted_teeth(perio):
    e = perio.start(perio.patient())
    teeth = {t: {"furcation": 2} for t in ("14", "24", "16", "27", "38", "46")}
    e = perio.save(e, teeth)
    assert {t: x["furcation"] for t, x in e["teeth"].items()} == dict.fromkeys(teeth, 2)


def test_messages_in_spanish(perio):
    e = perio.start(perio.patient())
    errs = _errors(perio, e, {"11": {"furcation": 1}}, "es")
    assert "una sola raíz" in errs[0]["message"]
    errs = _errors(perio, e, {"21": {"sites": {"L": {"pd": 2, "gm": -3}}}}, "es")
    assert "diente 21, lingual/palatino" in errs[0]["message"]


def test_the_exam_needs_a_date_and_a_known_patient(perio, api):
    pid = perio.patient()
    r = api.post(f"/patients/{pid}/perio-exams", {}, token=perio.token)
    assert r.status == 422 and r.json()["errors"][0]["field"] == "exam_date"
    r = api.post(f"/patients/{pid}/perio-exams", {"exam_date": "1800-01-01"}, token=perio.token)
    assert r.status == 422 and r.json()["errors"][0]["field"] == "exam_date"
    r = api.post(
        "/patients/01HZZZZZZZZZZZZZZZZZZZZZZZ/perio-exams",
        {"exam_date": "2026-01-01"},
        token=perio.token,
    )
    assert r.status == 404
    r = api.post(
        f"/patients/{pid}/perio-exams",
        {"exam_date": "2026-01-01", "teeth": {"16": {"mobility": 9}}},
        token=perio.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "teeth.16.mobility"
    assert perio.get(f"/patients/{pid}/perio-exams")["items"] == []
