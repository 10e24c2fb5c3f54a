"""Retention of patient messages (ADR 1405, issue 19): an optional period in years per clinic
(1-20, none by default); the daily job deletes, in each clinic with a period, exactly the
messages sent before the cutoff (the clinic's day N years ago) with their WhatsApp reference
and a conversation left with nothing newer; idempotent; another clinic's settings change
nothing; its DynamoDB calls do not grow with messages that have not expired."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist
from ulid import ULID

from chalicelib.comms.models import Conversation, Message, WaMessageRef
from chalicelib.comms.service import new_message
from chalicelib.gdpr import retention
from chalicelib.gdpr.models import MessageRetention
from tests.integration.ddb_calls import dynamodb_calls
from tests.integration.gdpr.erasure_helpers import ok

MADRID = ZoneInfo("Europe/Madrid")
AT = datetime(2031, 6, 15, 10, 0, tzinfo=UTC)  # the job's "now": 15 June 2031 in Madrid


def message(cid: str, sent: datetime, pid: str | None = None, wamid: str | None = None) -> str:
    m = new_message(
        cid,
        patient_id=pid,
        channel="whatsapp" if wamid else "email",
        direction="out",
        kind="reminder",
        status="sent",
        text="Recordatorio de su cita",
        provider_id=wamid,
        message_id=str(ULID.from_timestamp(sent.timestamp())),
    )
    m.save()
    if wamid:
        key = hashlib.sha256(wamid.encode()).hexdigest()
        WaMessageRef(*WaMessageRef.key(key), clinic_id=cid, message_id=m.message_id).save()
    return m.message_id


def exists(model, *key) -> bool:
    try:
        model.get(*key)
        return True
    except DoesNotExist:
        return False


def left(cid: str) -> set[str]:
    return {m.message_id for m in Message.gsi2.query(Message.list_pk(cid))}


def local(day: str, hour: int = 0, minute: int = 0) -> datetime:
    """An instant on a day of the clinic's calendar (Europe/Madrid)."""
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour, minute), MADRID)


def test_messages_period_bounds_and_default(api, clinic):
    t = clinic.admin_token
    got = ok(api.get("/settings/retention", token=t))
    assert got["messages"] is None and got["messages_range"] == {"min": 1, "max": 20}
    for bad in (0, 21, -3):
        r = api.put("/settings/retention", {"messages": bad}, token=t)
        assert r.status == 422, r.body
        assert r.json()["code"] == "RETENTION_MESSAGES_OUT_OF_RANGE"
        assert "20" in r.json()["message"], r.body
    r = api.put("/settings/retention", {"messages": 3}, headers={"Accept-Language": "es"}, token=t)
    assert ok(r)["messages"] == 3
    assert ok(api.get("/settings/retention", token=t))["periods"] == {"clinical": 5, "billing": 6}
    mark = MessageRetention.get(*MessageRetention.key(clinic.clinic_id))
    assert mark.years == 3 and mark.clinic_id == clinic.clinic_id
    # Changing another period leaves it; null removes it (and the job's item).
    assert ok(api.put("/settings/retention", {"clinical": 8}, token=t))["messages"] == 3
    assert ok(api.put("/settings/retention", {"messages": None}, token=t))["messages"] is None
    assert not exists(MessageRetention, *MessageRetention.key(clinic.clinic_id))
    assert retention.periods(clinic.clinic_id) == {"clinical": 8, "billing": 6}
    # Audited with before and after.
    r = api.get(f"/audit?entity_type=clinic&entity_id={clinic.clinic_id}", token=t)
    updates = [x for x in r.json()["data"]["items"] if x["action"] == "gdpr.retention_updated"]
    assert any(
        (x.get("changes") or {}).get("messages") == {"before": None, "after": 3} for x in updates
    ), updates


