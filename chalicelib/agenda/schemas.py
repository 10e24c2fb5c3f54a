"""Input and output schemas of the agenda routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.core import validators
from chalicelib.core.errors import invalid_field
from chalicelib.core.i18n import tr
from chalicelib.core.validators import BoundedDate, BoundedDatetime, PartialUpdate
from chalicelib.patients.schemas import Alert

Status = Literal[
    "scheduled", "confirmed", "checked_in", "in_progress", "completed", "cancelled", "no_show"
]
Colour = Literal[
    "teal", "blue", "indigo", "purple", "pink", "red", "orange", "amber", "green", "grey"
]
PALETTE: tuple[str, ...] = Colour.__args__
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS_ES = dict(
    zip(
        WEEKDAYS,
        ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
        strict=True,
    )
)
SLOT_MIN = 5
MAX_DURATION_MIN = 240
MAX_HOLIDAY_RANGE = 92  # one season; a transaction holds up to 100 writes
# Deactivating a cabinet says how many live bookings it keeps, "more than 100" beyond that: the
# count reads at most twice this many items (cancelled ones are read too), one Query page, however
# far ahead the cabinet is booked (issue 23).
UPCOMING_CAP = 100
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"  # [0-9]: ASCII digits only


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- cabinets, professionals, hours, holidays --------------------------------------------


class CabinetIn(Strict):
    name: str = Field(min_length=1, max_length=60)
    colour: str | None = Field(default=None, pattern=validators.HEX_COLOUR.pattern)
    position: int = Field(default=0, ge=0, le=1000)


class CabinetUpdate(PartialUpdate):
    """Only the fields sent change; null clears the colour."""

    CLEARABLE = frozenset({"colour"})

    name: str | None = Field(default=None, min_length=1, max_length=60)
    colour: str | None = Field(default=None, pattern=validators.HEX_COLOUR.pattern)
    position: int | None = Field(default=None, ge=0, le=1000)
    active: bool | None = None


class CabinetOut(BaseModel):
    cabinet_id: str
    name: str
    colour: str | None
    position: int
    active: bool


class ProfessionalOut(BaseModel):
    user_id: str
    name: str
    role: str


class TimeRange(Strict):
    start: str = Field(pattern=HHMM, examples=["09:00"])
    end: str = Field(pattern=HHMM, examples=["14:00"])

    @model_validator(mode="after")
    def _order(self) -> TimeRange:
        if self.end <= self.start:
            raise invalid_field(
                "TimeRange",
                ("end",),
                tr("end must be after start", "el fin debe ser posterior al inicio"),
                self.end,
            )
        return self


class OpeningHoursIn(Strict):
    """The clinic's weekly hours: per weekday, the ranges it is open (empty = closed)."""

    monday: list[TimeRange] = Field(default_factory=list, max_length=6)
    tuesday: list[TimeRange] = Field(default_factory=list, max_length=6)
    wednesday: list[TimeRange] = Field(default_factory=list, max_length=6)
    thursday: list[TimeRange] = Field(default_factory=list, max_length=6)
    friday: list[TimeRange] = Field(default_factory=list, max_length=6)
    saturday: list[TimeRange] = Field(default_factory=list, max_length=6)
    sunday: list[TimeRange] = Field(default_factory=list, max_length=6)

    @model_validator(mode="after")
    def _no_overlap(self) -> OpeningHoursIn:
        for day in WEEKDAYS:
            sent = getattr(self, day)
            ranges = sorted(sent, key=lambda r: r.start)
            for a, b in zip(ranges, ranges[1:], strict=False):
                if b.start < a.end:
                    # named by its index as sent (e.g. monday.1.start), not the sorted one
                    raise invalid_field(
                        "OpeningHoursIn",
                        (day, next(i for i, r in enumerate(sent) if r is b), "start"),
                        tr(
                            f"overlaps {a.start}-{a.end} on {day}",
                            f"se solapa con {a.start}-{a.end} el {WEEKDAYS_ES[day]}",
                        ),
                        b.start,
                    )
            setattr(self, day, ranges)
        return self


