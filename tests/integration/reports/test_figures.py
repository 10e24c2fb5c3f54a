"""Each figure against a hand-computed fixture around a Madrid midnight (2025-12-02/03, CET =
UTC+1: 23:30 local is still the 2nd, 00:30 local is the 3rd although UTC says the 2nd), with a
rectifying invoice, an annulled one, a refund, a reschedule and a late cancellation; duplicate
and out-of-order events; the rebuild against the live figures."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.core import scoping
from chalicelib.reports import figures, store
from chalicelib.reports import models as m
from chalicelib.reports.rebuild import rebuild
from tests.integration.reports.records import Records

D1, D2 = "2025-12-02", "2025-12-03"


@pytest.fixture
def world(clinic):
    r = Records(clinic.clinic_id, clinic.admin_id)
    w: dict = {"r": r}
    w["cab"] = cab = r.cabinet()
    w["pat"] = pat = r.patient("2025-12-02 23:59")
    # appointments
    w["a_late_night"] = r.appointment(pat, cab, "2025-12-02 23:30", 30, "completed")
    w["a_after_midnight"] = r.appointment(pat, cab, "2025-12-03 00:30", 45, "no_show")
    w["a_late_cancel"] = r.appointment(
        pat, cab, "2025-12-02 10:00", 15, "cancelled", cancelled_at="2025-12-02 09:00"
    )
    w["a_early_cancel"] = r.appointment(
        pat, cab, "2025-12-02 12:00", 15, "cancelled", cancelled_at="2025-11-28 09:00"
    )
    w["a_moved"] = r.appointment(pat, cab, "2025-12-02 11:00", 20)
    for key in ("a_late_night", "a_after_midnight", "a_late_cancel", "a_early_cancel", "a_moved"):
        r.deliver("appointment.scheduled", appointment_id=w[key], patient_id=pat)
    # the reschedule: D1 -> D2, then the old event arrives late
    r.appointment(pat, cab, "2025-12-03 11:00", 20, appointment_id=w["a_moved"])
    r.deliver("appointment.updated", appointment_id=w["a_moved"], rescheduled=True)
    # a treatment from the catalog (45.00) and one from a budget line (120.00)
    tid = r.treatment("OBT", 4500)
    w["t1"] = r.completed(pat, tid, "2025-12-02 10:00")
    r.deliver("treatment.completed", plan_item_id=w["t1"], patient_id=pat)
    # invoices: 100.00 on D1, a rectifying -20.00 on D2, an annulled 50.00 on D1
    w["i1"] = r.invoice(pat, D1, 10000, paid_cents=5000, differences_cents=-2000)
    w["i2"] = r.invoice(pat, D2, -2000, kind="rectifying", rectification_mode="I", series="R")
    w["i3"] = r.invoice(pat, D1, 5000, cancelled=True)
    for key in ("i1", "i2", "i3"):
        r.deliver("invoice.issued", invoice_id=w[key])
    r.deliver("invoice.annulled", invoice_id=w["i3"])
    # 60.00 by card at 23:30 on D1, a 10.00 refund at 00:30 on D2 (UTC: still D1)
    w["p1"] = r.payment(w["i1"], pat, "2025-12-02 23:30", 6000)
    w["p2"] = r.payment(w["i1"], pat, "2025-12-03 00:30", 1000, kind="refund")
    for key in ("p1", "p2"):
        r.deliver("payment.recorded", payment_id=w[key], invoice_id=w["i1"])
    # budgets: 200.00 sent D1, 150.00 of it accepted D2; 80.00 sent D1, pending
    w["b1"] = r.budget(pat, "2025-12-02 18:00", [15000, 5000], "accepted", "2025-12-03 09:00", [0])
    w["b2"] = r.budget(pat, "2025-12-02 18:30", [8000])
    r.deliver("budget.sent", budget_id=w["b1"])
    r.deliver("budget.accepted", budget_id=w["b1"])
    r.deliver("budget.sent", budget_id=w["b2"])
    r.deliver("patient.created", patient_id=pat)
    return w


def summary(api, token, first=D1, last=D2):
    res = api.get(f"/reports/summary?from={first}&to={last}", token=token)
    assert res.status == 200, res.body
    return res.json()["data"]


def test_each_figure_on_its_local_day(api, clinic, world):
    s = summary(api, clinic.admin_token)
    assert s["granularity"] == "day" and s["time_zone"] == "Europe/Madrid"
    d1, d2 = s["series"]
    assert (d1["period"], d2["period"]) == (D1, D2)
    assert d1["production"] == "45.00" and d1["treatments_completed"] == 1
    assert d1["invoiced"] == "100.00" and d1["invoices_issued"] == 1  # the annulled one: nothing
    assert d2["invoiced"] == "-20.00" and d2["invoices_issued"] == 1
    assert d1["collected"] == "60.00" and d1["collected_by_method"] == {"card": "60.00"}
    assert d2["collected"] == "-10.00" and d2["refunded"] == "10.00"
    assert d2["collected_by_method"] == {"card": "-10.00"}
    assert (d1["appointments"], d1["attended"], d1["no_shows"]) == (1, 1, 0)
    assert (d1["cancellations"], d1["late_cancellations"]) == (2, 1)
    assert (d1["booked_minutes"], d1["attended_minutes"]) == (30, 30)
    assert (d2["appointments"], d2["no_shows"], d2["booked_minutes"]) == (2, 1, 20)
    assert d1["show_rate"] == 1.0 and d2["show_rate"] == 0.0
    assert d1["new_patients"] == 1 and d2["new_patients"] == 0
    assert (d1["budgets_presented"], d1["budgets_presented_value"]) == (2, "280.00")
    assert (d2["budgets_accepted"], d2["budgets_accepted_value"]) == (1, "150.00")
    # Tuesday and Wednesday, default hours 9-14 and 16-20 = 540 min, one active cabinet
    assert d1["open_minutes"] == 540 and d1["utilisation"] == round(30 / 540, 4)
    t = s["totals"]
    assert t["invoiced"] == "80.00" and t["collected"] == "50.00" and t["appointments"] == 3
    (pro,) = s["professionals"]
    assert pro["professional_id"] == clinic.admin_id and pro["production"] == "45.00"
    assert (pro["appointments"], pro["attended"], pro["no_shows"]) == (3, 1, 1)
    (cab,) = s["cabinets"]
    assert cab["cabinet_id"] == world["cab"] and cab["booked_minutes"] == 50
    assert cab["open_minutes"] == 1080


def test_pending_and_its_lists(api, clinic, world):
    p = api.get("/reports/pending", token=clinic.admin_token).json()["data"]
    # I1: 100.00 - 20.00 (rectified) - 50.00 paid = 30.00; I2 asks nothing; I3 annulled
    assert p["balances"]["outstanding"] == "30.00" and p["balances"]["invoices"] == 1
    assert p["budgets"]["pending"] == 1 and p["budgets"]["pending_value"] == "80.00"
    over = {a["bucket"]: a for a in p["balances"]["ages"]}["over_90"]
    assert over == {"bucket": "over_90", "amount": "30.00", "count": 1}
    rows = api.get("/reports/items?figure=outstanding", token=clinic.admin_token).json()["data"]
    assert [(x["id"], x["amount"]) for x in rows["items"]] == [(world["i1"], "30.00")]
    assert rows["items"][0]["age_days"] > 90


def test_lists_by_day_then_id_and_paged(api, clinic, world):
    t = clinic.admin_token
    got = api.get(f"/reports/items?figure=collected&from={D1}&to={D2}", token=t).json()["data"]
    assert [(x["date"], x["id"], x["amount"], x["method"]) for x in got["items"]] == [
        (D1, world["p1"], "60.00", "card"),
        (D2, world["p2"], "-10.00", "card"),
    ]
    assert got["items"][0]["patient_name"] == "Lucía Gómez"
    first = api.get(f"/reports/items?figure=appointments&from={D1}&to={D2}&limit=1", token=t)
    page1 = first.json()["data"]
    assert len(page1["items"]) == 1 and page1["next_cursor"]
    seen = [page1["items"][0]["id"]]
    cursor = page1["next_cursor"]
    while cursor:
        nxt = api.get(
            f"/reports/items?figure=appointments&from={D1}&to={D2}&limit=1&cursor={cursor}",
            token=t,
        ).json()["data"]
        seen += [x["id"] for x in nxt["items"]]
        cursor = nxt["next_cursor"]
    assert seen[0] == world["a_late_night"] and len(seen) == 3
    assert world["a_moved"] in seen
    late = api.get(f"/reports/items?figure=late_cancellations&from={D1}&to={D1}", token=t)
    assert [x["id"] for x in late.json()["data"]["items"]] == [world["a_late_cancel"]]
    mine = api.get(
        f"/reports/items?figure=no_shows&from={D1}&to={D2}&cabinet_id={world['cab']}", token=t
    ).json()["data"]["items"]
    assert [x["id"] for x in mine] == [world["a_after_midnight"]]


def test_duplicate_and_late_events_change_nothing(api, clinic, world):
    before = summary(api, clinic.admin_token)
    r = world["r"]
    outcomes = [
        r.deliver(t, **{k: v for k, v in d.items() if k not in ("clinic_id", "event_id")})
        for t, d in list(r.delivered)
    ]
    assert set(outcomes) == {"unchanged"}
    assert summary(api, clinic.admin_token) == before


def test_rebuild_equals_the_live_figures_and_repairs(api, clinic, world):
    live = summary(api, clinic.admin_token)
    live_pending = api.get("/reports/pending", token=clinic.admin_token).json()["data"]
    cid = clinic.clinic_id
    with scoping.clinic(cid):
        store.overwrite(cid, m.day_sk(D1), {"production": 999_00, "attended": 7})
        store.overwrite(cid, m.STATE_SK, {"outstanding": 1})
    assert summary(api, clinic.admin_token) != live
    out = rebuild(cid, date(2025, 12, 1), date(2025, 12, 4))
    assert out["days"] == 4
    assert summary(api, clinic.admin_token) == live
    assert api.get("/reports/pending", token=clinic.admin_token).json()["data"] == live_pending
    # from nothing: every report item gone, the rebuild alone gives the same figures
    with scoping.clinic(cid):
        for it in m.ReportContribution.query(
            f"C#{cid}", m.ReportContribution.SK.startswith("RPT#")
        ):
            store.delete(cid, it.SK)
        from chalicelib.core.db import Item

        for it in Item.query(f"C#{cid}", Item.SK.startswith("RPT#")):
            store.delete(cid, it.SK)
    rebuild(cid, date(2025, 12, 1), date(2025, 12, 4))
    assert summary(api, clinic.admin_token) == live
    items = api.get(f"/reports/items?figure=collected&from={D1}&to={D2}", token=clinic.admin_token)
    assert len(items.json()["data"]["items"]) == 2
    # and the consumer goes on from there without counting twice
    r = world["r"]
    assert (
        r.deliver("payment.recorded", payment_id=world["p1"], invoice_id=world["i1"]) == "unchanged"
    )


def test_day_is_what_the_summary_says(clinic, world):
    with scoping.clinic(clinic.clinic_id):
        f = figures.day(clinic.clinic_id, date(2025, 12, 2))
    assert (f.invoiced, f.collected, f.attended, f.cancellations) == ("100.00", "60.00", 1, 2)
