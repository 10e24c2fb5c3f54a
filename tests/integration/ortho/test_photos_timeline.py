"""Progress photos (the patient's own ready photos only) and the ortho events on the timeline."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core.ids import new_id, now
from chalicelib.imaging.models import Image
from tests.integration.ortho.conftest import Ortho, ago
from tests.integration.timeline.test_timeline import invoke, sqs_record, timeline


def photo(clinic_id: str, pid: str, taken: str, kind: str = "photo", status: str = "ready") -> str:
    iid, at = new_id(), now()
    Image(
        *Image.key(clinic_id, pid, iid),
        image_id=iid,
        patient_id=pid,
        kind=kind,
        acquired_on=taken,
        filename="f.jpg",
        declared_type="image/jpeg",
        declared_size=1,
        status=status,
        created_at=at,
        created_by="t",
        updated_at=at,
    ).save()
    return iid


def test_link_compare_and_unlink_photos(
    admin_ortho: Ortho, other_ortho: Ortho, clinic: Any
) -> None:
    o = admin_ortho
    pid, other = o.patient(), o.patient()
    c = o.start(pid)["data"]
    path = o.case_path(pid, c["case_id"])
    late, early = photo(clinic.clinic_id, pid, ago(5)), photo(clinic.clinic_id, pid, ago(50))
    got = o.call("post", path + "/photos", {"image_ids": [late, early]})["data"]
    assert [p["image_id"] for p in got["photos"]] == [early, late]  # by date taken
    assert got["photos"][0]["taken_on"] == ago(50)
    foreign = photo(clinic.clinic_id, other, ago(5))
    xray = photo(clinic.clinic_id, pid, ago(5), kind="xray")
    pending = photo(clinic.clinic_id, pid, ago(5), status="pending")
    for bad in (foreign, xray, pending):
        r = o.call("post", path + "/photos", {"image_ids": [early, bad]}, 422)
        assert r["errors"][0]["field"] == "image_ids[1]"
    other_ortho.call("delete", path + f"/photos/{early}", status=404)  # another clinic
    assert early in [p["image_id"] for p in o.call("get", path)["data"]["photos"]]
    o.call("delete", path + f"/photos/{early}", status=204)
    assert [p["image_id"] for p in o.call("get", path)["data"]["photos"]] == [late]
    o.call("delete", path + f"/photos/{early}", status=404)


def test_ortho_events_reach_the_timeline_with_ids_only(
    api: Any, clinic: Any, admin_ortho: Ortho, published
) -> None:
    o = admin_ortho
    pid = o.patient()
    c = o.start(pid)["data"]
    path = o.case_path(pid, c["case_id"])
    o.call("post", path + "/visits", {"date": ago(2), "note": "Texto PLUGH"}, 201)
    o.call("post", path + "/tray-changes", {"tray": 2, "date": ago(1)})
    for name, detail in published:
        if name.startswith("ortho."):
            assert invoke(sqs_record(name, detail)) == {"batchItemFailures": []}
    items = timeline(api, clinic.admin_token, pid).json()["data"]["items"]
    by_type = {i["type"]: i["data"] for i in items}
    assert by_type["ortho.case_started"]["appliance"] == "aligners"
    assert by_type["ortho.tray_changed"]["tray"] == 2
    assert by_type["ortho.visit_recorded"]["case_id"] == c["case_id"]
    assert "PLUGH" not in json.dumps(items)
