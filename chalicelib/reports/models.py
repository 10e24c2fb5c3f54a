"""Report items (one table, the clinic's partition; ADR 1301). Keys (PK is always ``C#<cid>``):

| item | SK | what |
|---|---|---|
| ReportAggregate, day | ``RPT#D#<YYYY-MM-DD>`` | the day's figures, flat number attributes (1) |
| ReportAggregate, month | ``RPT#M#<YYYY-MM>`` | the same figures summed over the month |
| ReportAggregate, state | ``RPT#S`` | the state figures' totals (outstanding, pending budgets) |
| ReportAggregate, state by day | ``RPT#SD#<YYYY-MM-DD>`` | state of the records of that day (4) |
| ReportContribution | ``RPT#C#<kind>#<record id>`` | what one record adds now (2) |
| ReportEntry | ``RPT#I#<list>#<YYYY-MM-DD>#<record id>`` | a row of a figure's list (3) |

(1) Attribute names are the figure (``production``, ``attended``, ...) or the figure of one
dimension: ``<figure>|p:<professional id>``, ``<figure>|c:<cabinet id>``,
``collected|m:<method>``. Money in integer cents.
(2) ``aggregates`` ({SK: {attribute: value}}) and ``entries`` ({SK: row}) as JSON, and a
``version``: the consumer replaces it, conditioned on that version, in the transaction that
ADDs the difference to the aggregates (ADR 1301).
(3) ``<list>`` is the figure (``production``, ``no_shows``, ``outstanding``...) or the figure
of one professional or cabinet (``production|p:<id>``, ``attended|c:<id>``): a page of a list
is one Query in day order whatever the filter. Money in cents.
(4) ``outstanding``, ``outstanding_invoices`` by invoice issue day; ``pending_budgets``,
``pending_budgets_value`` by sent day: the ages of ``/reports/pending`` are one Query of the
last 91 days plus the state item, whatever the history.

The aggregates' attributes are dynamic, so they are written and read with the low-level client
(:mod:`chalicelib.reports.store`); the models declare the fixed attributes so that a Query of
the partition through PynamoDB recognises every report item.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.db import Item, clinic_pk

AGG, CONTRIB, ENTRY = "ReportAggregate", "ReportContribution", "ReportEntry"
DAY_PREFIX, MONTH_PREFIX, STATE_SK = "RPT#D#", "RPT#M#", "RPT#S"
STATE_DAY_PREFIX = "RPT#SD#"


def day_sk(day: str) -> str:
    return f"{DAY_PREFIX}{day}"


def month_sk(month: str) -> str:
    return f"{MONTH_PREFIX}{month}"


def state_day_sk(day: str) -> str:
    return f"{STATE_DAY_PREFIX}{day}"


def contribution_sk(kind: str, record_id: str) -> str:
    return f"RPT#C#{kind}#{record_id}"


def entry_prefix(listing: str) -> str:
    return f"RPT#I#{listing}#"


def entry_sk(listing: str, day: str, record_id: str) -> str:
    return f"{entry_prefix(listing)}{day}#{record_id}"


class ReportAggregate(Item, discriminator=AGG):
    """Figures of a day, a month or the state (the figure attributes are dynamic)."""


class ReportContribution(Item, discriminator=CONTRIB):
    kind = UnicodeAttribute()
    record_id = UnicodeAttribute()
    aggregates = JSONAttribute(default=dict)
    entries = JSONAttribute(default=dict)
    version = NumberAttribute(default=0)

    @staticmethod
    def key(clinic_id: str, kind: str, record_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), contribution_sk(kind, record_id)


class ReportEntry(Item, discriminator=ENTRY):
    date = UnicodeAttribute()
    kind = UnicodeAttribute()
    record_id = UnicodeAttribute()
    patient_id = UnicodeAttribute(null=True)
    label = UnicodeAttribute(null=True)
    amount_cents = NumberAttribute(null=True)
    method = UnicodeAttribute(null=True)
    minutes = NumberAttribute(null=True)
    professional_id = UnicodeAttribute(null=True)
    cabinet_id = UnicodeAttribute(null=True)
