// The logic of Settings → Agenda, apart from the screen: the week of opening hours as edited,
// the API's field errors placed on the range they name, and the closed days still to come.
import { WEEKDAYS, type Holiday, type TimeRange, type WeekHours, type Weekday } from '@/api/agenda'
import type { ApiError } from '@/api/http'

/** A range being edited: `key` keeps Vue's rows stable while ranges are added and removed. */
export interface EditRange { key: number; start: string; end: string }
export type EditWeek = Record<Weekday, EditRange[]>

let nextKey = 1
export const editRange = (r: Partial<TimeRange> = {}): EditRange => ({ key: nextKey++, start: r.start ?? '', end: r.end ?? '' })

export function toEdit(week: Partial<WeekHours>): EditWeek {
  return Object.fromEntries(WEEKDAYS.map((d) => [d, (week[d] ?? []).map(editRange)])) as EditWeek
}

/** The body of PUT /agenda/hours: the ranges in the order shown, so the API's indices
 * (`monday.1.start`) point at the rows on screen. */
export function toBody(week: EditWeek): WeekHours {
  return Object.fromEntries(WEEKDAYS.map((d) => [d, week[d].map(({ start, end }) => ({ start, end }))])) as WeekHours
}

export const sameWeek = (a: EditWeek, b: EditWeek) => JSON.stringify(toBody(a)) === JSON.stringify(toBody(b))

/** A new range for a day: after the last one (one hour, when it fits), or the usual morning. */
export function nextRange(ranges: EditRange[]): EditRange {
  const last = ranges[ranges.length - 1]
  if (!last || !/^\d{2}:\d{2}$/.test(last.end)) return editRange({ start: '09:00', end: '14:00' })
  const [h, m] = last.end.split(':').map(Number) as [number, number]
  const start = h * 60 + m + 60
  if (start + 60 > 24 * 60) return editRange()
  const hhmm = (x: number) => `${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`
  return editRange({ start: hhmm(start), end: hhmm(Math.min(start + 4 * 60, 23 * 60 + 55)) })
}

/** What the screen checks before sending (the API checks the rest, overlaps included). */
export type LocalProblem = 'required' | 'endAfterStart'
export function localProblems(week: EditWeek): Record<string, LocalProblem> {
  const out: Record<string, LocalProblem> = {}
  for (const d of WEEKDAYS)
    week[d].forEach((r, i) => {
      if (!r.start) out[`${d}.${i}.start`] = 'required'
      if (!r.end) out[`${d}.${i}.end`] = 'required'
      else if (r.start && r.end <= r.start) out[`${d}.${i}.end`] = 'endAfterStart'
    })
  return out
}

/** The API's 422 on the hours, by field (`monday.1.start` -> its message); a field the screen
 * has no control for (a whole day, the body) goes under `form`. */
export function hoursErrors(e: ApiError): Record<string, string> {
  const out: Record<string, string> = {}
  for (const fe of e.errors) {
    const f = fe.field.replace(/^body\./, '')
    const key = /^(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\.\d+\.(start|end)$/.test(f) ? f : 'form'
    if (!out[key]) out[key] = fe.message
  }
  return out
}

/** Closed days from `today` on (YYYY-MM-DD, the clinic's calendar), soonest first. */
export function upcoming(list: Holiday[], today: string): Holiday[] {
  return list.filter((h) => h.date >= today).sort((a, b) => a.date.localeCompare(b.date))
}

/** Days from `first` to `last`, both included (0 when last is before first or either is missing). */
export function daysBetween(first: string, last: string): number {
  if (!first || !last) return 0
  const ms = Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)
  return Number.isNaN(ms) || ms < 0 ? 0 : Math.round(ms / 86_400_000) + 1
}
