"""Routes: cabinets, professionals, opening hours, closed days, appointments and views."""

from __future__ import annotations

from chalicelib.agenda import schemas, service
from chalicelib.core.api import Page, Req, Router

router = Router("agenda")
r = router.route


@r(
    "/agenda/cabinets",
    "GET",
    permission="agenda.appointments.read",
    response=list[schemas.CabinetOut],
    summary="Cabinets (chairs) in display order",
)
def list_cabinets(req: Req) -> list[schemas.CabinetOut]:
    return service.list_cabinets(req.user)


@r(
    "/agenda/cabinets",
    "POST",
    permission="agenda.settings.write",
    body=schemas.CabinetIn,
    response=schemas.CabinetOut,
    status=201,
    summary="Add a cabinet",
)
def create_cabinet(req: Req) -> schemas.CabinetOut:
    return service.create_cabinet(req.user, req.body)


@r(
    "/agenda/cabinets/{cabinet_id}",
    "PATCH",
    permission="agenda.settings.write",
    body=schemas.CabinetUpdate,
    response=schemas.CabinetOut,
    summary="Rename, recolour, reorder or deactivate a cabinet",
)
def update_cabinet(req: Req, cabinet_id: str) -> schemas.CabinetOut:
    return service.update_cabinet(req.user, cabinet_id, req.body)


@r(
    "/agenda/cabinets/{cabinet_id}/upcoming",
    "GET",
    permission="agenda.appointments.read",
    response=schemas.CabinetUpcomingOut,
    summary="How many live appointments the cabinet has from now on (before deactivating it)",
)
def cabinet_upcoming(req: Req, cabinet_id: str) -> schemas.CabinetUpcomingOut:
    return service.cabinet_upcoming(req.user, cabinet_id)


@r(
    "/agenda/professionals",
    "GET",
    permission="agenda.appointments.read",
    response=list[schemas.ProfessionalOut],
    summary="Active staff flagged as professionals (set on /staff/{user_id})",
)
def list_professionals(req: Req) -> list[schemas.ProfessionalOut]:
    return service.list_professionals(req.user)


@r(
    "/agenda/hours",
    "GET",
    permission="agenda.appointments.read",
    response=schemas.OpeningHoursOut,
    summary="Weekly opening hours (default Mon-Fri 09:00-14:00 and 16:00-20:00)",
)
def get_hours(req: Req) -> schemas.OpeningHoursOut:
    return service.get_hours(req.user)


@r(
    "/agenda/hours",
    "PUT",
    permission="agenda.settings.write",
    body=schemas.OpeningHoursIn,
    response=schemas.OpeningHoursOut,
    summary="Replace the weekly opening hours",
)
def set_hours(req: Req) -> schemas.OpeningHoursOut:
    return service.set_hours(req.user, req.body)


@r(
    "/agenda/holidays",
    "GET",
    permission="agenda.appointments.read",
    query=schemas.HolidayQuery,
    response=list[schemas.HolidayOut],
    summary="Closed days (holidays), optionally of one year",
)
def list_holidays(req: Req) -> list[schemas.HolidayOut]:
    return service.list_holidays(req.user, req.query)


@r(
    "/agenda/holidays",
    "POST",
    permission="agenda.settings.write",
    body=schemas.HolidayIn,
    response=schemas.HolidayOut,
    status=201,
    summary="Add a closed day",
)
def add_holiday(req: Req) -> schemas.HolidayOut:
    return service.add_holiday(req.user, req.body)


@r(
    "/agenda/holidays/range",
    "POST",
    permission="agenda.settings.write",
    body=schemas.HolidayRangeIn,
    response=schemas.HolidayRangeOut,
    status=201,
    summary="Close several days in a row (days already closed keep their name)",
)
def add_holiday_range(req: Req) -> schemas.HolidayRangeOut:
    return service.add_holiday_range(req.user, req.body)


@r(
    "/agenda/holidays/{date}",
    "DELETE",
    permission="agenda.settings.write",
    status=204,
    summary="Remove a closed day (YYYY-MM-DD)",
)
def remove_holiday(req: Req, date: str) -> None:
    service.remove_holiday(req.user, date)


@r(
    "/agenda/day",
    "GET",
    permission="agenda.appointments.read",
    query=schemas.DayQuery,
    response=schemas.DayOut,
    summary="One day: hours, closed flag and appointments (all cabinets, one cabinet or one "
    "professional)",
)
def day_view(req: Req) -> schemas.DayOut:
    return service.day_view(req.user, req.query)


@r(
    "/agenda/week",
    "GET",
    permission="agenda.appointments.read",
    query=schemas.WeekQuery,
    response=schemas.WeekOut,
    summary="Seven days from start (all cabinets, one cabinet or one professional)",
)
def week_view(req: Req) -> schemas.WeekOut:
    return service.week_view(req.user, req.query)


@r(
    "/appointments",
    "POST",
    permission="agenda.appointments.write",
    body=schemas.AppointmentIn,
    response=schemas.AppointmentOut,
    status=201,
    summary="Book an appointment (409 on overlap of the cabinet, professional or patient; 422 "
    "outside hours or in the past unless override)",
)
def create_appointment(req: Req) -> schemas.AppointmentOut:
    return service.create(req.user, req.body)


@r(
    "/appointments/{appointment_id}",
    "GET",
    permission="agenda.appointments.read",
    response=schemas.AppointmentOut,
    summary="An appointment with its status and reschedule history",
)
def get_appointment(req: Req, appointment_id: str) -> schemas.AppointmentOut:
    return service.get(req.user, appointment_id)


@r(
    "/appointments/{appointment_id}",
    "PATCH",
    permission="agenda.appointments.write",
    body=schemas.AppointmentUpdate,
    response=schemas.AppointmentOut,
    summary="Edit or reschedule an appointment (the previous placement is kept in reschedules; "
    "checked like a booking)",
)
def update_appointment(req: Req, appointment_id: str) -> schemas.AppointmentOut:
    return service.update(req.user, appointment_id, req.body)


@r(
    "/appointments/{appointment_id}/status",
    "POST",
    permission="agenda.appointments.write",
    body=schemas.StatusIn,
    response=schemas.AppointmentOut,
    summary="Move through the workflow: confirmed, checked_in, in_progress, completed, "
    "cancelled, no_show (409 on an invalid transition); cancelled or no_show back to "
    "scheduled when its slots and patient are still free",
)
def change_status(req: Req, appointment_id: str) -> schemas.AppointmentOut:
    return service.change_status(req.user, appointment_id, req.body)


@r(
    "/patients/{patient_id}/appointments",
    "GET",
    permission="agenda.appointments.read",
    query=schemas.PatientAppointmentsQuery,
    response=list[schemas.AppointmentOut],
    paged=True,
    summary="A patient's upcoming (soonest first) or past (latest first) appointments",
    tags=("agenda", "patients"),
)
def patient_appointments(req: Req, patient_id: str) -> Page:
    return service.patient_appointments(req.user, patient_id, req.query)
