"""The chart: findings validated by code, tooth and surfaces; history kept (superseded and
resolved findings stay); the chart as of a day; permissions; the reads do not grow with the
clinic's other patients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.charting.models import Finding
from tests.integration.ddb_calls import dynamodb_calls


def _chart(b, pid, **q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    return b.get(f"/patients/{pid}/chart" + (f"?{qs}" if qs else ""))


def _finding(b, pid, body, status=201):
    r = b.api.post(f"/patients/{pid}/chart/findings", body, token=b.token)
    assert r.status == status, r.body[:2000]
    return r.json()


def test_record_caries_and_read_the_chart(billing):
    pid = billing.patient()
    f = _finding(billing, pid, {"code": "caries", "tooth": 36, "surfaces": ["o", "B"]})["data"]
    assert f["kind"] == "condition" and f["surfaces"] == ["O", "V"]
    assert f["recorded_by"] and f["ended_at"] is None
    chart = _chart(billing, pid)
    assert [x["finding_id"] for x in chart["findings"]] == [f["finding_id"]]
    assert chart["dentition"] == "permanent"  # the test patient is an adult
    assert chart["dates"] and chart["xray_teeth"] == []


def test_surfaces_codes_and_spans_are_validated(billing):
    pid = billing.patient()
    bad = [
        ({"code": "caries", "tooth": 36}, "surfaces"),  # caries needs surfaces
        ({"code": "caries", "tooth": 36, "surfaces": ["X"]}, "surfaces"),
        ({"code": "caries", "tooth": 19, "surfaces": ["O"]}, "tooth"),  # not FDI
        ({"code": "caries", "tooth": 36, "surfaces": ["R"]}, "surfaces"),  # root is not crown
        ({"code": "crown", "tooth": 36, "surfaces": ["O"]}, "surfaces"),  # whole tooth
        ({"code": "missing", "surfaces": []}, "tooth"),
        ({"code": "bridge", "tooth": 14}, "tooth"),
        ({"code": "bridge", "teeth": [14, 16]}, "teeth"),  # not consecutive
        ({"code": "bridge", "teeth": [11, 41]}, "teeth"),  # two arches
        ({"code": "caries", "teeth": [35, 36], "surfaces": ["O"]}, "teeth"),
        ({"code": "implant", "tooth": 36, "material": "gold"}, "material"),
        ({"code": "decay", "tooth": 36}, "code"),
    ]
    for body, field in bad:
        e = _finding(billing, pid, body, 422)
        assert any(x["field"].startswith(field) for x in e["errors"]), (body, e)
        assert e["message"]
    r = billing.api.post(
        f"/patients/{pid}/chart/findings",
        {"code": "caries", "tooth": 36},
        token=billing.token,
        headers={"Accept-Language": "es"},
    )
    assert "superficie" in r.json()["errors"][0]["message"]
    ok = _finding(billing, pid, {"code": "bridge", "teeth": [14, 15, 16], "material": "zirconia"})
    assert ok["data"]["teeth"] == [14, 15, 16]
    rc = _finding(billing, pid, {"code": "root_canal", "tooth": 46})["data"]
    assert rc["surfaces"] == ["R"]
    assert _chart(billing, pid)["findings"][0]["code"] == "bridge"


def test_history_superseded_and_resolved_and_as_of(billing, clinic):
    pid = billing.patient()
    first = _finding(billing, pid, {"code": "caries", "tooth": 36, "surfaces": ["O"]})["data"]
    other = _finding(billing, pid, {"code": "fracture", "tooth": 11})["data"]
    # back-date both, as if recorded at a visit ten days ago
    visit = datetime.now(UTC) - timedelta(days=10)
    for fid in (first["finding_id"], other["finding_id"]):
        f = Finding.get(*Finding.key(clinic.clinic_id, pid, fid))
        f.recorded_at = visit
        f.save()
    second = _finding(
        billing,
        pid,
        {"code": "caries", "tooth": 36, "surfaces": ["O", "D"], "supersedes": first["finding_id"]},
    )["data"]
    assert second["supersedes"] == first["finding_id"]
    # superseding an ended finding again is refused
    again = _finding(
        billing,
        pid,
        {"code": "caries", "tooth": 36, "surfaces": ["M"], "supersedes": first["finding_id"]},
        409,
    )
    assert again["message"]
    res = billing.post(f"/patients/{pid}/chart/findings/{other['finding_id']}/resolve", {})
    assert res["end_reason"] == "resolved"
    r = billing.api.post(
        f"/patients/{pid}/chart/findings/{other['finding_id']}/resolve", {}, token=billing.token
    )
    assert r.status == 409

    now_chart = _chart(billing, pid)
    assert [f["finding_id"] for f in now_chart["findings"]] == [second["finding_id"]]
    then = (visit + timedelta(days=1)).date().isoformat()
    old_chart = _chart(billing, pid, as_of=then)
    got = {f["finding_id"]: f for f in old_chart["findings"]}
    assert set(got) == {first["finding_id"], other["finding_id"]}
    assert got[first["finding_id"]]["surfaces"] == ["O"]  # what it said then
    assert got[first["finding_id"]]["ended_at"] is None  # not ended as of that day
    before = (visit - timedelta(days=2)).date().isoformat()
    assert _chart(billing, pid, as_of=before)["findings"] == []
    assert len(now_chart["dates"]) >= 2


def test_unknown_and_bad_ids_and_dates(billing):
    pid = billing.patient()
    r = billing.api.get("/patients/nope/chart", token=billing.token)
    assert r.status == 404
    r = billing.api.get(f"/patients/{pid}/chart?as_of=yesterday", token=billing.token)
    assert r.status == 422
    r = billing.api.post(
        f"/patients/{pid}/chart/findings/01ARZ3NDEKTSV4RRFFQ69G5FAV/resolve",
        {},
        token=billing.token,
    )
    assert r.status == 404
    e = _finding(
        billing, pid, {"code": "caries", "tooth": 36, "surfaces": ["O"], "supersedes": "x"}, 404
    )
    assert e["message"]


def test_permissions(billing, api, receptionist, hygienist):
    pid = billing.patient()
    _finding(billing, pid, {"code": "missing", "tooth": 18})
    for member in (receptionist, hygienist):
        r = api.get(f"/patients/{pid}/chart", token=member["token"])
        assert r.status == 200 and r.json()["data"]["findings"][0]["code"] == "missing"
        r = api.post(
            f"/patients/{pid}/chart/findings",
            {"code": "missing", "tooth": 28},
            token=member["token"],
        )
        assert r.status == 403
    assert len(_chart(billing, pid)["findings"]) == 1


def test_chart_reads_do_not_grow_with_other_patients(billing):
    pid = billing.patient()
    _finding(billing, pid, {"code": "caries", "tooth": 36, "surfaces": ["O"]})
    with dynamodb_calls() as small:
        _chart(billing, pid)
    for _ in range(6):
        other = billing.patient()
        for tooth in (11, 21, 31):
            _finding(billing, other, {"code": "missing", "tooth": tooth})
    with dynamodb_calls() as large:
        _chart(billing, pid)
    assert large.ops == small.ops and large.read_items == small.read_items
    assert "Scan" not in large.ops
