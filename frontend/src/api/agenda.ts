import { api } from './http'
import type { Page } from './types'
import type { Alert } from './patients'
import { ownChanges } from '@/live/own'

export type ApptStatus = 'scheduled' | 'confirmed' | 'checked_in' | 'in_progress' | 'completed' | 'cancelled' | 'no_show'
export interface Cabinet { cabinet_id: string; name: string; colour: string | null; position: number; active: boolean }
export interface Professional { user_id: string; name: string; role: string }
export interface Appointment {
  appointment_id: string; patient_id: string; patient_name: string | null; patient_alerts: Alert[]; professional_id: string; professional_name: string | null
  cabinet_id: string; start: string; end: string; time_zone: string; duration_min: number; reason: string; treatment: string | null
  colour: string | null; notes: string | null; status: ApptStatus; allowed_transitions: ApptStatus[]; outside_hours: boolean
  /** online: booked by the patient on the public booking page (absent on older answers). */
  source?: 'staff' | 'online'; booking_ref?: string | null
}
export interface TimeRange { start: string; end: string }
export interface Day { date: string; weekday: string; time_zone: string; closed: boolean; holiday: string | null; hours: TimeRange[]; appointments: Appointment[] }
export interface Week { start: string; end: string; time_zone: string; days: Day[] }

// ---- settings: cabinets, opening hours, closed days (`agenda.settings.write` to change) ----
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const
export type Weekday = (typeof WEEKDAYS)[number]
export type WeekHours = Record<Weekday, TimeRange[]>
export interface OpeningHours extends WeekHours { time_zone: string; customised: boolean }
export interface Holiday { date: string; name: string }
export interface HolidayRange { added: Holiday[]; already_closed: Holiday[] }
export interface CabinetIn { name: string; colour: string | null; position: number }
/** A cabinet's live appointments from now on: deactivating it keeps them where they are. */
export interface CabinetUpcoming { cabinet_id: string; count: number; capped: boolean; first: string | null }

export const PALETTE: Record<string, string> = {
  teal: '#0d9488', blue: '#2563eb', indigo: '#4f46e5', purple: '#9333ea', pink: '#db2777', red: '#dc2626', orange: '#ea580c', amber: '#d97706', green: '#16a34a', grey: '#64748b',
}
export const SLOT_MIN = 5

type Severity = 'success' | 'info' | 'secondary' | 'danger' | 'warn' | undefined
const SEVERITY: Partial<Record<ApptStatus, Severity>> = {
  confirmed: 'success', checked_in: 'info', in_progress: 'info', completed: 'secondary', cancelled: 'danger', no_show: 'warn',
}
/** The Tag colour of a status (scheduled keeps the neutral default). */
export const statusSeverity = (s: ApptStatus): Severity => SEVERITY[s]

/** The wall-clock time of an ISO datetime with offset, as written ("2026-11-23T10:00:00+01:00" -> 600). */
export function minutesOf(iso: string): number {
  const m = /T(\d{2}):(\d{2})/.exec(iso)
  return m ? Number(m[1]) * 60 + Number(m[2]) : 0
}
export function hhmm(min: number): string {
  return `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`
}
/** Round to the booking grid. */
export function snap(min: number, step = 15): number {
  return Math.round(min / step) * step
}

export const agendaApi = {
  cabinets: () => api.get<Cabinet[]>('/agenda/cabinets'),
  createCabinet: (name: string) => api.post<Cabinet>('/agenda/cabinets', { name }),
  createCabinetWith: (body: CabinetIn) => api.post<Cabinet>('/agenda/cabinets', body),
  updateCabinet: (id: string, body: Partial<CabinetIn> & { active?: boolean }) => api.patch<Cabinet>(`/agenda/cabinets/${id}`, body),
  cabinetUpcoming: (id: string) => api.get<CabinetUpcoming>(`/agenda/cabinets/${id}/upcoming`),
  hours: () => api.get<OpeningHours>('/agenda/hours'),
  setHours: (week: WeekHours) => api.put<OpeningHours>('/agenda/hours', week),
  holidays: (year?: number) => api.get<Holiday[]>('/agenda/holidays', { query: { year } }),
  addHoliday: (date: string, name: string) => api.post<Holiday>('/agenda/holidays', { date, name }),
  addHolidayRange: (first: string, last: string, name: string) => api.post<HolidayRange>('/agenda/holidays/range', { first, last, name }),
  removeHoliday: (date: string) => api.del<null>(`/agenda/holidays/${date}`),
  professionals: () => api.get<Professional[]>('/agenda/professionals'),
  day: (date: string, filter: Record<string, string> = {}) => api.get<Day>('/agenda/day', { query: { date, ...filter } }),
  week: (start: string, filter: Record<string, string> = {}, signal?: AbortSignal) => api.get<Week>('/agenda/week', { query: { start, ...filter }, signal }),
  // This tab's own changes come back as live events: they are not news from another desk.
  get: (id: string) => api.get<Appointment>(`/appointments/${id}`),
  create: (body: Record<string, unknown>) => api.post<Appointment>('/appointments', body).then(ownChanges.noted),
  update: (id: string, body: Record<string, unknown>) => {
    ownChanges.add(id)
    return api.patch<Appointment>(`/appointments/${id}`, body)
  },
  status: (id: string, status: ApptStatus, reason?: string) => {
    ownChanges.add(id)
    return api.post<Appointment>(`/appointments/${id}/status`, { status, reason })
  },
  forPatient: (pid: string, when: 'upcoming' | 'past') => api.get<Page<Appointment>>(`/patients/${pid}/appointments`, { query: { when } }),
}