def test_the_job_deletes_exactly_the_expired_messages_idempotently(api, clinic, other_clinic):
    a, b = clinic.clinic_id, other_clinic.clinic_id
    ok(api.put("/settings/retention", {"messages": 2}, token=clinic.admin_token))
    # Cutoff: the start of 15 June 2029 in Madrid.
    old_wa = message(a, local("2029-06-14", 23, 59), pid="P1", wamid="wamid.OLD1")
    message(a, local("2024-01-02", 9), pid="P2")  # long ago, email
    kept_edge = message(a, local("2029-06-15", 0, 1), pid="P3")
    kept_new = message(a, local("2031-06-01", 12), pid="P1", wamid="wamid.NEW1")
    # P2's conversation ended before the cutoff; P1's goes on after it.
    Conversation(
        *Conversation.key(a, "P2"), patient_id="P2", last_activity_at=local("2024-01-02", 9)
    ).save()
    Conversation(
        *Conversation.key(a, "P1"), patient_id="P1", last_activity_at=local("2031-06-01", 12)
    ).save()
    other_old = message(b, local("2020-01-01", 9), pid="Q1")  # clinic B: no period

    counts = retention.run_job(AT.date())
    assert counts["messages"] == 2, counts
    assert left(a) == {kept_edge, kept_new}
    assert left(b) == {other_old}
    assert not exists(Message, *Message.key(a, old_wa))
    wa = WaMessageRef.key
    assert not exists(WaMessageRef, *wa(hashlib.sha256(b"wamid.OLD1").hexdigest()))
    assert exists(WaMessageRef, *wa(hashlib.sha256(b"wamid.NEW1").hexdigest()))
    assert not exists(Conversation, *Conversation.key(a, "P2"))
    assert exists(Conversation, *Conversation.key(a, "P1"))
    # One audit entry for the clinic, counts only.
    r = api.get(f"/audit?entity_type=clinic&entity_id={a}", token=clinic.admin_token)
    purged = [
        x for x in r.json()["data"]["items"] if x["action"] == "gdpr.retention_messages_purged"
    ]
    assert len(purged) == 1 and purged[0]["changes"]["messages"]["after"] == 2, purged
    assert "Recordatorio" not in str(purged) and old_wa not in str(purged)

    # Again: nothing more, no new audit entry.
    assert retention.purge_messages(AT) == 0
    assert left(a) == {kept_edge, kept_new}
    r = api.get(f"/audit?entity_type=clinic&entity_id={a}", token=clinic.admin_token)
    assert (
        len([x for x in r.json()["data"]["items"] if x["action"].endswith("messages_purged")]) == 1
    )


def test_another_clinics_period_does_not_touch_this_one(api, clinic, other_clinic, scoped_as):
    a, b = clinic.clinic_id, other_clinic.clinic_id
    ok(api.put("/settings/retention", {"messages": 1}, token=other_clinic.admin_token))
    mine = message(a, local("2025-01-01", 9), pid="P1")
    theirs = message(b, local("2025-01-01", 9), pid="Q1")
    scoped_as.clear()
    assert retention.purge_messages(AT) >= 1
    assert left(a) == {mine}
    assert theirs not in left(b)
    assert a not in scoped_as and b in scoped_as  # B's work ran with B's credentials only
    assert ok(api.get("/settings/retention", token=clinic.admin_token))["messages"] is None


def test_a_long_backlog_is_deleted_over_runs(api, clinic, monkeypatch):
    cid = clinic.clinic_id
    ok(api.put("/settings/retention", {"messages": 1}, token=clinic.admin_token))
    monkeypatch.setattr(retention, "MESSAGES_PAGE", 2)
    monkeypatch.setattr(retention, "MAX_MESSAGES_PER_RUN", 3)
    for i in range(5):
        message(cid, local("2026-03-01", 9) + timedelta(minutes=i))
    assert retention.purge_messages(AT) >= 4  # two pages of two: past the run's maximum
    assert len(left(cid)) == 1
    assert retention.purge_messages(AT) >= 1
    assert left(cid) == set()


def test_the_jobs_cost_does_not_grow_with_messages_that_have_not_expired(api, clinic):
    cid = clinic.clinic_id
    ok(api.put("/settings/retention", {"messages": 2}, token=clinic.admin_token))
    message(cid, local("2031-01-01", 9))

    def cost() -> tuple[int, int]:
        with dynamodb_calls() as calls:
            retention.purge_messages(AT)
        return calls.count, calls.read_items

    before = cost()
    # More than a page of messages that have not expired: the key condition never reads them.
    for i in range(120):
        message(cid, local("2030-02-01", 9) + timedelta(minutes=i), pid=f"P{i}")
    assert cost() == before
    assert len(left(cid)) == 121
