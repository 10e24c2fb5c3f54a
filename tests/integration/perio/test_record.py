"""What a periodontal exam leaves behind: its audit trail (ids and field names, no values) and
the ``perio.exam_completed`` line on the patient's timeline, through the real consumer."""

from __future__ import annotations

from tests.integration.perio.conftest import CHART
from tests.integration.timeline.test_timeline import invoke, sqs_record, timeline


def test_the_audit_log_has_each_step(perio):
    pid = perio.patient()
    e = perio.start(pid)
    e = perio.save(e, CHART)
    done = perio.complete(e)
    r = perio.api.get(
        f"/audit?entity_type=perio_exam&entity_id={done['exam_id']}", token=perio.token
    )
    assert r.status == 200, r.body
    actions = [x["action"] for x in r.json()["data"]["items"]]
    assert sorted(actions) == ["perio.exam.completed", "perio.exam.created", "perio.exam.saved"]
    body = r.body.decode() if isinstance(r.body, bytes) else r.body
    assert '"pd"' not in body and '"sites"' not in body  # field names and counts, no chart


def test_a_completed_exam_is_on_the_patients_timeline(perio, published):
    pid = perio.patient()
    done = perio.completed(pid, CHART)
    name, detail = next((n, d) for n, d in published if n == "perio.exam_completed")
    assert invoke(sqs_record(name, detail)) == {"batchItemFailures": []}
    items = timeline(perio.api, perio.token, pid).json()["data"]["items"]
    line = next(i for i in items if i["type"] == "perio.exam_completed")
    assert line["data"] == {
        "exam_id": done["exam_id"],
        "patient_id": pid,
        "appointment_id": None,
        "amends": None,
    }
