import type { RouteLocationRaw } from 'vue-router'
import type { Appointment, ApptStatus, Day } from '@/api/agenda'

/**
 * Which day the dashboard shows, from today and the days after it: today when the clinic
 * opens today, otherwise the next day it opens (so a weekend or a holiday still shows the
 * coming work). Null when the clinic opens on none of them.
 */
export function agendaDay(days: Day[]): { day: Day | null; todayClosed: boolean } {
  const [today, ...later] = days
  if (!today) return { day: null, todayClosed: false }
  if (!today.closed) return { day: today, todayClosed: false }
  return { day: later.find((d) => !d.closed) ?? null, todayClosed: true }
}

/**
 * The patients of a day who have medical alerts, each once, by their first appointment's
 * time: the day view already carries every patient's alerts.
 */
export function withAlerts(appointments: Appointment[]): Appointment[] {
  const seen = new Set<string>()
  return [...appointments]
    .filter((a) => a.status !== 'cancelled' && a.patient_alerts.length > 0)
    .sort((a, b) => a.start.localeCompare(b.start))
    .filter((a) => !seen.has(a.patient_id) && !!seen.add(a.patient_id))
}

// Titles people put before their name ("Dra. Marta López"): the greeting uses the name itself.
const TITLES = new Set(['dr', 'dra', 'doctor', 'doctora', 'sr', 'sra', 'srta', 'd', 'dña', 'don', 'doña', 'prof', 'mr', 'mrs', 'ms', 'miss'])

/** The first name to greet someone by: the first word of their name that is not a title. */
export function firstName(fullName: string | undefined): string {
  const words = (fullName ?? '').trim().split(/\s+/).filter(Boolean)
  return words.find((w) => !TITLES.has(w.replace(/\.$/, '').toLowerCase())) ?? words[0] ?? ''
}

const GROUP: Record<string, number> = { in_progress: 0, checked_in: 1, confirmed: 2, scheduled: 2, completed: 3, no_show: 4, cancelled: 5 }

/**
 * The day's list as the front desk and the chair read it: who is in the chair and who is
 * waiting, then who comes next (by time), then who is done, absent or cancelled. A
 * professional's own appointments come first within each group.
 */
export function dayOrder(appointments: Appointment[], me?: string | null): Appointment[] {
  const mine = (a: Appointment) => (me && a.professional_id === me ? 0 : 1)
  return [...appointments].sort(
    (a, b) => (GROUP[a.status] ?? 2) - (GROUP[b.status] ?? 2) || mine(a) - mine(b) || a.start.localeCompare(b.start),
  )
}

/** The statuses each dashboard count is made of; the agenda's `show` filter uses the same. */
export const STAT_STATUSES = {
  appointments: ['scheduled', 'confirmed', 'checked_in', 'in_progress', 'completed'],
  pending: ['scheduled', 'confirmed'],
  arrived: ['checked_in', 'in_progress'],
  done: ['completed'],
} as const satisfies Record<string, readonly ApptStatus[]>
export type StatusGroup = keyof typeof STAT_STATUSES
export type StatKey = StatusGroup | 'alerts'

export const isStatusGroup = (v: unknown): v is StatusGroup => typeof v === 'string' && Object.hasOwn(STAT_STATUSES, v)

/** How many of the day's appointments a count shows. */
export function countOf(key: StatusGroup, appointments: Appointment[]): number {
  const wanted: readonly ApptStatus[] = STAT_STATUSES[key]
  return appointments.filter((a) => wanted.includes(a.status)).length
}

/**
 * Where a count leads: the agenda of that day showing exactly those appointments, or, for the
 * patients with alerts, the list of them further down the dashboard (a section id).
 */
export function statTarget(key: StatKey, date: string | undefined): { route: RouteLocationRaw } | { section: string } {
  if (key === 'alerts') return { section: 'dashboard-alerts-title' }
  return { route: { name: 'agenda', query: { view: 'day', ...(date ? { date } : {}), show: key } } }
}
