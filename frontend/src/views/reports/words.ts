// How the reports screen writes its figures (pure; unit-tested): money in the clinic's currency
// and the user's language, rates as percentages, minutes as hours, local days as dates, and a
// change against last year both as a short mark ("+12 %", "−3 %") and in words.
import { formatMoney } from '@/api/payments'
import type { Change, Measure, Range } from './periods'

type T = (key: string, params?: Record<string, unknown>) => string
const tag = (locale: string) => (locale === 'en' ? 'en-GB' : 'es-ES')
const noon = (day: string) => new Date(`${day}T12:00:00Z`)

export const money = (amount: string | null | undefined, locale: string, currency = 'EUR') => formatMoney(amount ?? '0', locale, currency)

export function percent(rate: number | null | undefined, locale: string): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—'
  return new Intl.NumberFormat(tag(locale), { style: 'percent', maximumFractionDigits: 1 }).format(rate)
}
export function count(n: number, locale: string): string {
  return new Intl.NumberFormat(tag(locale)).format(n)
}
/** Minutes as hours with one decimal: 90 -> "1,5" (es) / "1.5" (en); the unit is the caller's. */
export function hours(minutes: number, locale: string): string {
  return new Intl.NumberFormat(tag(locale), { maximumFractionDigits: 1 }).format(minutes / 60)
}
/** A local day as a short date ("4 dic 2026"); the day is already the clinic's, so UTC noon keeps it. */
export function day(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(tag(locale), { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(noon(iso))
}
/** A series period: a day ("4 dic") or a month ("dic 2026"). */
export function periodLabel(period: string, locale: string): string {
  if (/^\d{4}-\d{2}$/.test(period)) {
    return new Intl.DateTimeFormat(tag(locale), { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(noon(`${period}-15`))
  }
  return new Intl.DateTimeFormat(tag(locale), { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(noon(period))
}
/** A range of days as people write it ("1–4 dic 2026"), one day alone as that day. */
export function rangeText(r: Range, locale: string): string {
  const f = new Intl.DateTimeFormat(tag(locale), { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })
  return r.from === r.to ? f.format(noon(r.from)) : f.formatRange(noon(r.from), noon(r.to))
}

/** The change as a short visible mark: "+12 %", "−3,5 %", "+2 p. p.", "=" or "—". */
export function changeMark(c: Change, measure: Measure, locale: string, t: T): string {
  if (c.dir === 'none') return '—'
  if (c.dir === 'same') return '='
  const sign = c.dir === 'up' ? '+' : '−'
  return `${sign}${size(c, measure, locale, t, true)}`
}
/** The change in words, for screen readers (and the mark's tooltip). */
export function changeWords(c: Change, measure: Measure, locale: string, t: T): string {
  if (c.dir === 'none' || c.dir === 'same') return t(`reports.change.${c.dir}`)
  return t(`reports.change.${c.dir}`, { size: size(c, measure, locale, t, false) })
}
function size(c: Change, measure: Measure, locale: string, t: T, short: boolean): string {
  if (measure === 'rate') {
    const n = new Intl.NumberFormat(tag(locale), { maximumFractionDigits: 1 }).format(c.size)
    return t(short ? 'reports.pointsShort' : 'reports.points', { n })
  }
  return new Intl.NumberFormat(tag(locale), { style: 'percent', maximumFractionDigits: c.size < 0.1 ? 1 : 0 }).format(c.size)
}
