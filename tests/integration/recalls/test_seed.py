"""The demo seed step: recalls overdue, due this week and later (the booked ones waiting for
their appointment), follow-ups shown on their lists, the reminder job run once; quick."""

from __future__ import annotations

import time
from typing import Any

from infra.local.seed import recalls as recalls_seed
from infra.local.seed.context import DemoContext
from tests.integration.conftest import admin_principal
from tests.integration.recalls.conftest import Desk


def test_demo_recalls_and_follow_ups(clinic: Any, desk: Desk) -> None:
    n = len(recalls_seed.DUE_OFFSETS)
    pids = [desk.patient() for _ in range(n + 4)]
    for pid in pids[:3]:
        desk.consent(pid)
    who = admin_principal(clinic)
    ctx = DemoContext(demo_clinic_id=clinic.clinic_id, norte_clinic_id="-", demo={"admin": who})
    started = time.monotonic()
    recalls_seed.seed(ctx, pids)
    assert time.monotonic() - started < 20
    due = desk.due()  # a week ahead
    overdue = [r for r in due if r["days_overdue"] > 0]
    assert len(overdue) >= 5 and len(due) >= 8
    assert {r["rule_name"] for r in due} == {"Check-up and cleaning", "Orthodontic retention check"}
    # the job ran: consented patients were reminded, the others are listed without a channel
    outcomes = {r["patient_id"]: r["last_outcome"] for r in due}
    assert outcomes[pids[0]] == "sent" and outcomes[pids[5]] == "no_consent"
    nos = desk.data("get", "/followups/noshow")["items"]
    assert len(nos) == 2 and all(f["days"] >= 4 for f in nos)
