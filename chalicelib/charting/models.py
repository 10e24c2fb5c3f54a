"""Chart items: findings (kept as history) and treatment-plan items, all under the patient's
own sort-key prefix, so a patient's whole chart is one Query whatever the clinic's size
(ADR 0601, 0603).

| item | PK | SK | GSI3 |
|---|---|---|---|
| Finding | C#<cid> | PAT#<pid>#CHART#F#<finding id> | |
| PlanItem | C#<cid> | PAT#<pid>#CHART#P#<item id> | (1) |

(1) Only while the item is completed and not yet invoiced: ``C#<cid>#UNINV`` /
``<completed_at>#<item id>`` (the front desk's list, ADR 0604). Invoicing removes it in the
invoice's issue transaction.

A finding is never changed in what it says: ending it (superseded by a newer finding, resolved,
treated by a completed plan item) only sets ``ended_*``. The chart as of a moment is the
findings recorded by then and not ended by then.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk


def chart_prefix(patient_id: str) -> str:
    return f"PAT#{patient_id}#CHART#"


class Finding(Item, discriminator="ChartFinding"):
    finding_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    code = UnicodeAttribute()
    kind = UnicodeAttribute()  # condition | existing
    tooth = NumberAttribute(null=True)
    teeth = ListAttribute(of=NumberAttribute, default=list)  # a span (bridge, appliance)
    surfaces = ListAttribute(of=UnicodeAttribute, default=list)
    material = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    plan_item_id = UnicodeAttribute(null=True)  # the completed plan item that made it
    supersedes = UnicodeAttribute(null=True)
    recorded_at = UTCDateTimeAttribute()
    recorded_by = UnicodeAttribute()
    recorded_by_name = UnicodeAttribute(null=True)
    ended_at = UTCDateTimeAttribute(null=True)
    ended_by = UnicodeAttribute(null=True)
    end_reason = UnicodeAttribute(null=True)  # superseded | resolved | treated
    ended_by_finding = UnicodeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, patient_id: str, finding_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"{chart_prefix(patient_id)}F#{finding_id}"


class PlanItem(Item, discriminator="ChartPlanItem"):
    item_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    treatment_id = UnicodeAttribute()
    treatment_code = UnicodeAttribute()
    name_es = UnicodeAttribute()
    name_en = UnicodeAttribute(null=True)
    scope = UnicodeAttribute()
    tooth = NumberAttribute(null=True)
    surfaces = ListAttribute(of=UnicodeAttribute, default=list)
    sextant = NumberAttribute(null=True)
    quadrant = NumberAttribute(null=True)
    result_code = UnicodeAttribute(null=True)  # the finding completing it leaves on the chart
    material = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # planned | completed | cancelled
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    budget_id = UnicodeAttribute(null=True)
    budget_number = UnicodeAttribute(null=True)
    budget_line_id = UnicodeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)
    completed_by = UnicodeAttribute(null=True)
    result_finding_id = UnicodeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    invoiced = BooleanAttribute(default=False)
    invoice_id = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, patient_id: str, item_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"{chart_prefix(patient_id)}P#{item_id}"

    @staticmethod
    def uninvoiced_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#UNINV"