class OpeningHoursOut(OpeningHoursIn):
    time_zone: str
    customised: bool = Field(description="false while the clinic uses the default hours")


class HolidayIn(Strict):
    date: BoundedDate
    name: str = Field(min_length=1, max_length=120)


class HolidayOut(BaseModel):
    date: date
    name: str


class HolidayRangeIn(Strict):
    """Several closed days in a row (a summer closure): ``first`` to ``last``, both included."""

    first: BoundedDate
    last: BoundedDate
    name: str = Field(min_length=1, max_length=120)

    @model_validator(mode="after")
    def _order(self) -> HolidayRangeIn:
        if self.last < self.first:
            raise invalid_field(
                "HolidayRangeIn",
                ("last",),
                tr("must not be before first", "no puede ser anterior al primer día"),
                self.last.isoformat(),
            )
        if (self.last - self.first).days + 1 > MAX_HOLIDAY_RANGE:
            raise invalid_field(
                "HolidayRangeIn",
                ("last",),
                tr(
                    f"a range is at most {MAX_HOLIDAY_RANGE} days",
                    f"un periodo tiene como máximo {MAX_HOLIDAY_RANGE} días",
                ),
                self.last.isoformat(),
            )
        return self


class HolidayRangeOut(BaseModel):
    added: list[HolidayOut] = Field(description="the days closed by this request")
    already_closed: list[HolidayOut] = Field(
        description="days of the range that were already closed, left with their own name"
    )


class CabinetUpcomingOut(BaseModel):
    """What deactivating a cabinet leaves behind: its live appointments from now on."""

    cabinet_id: str
    count: int = Field(description=f"live appointments from now on (counted up to {UPCOMING_CAP})")
    capped: bool = Field(description="true when there are more than count")
    first: datetime | None = Field(description="start of the first one, in the clinic's zone")


class HolidayQuery(Strict):
    year: int | None = Field(default=None, ge=2000, le=2100)


# --- appointments --------------------------------------------------------------------------


def _check_duration(v: int | None) -> int | None:
    if v is not None and v % SLOT_MIN:
        raise ValueError(
            tr(
                f"must be a multiple of {SLOT_MIN} minutes",
                f"debe ser múltiplo de {SLOT_MIN} minutos",
            )
        )
    return v


def _check_start(v: datetime | None) -> datetime | None:
    if v is not None and (v.minute % SLOT_MIN or v.second or v.microsecond):
        raise ValueError(
            tr(
                f"must be on a {SLOT_MIN}-minute boundary (e.g. 10:05, 10:10)",
                f"debe caer en un múltiplo de {SLOT_MIN} minutos (p. ej. 10:05, 10:10)",
            )
        )
    return v


class AppointmentIn(Strict):
    patient_id: str = Field(min_length=1, max_length=64)
    professional_id: str = Field(min_length=1, max_length=64)
    cabinet_id: str = Field(min_length=1, max_length=64)
    start: BoundedDatetime = Field(
        description="Local time in the clinic's zone (2026-03-09T10:00) or with an offset; "
        "between 1900 and 2100",
    )
    duration_min: int = Field(ge=SLOT_MIN, le=MAX_DURATION_MIN, examples=[30])
    reason: str = Field(min_length=1, max_length=200, examples=["Revisión"])
    treatment: str | None = Field(default=None, max_length=200)
    colour: Colour | None = None
    notes: str | None = Field(default=None, max_length=2000)
    override: bool = Field(
        default=False,
        description="Book outside opening hours, on a closed day or in the past (a visit "
        "recorded after the fact); needs agenda.appointments.override, and the audit entry "
        "records what it let through",
    )

    @field_validator("duration_min")
    @classmethod
    def _duration(cls, v: int | None) -> int | None:
        return _check_duration(v)

    @field_validator("start")
    @classmethod
    def _start(cls, v: datetime | None) -> datetime | None:
        return _check_start(v)


