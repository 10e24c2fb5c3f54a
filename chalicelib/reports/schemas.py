"""Input and output schemas of the reports routes (the contract of issue 18). Money travels as
canonical text ("123.45", as billing); days are the clinic's local days. Dates and the figure
are checked by the service (a 400 a person can act on), not by the query model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

DATE_TEXT = Field(max_length=10, description="local day, YYYY-MM-DD")
ID_PATTERN = r"^[0-9A-Za-z_-]+$"
Bucket = Literal["0_30", "31_60", "61_90", "over_90"]

DATED_LISTS = (
    "production",
    "invoiced",
    "collected",
    "appointments",
    "attended",
    "no_shows",
    "cancellations",
    "late_cancellations",
    "new_patients",
    "budgets_presented",
    "budgets_accepted",
)
STATE_LISTS = ("outstanding", "pending_budgets")
#: Lists that can be narrowed to one professional / one cabinet.
BY_PROFESSIONAL = (
    "production",
    "appointments",
    "attended",
    "no_shows",
    "cancellations",
    "late_cancellations",
)
BY_CABINET = ("appointments", "attended", "no_shows", "cancellations", "late_cancellations")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class RangeQuery(Strict):
    date_from: str = Field(alias="from", max_length=10, description="first local day, YYYY-MM-DD")
    date_to: str = Field(alias="to", max_length=10, description="last local day, YYYY-MM-DD")


class SummaryExportQuery(RangeQuery):
    group: Literal["period", "professional", "cabinet"] = "period"


class ItemsQuery(Strict):
    figure: str = Field(max_length=40, description=", ".join(DATED_LISTS + STATE_LISTS))
    date_from: str | None = Field(default=None, alias="from", max_length=10)
    date_to: str | None = Field(default=None, alias="to", max_length=10)
    professional_id: str | None = Field(default=None, max_length=40, pattern=ID_PATTERN)
    cabinet_id: str | None = Field(default=None, max_length=40, pattern=ID_PATTERN)
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)


class ItemsExportQuery(Strict):
    figure: str = Field(max_length=40)
    date_from: str | None = Field(default=None, alias="from", max_length=10)
    date_to: str | None = Field(default=None, alias="to", max_length=10)
    professional_id: str | None = Field(default=None, max_length=40, pattern=ID_PATTERN)
    cabinet_id: str | None = Field(default=None, max_length=40, pattern=ID_PATTERN)


class Figures(BaseModel):
    production: str = "0.00"
    treatments_completed: int = 0
    invoiced: str = "0.00"
    invoices_issued: int = 0
    collected: str = "0.00"
    refunded: str = "0.00"
    collected_by_method: dict[str, str] = Field(default_factory=dict)
    appointments: int = 0
    attended: int = 0
    no_shows: int = 0
    cancellations: int = 0
    late_cancellations: int = 0
    show_rate: float | None = None
    open_minutes: int = 0
    booked_minutes: int = 0
    attended_minutes: int = 0
    utilisation: float | None = None
    new_patients: int = 0
    budgets_presented: int = 0
    budgets_presented_value: str = "0.00"
    budgets_accepted: int = 0
    budgets_accepted_value: str = "0.00"


class PeriodFigures(Figures):
    period: str


class ProfessionalFigures(BaseModel):
    professional_id: str
    name: str
    production: str
    treatments_completed: int
    appointments: int
    attended: int
    no_shows: int
    booked_minutes: int
    attended_minutes: int


class CabinetFigures(BaseModel):
    cabinet_id: str
    name: str
    open_minutes: int
    booked_minutes: int
    attended_minutes: int
    utilisation: float | None


class _SummaryBody(BaseModel):
    currency: str
    time_zone: str
    granularity: Literal["day", "month"]
    totals: Figures
    series: list[PeriodFigures]
    professionals: list[ProfessionalFigures]
    cabinets: list[CabinetFigures]


# "from" and "to" are Python keywords, so the model is made with them as its field names (no
# alias: the OpenAPI document and the JSON say what the model says).
SummaryOut = create_model(
    "SummaryOut",
    __base__=_SummaryBody,
    **{
        "from": (str, Field(description="first local day")),
        "to": (str, Field(description="last local day")),
    },
)


class AgeBucket(BaseModel):
    bucket: Bucket
    amount: str
    count: int


class Balances(BaseModel):
    outstanding: str
    invoices: int
    ages: list[AgeBucket]


class PendingBudgets(BaseModel):
    pending: int
    pending_value: str
    ages: list[AgeBucket]


class PendingOut(BaseModel):
    as_of: str
    currency: str
    balances: Balances
    budgets: PendingBudgets


class ItemRow(BaseModel):
    date: str
    kind: Literal["treatment", "invoice", "payment", "appointment", "patient", "budget"]
    id: str
    patient_id: str | None
    patient_name: str | None
    label: str
    amount: str | None
    method: str | None
    minutes: int | None
    professional_id: str | None
    cabinet_id: str | None
    age_days: int | None
