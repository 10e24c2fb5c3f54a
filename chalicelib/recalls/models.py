"""Items of recalls and follow-ups (one table; keys from the clinic of the caller or the event).
ADR 1404.

| item | PK | SK | GSI1 | GSI2 | GSI3 |
|---|---|---|---|---|---|
| RecallRule | C#<cid> | RRULE#<rule id> | | | |
| RecallRulesInit | C#<cid> | RRULE#INIT | | | |
| Recall | C#<cid> | PAT#<pid>#RECALL#<rule id> | (1) | (2) | (3) |
| FollowUp | C#<cid> | PAT#<pid>#FU#<followup id> | (4) | | (5) |
| FollowUpSettings | C#<cid> | RECALLS#SETTINGS | | | |

(1) Only while the recall is ``due``: ``C#<cid>#RECALL#DUE`` / ``<date>#<pid>#<rule id>``, where
``<date>`` is the due date or, when snoozed, the later snooze date: the front desk's due list
is one Query up to a date. (2) The same per rule: ``C#<cid>#RECALL#DUE#R#<rule id>`` / same
sort key (the list filtered by rule, still one Query). (3) Only while a reminder step is left
and the recall is due: ``RECREM#<date of the next step>`` / ``<PK>#<SK>``, a global bucket the
daily job reads by day (its cost grows with what is due).

(4) Only while open: ``C#<cid>#FU#<kind>`` / ``<since date>#<pid>#<followup id>`` (kind
``budget``, ``plan``, ``noshow``); a list is one Query up to ``today - N days``. (5) Only while
open and no automatic message has gone: ``FUREM#<since + N days>`` / ``<PK>#<SK>``.

One recall per rule and patient (the key); a follow-up id is ``budget-<budget id>``, ``plan``
(one per patient) or ``noshow`` (one per patient: the latest missed appointment).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk

KINDS = ("budget", "plan", "noshow")


class RecallRule(Item, discriminator="RecallRule"):
    rule_id = UnicodeAttribute()
    name_es = UnicodeAttribute()
    name_en = UnicodeAttribute(null=True)
    codes = ListAttribute(of=UnicodeAttribute, default=list)  # catalog codes (upper case)
    ortho_finished = BooleanAttribute(default=False)  # an orthodontic case finished
    interval_months = NumberAttribute()
    booking_type_id = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, rule_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"RRULE#{rule_id}"


class RecallRulesInit(Item, discriminator="RecallRulesInit"):
    """Written with the default rules, once per clinic."""

    at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "RRULE#INIT"


class Recall(Item, discriminator="Recall"):
    recall_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    rule_id = UnicodeAttribute()
    status = UnicodeAttribute()  # due | booked | dismissed
    due = UnicodeAttribute()  # ISO date in the clinic's zone
    snoozed_until = UnicodeAttribute(null=True)
    last_done = UnicodeAttribute(null=True)  # the completion date that set ``due``
    source = UnicodeAttribute()  # treatment | ortho | manual
    source_ref = UnicodeAttribute(null=True)  # plan item id, case id
    appointment_id = UnicodeAttribute(null=True)  # while booked
    reminder_count = NumberAttribute(default=0)  # scheduled steps used (sent or skipped)
    reminders = JSONAttribute(default=list)  # [{at, step, channel, status, message_id, by}]
    last_outcome = UnicodeAttribute(null=True)  # sent | no_channel | no_consent | undeliverable
    not_before = UnicodeAttribute(null=True)  # the next step not before this date (its gap)
    note_sealed = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def prefix(patient_id: str) -> str:
        return f"PAT#{patient_id}#RECALL#"

    @staticmethod
    def key(clinic_id: str, patient_id: str, rule_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"{Recall.prefix(patient_id)}{rule_id}"

    @staticmethod
    def due_pk(clinic_id: str, rule_id: str | None = None) -> str:
        base = f"{clinic_pk(clinic_id)}#RECALL#DUE"
        return f"{base}#R#{rule_id}" if rule_id else base

    @staticmethod
    def reminder_pk(day: str) -> str:
        return f"RECREM#{day}"


class FollowUp(Item, discriminator="FollowUp"):
    followup_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # budget | plan | noshow
    patient_id = UnicodeAttribute()
    ref_id = UnicodeAttribute(null=True)  # budget id, appointment id
    ref_number = UnicodeAttribute(null=True)  # the budget's number
    since = UnicodeAttribute()  # ISO date: sent, first planned, missed
    status = UnicodeAttribute(default="open")  # open | done
    contacted_at = UTCDateTimeAttribute(null=True)
    done_at = UTCDateTimeAttribute(null=True)
    notes = JSONAttribute(default=list)  # [{at, by, by_name, outcome, note_sealed}]
    messages = JSONAttribute(default=list)  # [{at, channel, status, message_id, auto}]
    auto_sent = BooleanAttribute(default=False)
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def prefix(patient_id: str) -> str:
        return f"PAT#{patient_id}#FU#"

    @staticmethod
    def key(clinic_id: str, patient_id: str, followup_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"{FollowUp.prefix(patient_id)}{followup_id}"

    @staticmethod
    def list_pk(clinic_id: str, kind: str) -> str:
        return f"{clinic_pk(clinic_id)}#FU#{kind}"

    @staticmethod
    def auto_pk(day: str) -> str:
        return f"FUREM#{day}"


class FollowUpSettings(Item, discriminator="FollowUpSettings"):
    recall_reminder_days = ListAttribute(of=NumberAttribute, default=list)
    recall_reminders = BooleanAttribute(default=True)
    budget_days = NumberAttribute(default=14)
    plan_days = NumberAttribute(default=30)
    noshow_days = NumberAttribute(default=3)
    auto_budget = BooleanAttribute(default=False)
    auto_plan = BooleanAttribute(default=False)
    auto_noshow = BooleanAttribute(default=False)
    updated_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "RECALLS#SETTINGS"