class AppointmentUpdate(PartialUpdate):
    """Only the fields sent change; null clears the treatment, colour or notes. Changing
    start, duration, cabinet or professional is a reschedule: it is checked like a new booking
    and recorded in ``reschedules``."""

    CLEARABLE = frozenset({"treatment", "colour", "notes", "reschedule_reason"})

    professional_id: str | None = Field(default=None, min_length=1, max_length=64)
    cabinet_id: str | None = Field(default=None, min_length=1, max_length=64)
    start: BoundedDatetime | None = None
    duration_min: int | None = Field(default=None, ge=SLOT_MIN, le=MAX_DURATION_MIN)
    reason: str | None = Field(default=None, min_length=1, max_length=200)
    treatment: str | None = Field(default=None, max_length=200)
    colour: Colour | None = None
    notes: str | None = Field(default=None, max_length=2000)
    override: bool = Field(
        default=False,
        description="Move outside opening hours, to a closed day or into the past; needs "
        "agenda.appointments.override, and the audit entry records what it let through",
    )
    reschedule_reason: str | None = Field(default=None, max_length=200)

    @field_validator("duration_min")
    @classmethod
    def _duration(cls, v: int | None) -> int | None:
        return _check_duration(v)

    @field_validator("start")
    @classmethod
    def _start(cls, v: datetime | None) -> datetime | None:
        return _check_start(v)


class StatusIn(Strict):
    status: Status
    reason: str | None = Field(default=None, max_length=200, description="e.g. why cancelled")


class StatusChange(BaseModel):
    status: Status
    at: datetime
    by: str
    reason: str | None = None


class Placement(BaseModel):
    start: datetime
    duration_min: int
    cabinet_id: str
    professional_id: str


class Reschedule(BaseModel):
    at: datetime
    by: str
    reason: str | None = None
    previous: Placement
    new: Placement


class AppointmentOut(BaseModel):
    appointment_id: str
    patient_id: str
    patient_name: str | None = Field(description="Only for callers with patients.read")
    patient_alerts: list[Alert] = Field(
        default_factory=list,
        description="The patient's medical alerts, as on every patient read (only for callers "
        "with patients.read), so a day or week view shows them without a read per patient",
    )
    professional_id: str
    professional_name: str | None
    cabinet_id: str
    start: datetime = Field(description="In the clinic's time zone, with its offset")
    end: datetime
    time_zone: str
    duration_min: int
    reason: str
    treatment: str | None
    colour: Colour | None
    notes: str | None
    status: Status
    allowed_transitions: list[Status]
    status_history: list[StatusChange]
    reschedules: list[Reschedule]
    outside_hours: bool
    source: Literal["staff", "online"] = Field(
        default="staff", description="online: booked by the patient on the public booking page"
    )
    booking_ref: str | None = Field(
        default=None, description="What led to an online booking (e.g. recall:<id>)"
    )
    created_at: datetime
    updated_at: datetime


class ViewQuery(Strict):
    cabinet_id: str | None = Field(default=None, max_length=64)
    professional_id: str | None = Field(default=None, max_length=64)
    include_cancelled: bool = Field(default=False, description="also cancelled and no-shows")

    @model_validator(mode="after")
    def _one(self) -> ViewQuery:
        if self.cabinet_id and self.professional_id:
            raise invalid_field(
                type(self).__name__,
                ("professional_id",),
                tr(
                    "filter by cabinet_id or by professional_id, not both",
                    "filtra por cabinet_id o por professional_id, no por los dos",
                ),
                self.professional_id,
            )
        return self


class DayQuery(ViewQuery):
    date: BoundedDate


class WeekQuery(ViewQuery):
    start: BoundedDate = Field(description="First day shown (usually a Monday); 7 days from it")


class DayOut(BaseModel):
    date: date
    weekday: str
    time_zone: str
    closed: bool
    holiday: str | None
    hours: list[TimeRange]
    appointments: list[AppointmentOut]


class WeekOut(BaseModel):
    start: date
    end: date
    time_zone: str
    days: list[DayOut]


class PatientAppointmentsQuery(Strict):
    when: Literal["upcoming", "past"] = "upcoming"
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=20, ge=1, le=100)
