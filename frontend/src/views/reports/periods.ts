// The reports screen's arithmetic (pure; unit-tested): which local days a period covers, the
// same days a year earlier, how a figure changed against them, and where a record of a list
// leads. Days are the clinic's local days as "YYYY-MM-DD" text, never the machine's date.
import type { LocationQuery, RouteLocationRaw } from 'vue-router'
import { cents } from '@/api/payments'
import type { FigureKey, ReportItem } from '@/api/reports'

export const PRESETS = ['today', 'week', 'month', 'year'] as const
export type Preset = (typeof PRESETS)[number]
export type PeriodKind = Preset | 'custom'
export interface Range { from: string; to: string }

/** The longest range the API answers (days, inclusive). */
export const MAX_DAYS = 400

const ISO = /^\d{4}-\d{2}-\d{2}$/
const utc = (day: string) => new Date(`${day}T00:00:00Z`)
const text = (d: Date) => d.toISOString().slice(0, 10)

/** A real calendar day as "YYYY-MM-DD" (not "2026-02-30"). */
export function isDay(v: unknown): v is string {
  return typeof v === 'string' && ISO.test(v) && !Number.isNaN(utc(v).getTime()) && text(utc(v)) === v
}
export function addDays(day: string, n: number): string {
  const d = utc(day)
  d.setUTCDate(d.getUTCDate() + n)
  return text(d)
}
/** Days from `from` to `to`, both included. */
export function daysIn(r: Range): number {
  return Math.round((utc(r.to).getTime() - utc(r.from).getTime()) / 86_400_000) + 1
}

/** The days of a period up to today (to date: this week is Monday to today, as in Spain). */
export function presetRange(p: Preset, today: string): Range {
  switch (p) {
    case 'today':
      return { from: today, to: today }
    case 'week': {
      const weekday = (utc(today).getUTCDay() + 6) % 7 // Monday 0 … Sunday 6
      return { from: addDays(today, -weekday), to: today }
    }
    case 'month':
      return { from: `${today.slice(0, 7)}-01`, to: today }
    case 'year':
      return { from: `${today.slice(0, 4)}-01-01`, to: today }
  }
}

/** The same day a year earlier; 29 February becomes the 28th. */
export function yearEarlier(day: string): string {
  const y = String(Number(day.slice(0, 4)) - 1).padStart(4, '0')
  const candidate = `${y}${day.slice(4)}`
  return isDay(candidate) ? candidate : `${y}-02-28`
}
export const lastYear = (r: Range): Range => ({ from: yearEarlier(r.from), to: yearEarlier(r.to) })

/** What is wrong with a custom range, as an i18n key, or null when the API will take it. */
export function rangeProblem(r: { from: string; to: string }): string | null {
  if (!isDay(r.from) || !isDay(r.to)) return 'reports.range.invalid'
  if (r.from > r.to) return 'reports.range.order'
  if (daysIn(r) > MAX_DAYS) return 'reports.range.tooLong'
  return null
}

/** The period a URL asks for: `?period=week`, or `?from=&to=` for a custom range; this month otherwise. */
export function periodOf(query: LocationQuery, today: string): { kind: PeriodKind; range: Range } {
  const { from, to, period } = query
  if (isDay(from) && isDay(to) && !rangeProblem({ from, to })) return { kind: 'custom', range: { from, to } }
  const p = (PRESETS as readonly unknown[]).includes(period) ? (period as Preset) : 'month'
  return { kind: p, range: presetRange(p, today) }
}
/** The URL query of a period (what makes the screen shareable). */
export function periodQuery(kind: PeriodKind, range: Range): Record<string, string> {
  return kind === 'custom' ? { from: range.from, to: range.to } : { period: kind }
}

// ---- how a figure changed against the same period last year ----

export type Measure = 'money' | 'count' | 'rate'
export interface Change {
  /** up / down / same, or none when there is nothing to compare with. */
  dir: 'up' | 'down' | 'same' | 'none'
  /** The size of the change: a fraction for money and counts (0.125 = 12.5 %), percentage
   *  points for rates (3.2 = 3.2 points). */
  size: number
}
/** `now` against `before`: money as text ("45.50"), counts as integers, rates as fractions. */
export function change(now: string | number | null, before: string | number | null, measure: Measure): Change {
  if (now === null || before === null) return { dir: 'none', size: 0 }
  if (measure === 'rate') {
    const pts = Math.round((Number(now) - Number(before)) * 1000) / 10
    return { dir: pts > 0 ? 'up' : pts < 0 ? 'down' : 'same', size: Math.abs(pts) }
  }
  const a = measure === 'money' ? cents(String(now)) : Number(now)
  const b = measure === 'money' ? cents(String(before)) : Number(before)
  if (!Number.isFinite(a) || !Number.isFinite(b)) return { dir: 'none', size: 0 }
  if (a === b) return { dir: 'same', size: 0 }
  if (b === 0) return { dir: 'none', size: 0 }
  return { dir: a > b ? 'up' : 'down', size: Math.abs(a - b) / Math.abs(b) }
}

// ---- the lists behind the figures ----

/** What each list shows besides the date, the patient and the label. */
export function columnsOf(figure: FigureKey): { amount: boolean; method: boolean; minutes: boolean; age: boolean } {
  const money = ['production', 'invoiced', 'collected', 'budgets_presented', 'budgets_accepted', 'outstanding', 'pending_budgets'].includes(figure)
  const visits = ['appointments', 'attended', 'no_shows', 'cancellations', 'late_cancellations'].includes(figure)
  return { amount: money, method: figure === 'collected', minutes: visits, age: figure === 'outstanding' || figure === 'pending_budgets' }
}
export const isStateFigure = (f: FigureKey) => f === 'outstanding' || f === 'pending_budgets'

/** Where a record's label leads in the app, when it has a screen for it and the user may open it. */
export function recordTarget(item: ReportItem, can: (p: string) => boolean): RouteLocationRaw | null {
  const pid = item.patient_id
  switch (item.kind) {
    case 'invoice':
    case 'payment':
      return pid && can('billing.invoices.read') ? { name: 'patient', params: { id: pid, tab: 'invoices' } } : null
    case 'budget':
      return pid && can('billing.budgets.read') ? { name: 'patient', params: { id: pid, tab: 'budgets' } } : null
    case 'treatment':
      return pid && can('clinical.chart.read') ? { name: 'patient', params: { id: pid, tab: 'chart' } } : null
    case 'appointment':
      return can('agenda.appointments.read') ? { name: 'agenda', query: { view: 'day', date: item.date } } : null
    default:
      return null
  }
}

/** The URL of a figure's list (shareable; Back returns to the period it came from). */
export function itemsLink(figure: FigureKey, range: Range, extra: { professional_id?: string; cabinet_id?: string; period?: PeriodKind } = {}): RouteLocationRaw {
  // A state list ignores the dates; they stay in its URL so that Back returns to the same period.
  const query: Record<string, string> = { figure, from: range.from, to: range.to }
  if (extra.professional_id) query.professional_id = extra.professional_id
  if (extra.cabinet_id) query.cabinet_id = extra.cabinet_id
  if (extra.period && extra.period !== 'custom') query.period = extra.period
  return { name: 'reports', params: { report: 'items' }, query }
}
