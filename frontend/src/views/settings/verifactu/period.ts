// The period of the invoice book (pure; unit-tested): ISO dates ("2026-10-01"), both days
// included, as GET /verifactu/book/* takes them in `from` and `to`.
import type { Msg } from '@/forms/validation'

/** Longest period one book request covers (contracts.BOOK_MAX_DAYS: a year, leap years included). */
export const BOOK_MAX_DAYS = 366

export interface Period { from: string; to: string }

const ISO = /^(\d{4})-(\d{2})-(\d{2})$/

/** Days since the epoch of an ISO date, or null when it is not a real calendar date. */
export function dayNumber(iso: string): number | null {
  const m = ISO.exec(iso)
  if (!m) return null
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const t = Date.UTC(y, mo - 1, d)
  const back = new Date(t)
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null
  return Math.round(t / 86_400_000)
}

const pad = (n: number) => String(n).padStart(2, '0')
const lastDay = (y: number, month: number) => new Date(Date.UTC(y, month, 0)).getUTCDate() // month 1-12

/** Today's date in the clinic's time zone (the invoices' dates are the clinic's). */
export function todayIn(timeZone: string | null | undefined, now: Date = new Date()): string {
  try {
    // en-CA formats as YYYY-MM-DD.
    return new Intl.DateTimeFormat('en-CA', { timeZone: timeZone || undefined, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
  } catch {
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
  }
}

/** The calendar quarter (1-4) of year `y`, whole. */
export function quarter(y: number, q: number): Period {
  const first = (q - 1) * 3 + 1
  return { from: `${y}-${pad(first)}-01`, to: `${y}-${pad(first + 2)}-${pad(lastDay(y, first + 2))}` }
}

function parts(today: string): [number, number] {
  const [y, m] = today.split('-').map(Number) as [number, number]
  return [y, Math.floor((m - 1) / 3) + 1]
}

/** The quarter `today` falls in (the default: what the gestor files next). */
export const currentQuarter = (today: string): Period => quarter(...parts(today))

/** The quarter before the one `today` falls in. */
export function previousQuarter(today: string): Period {
  const [y, q] = parts(today)
  return q === 1 ? quarter(y - 1, 4) : quarter(y, q - 1)
}

/** The whole calendar year `today` falls in. */
export const currentYear = (today: string): Period => ({ from: `${today.slice(0, 4)}-01-01`, to: `${today.slice(0, 4)}-12-31` })

/** What is wrong with a period, as an i18n message; null when the API will take it. */
export function periodError(p: Period): { field: 'from' | 'to'; msg: Msg } | null {
  for (const field of ['from', 'to'] as const) {
    const v = p[field]
    if (!v) return { field, msg: { key: 'validation.required' } }
    const n = dayNumber(v)
    if (n === null || v < '1900-01-01' || v > '2100-12-31') return { field, msg: { key: 'validation.date' } }
  }
  const days = dayNumber(p.to)! - dayNumber(p.from)! + 1
  if (days < 1) return { field: 'to', msg: { key: 'verifactu.book.order' } }
  if (days > BOOK_MAX_DAYS) return { field: 'to', msg: { key: 'verifactu.book.tooLong', params: { n: BOOK_MAX_DAYS } } }
  return null
}

/** How a file names the period: "2026-T4" (a quarter), "2026" (a year), "2026-11" (a month),
 *  otherwise "2026-10-05_2026-11-20". */
export function periodLabel(p: Period): string {
  const [fy, fm, fd] = p.from.split('-').map(Number) as [number, number, number]
  const [ty, tm, td] = p.to.split('-').map(Number) as [number, number, number]
  const wholeMonths = fy === ty && fd === 1 && td === lastDay(ty, tm)
  if (wholeMonths && fm === 1 && tm === 12) return String(fy)
  if (wholeMonths && fm === tm) return `${fy}-${pad(fm)}`
  if (wholeMonths && (fm - 1) % 3 === 0 && tm === fm + 2) return `${fy}-T${(fm - 1) / 3 + 1}`
  return `${p.from}_${p.to}`
}

/** The file a download is saved as: the CSV book, or the XML records (numbered when the API
 *  answers in several parts: "-parte-2"). The NIF is added only when the clinic has several. */
export function bookFileName(kind: 'csv' | 'xml', p: Period, opts: { nif?: string | null; part?: number } = {}): string {
  const base = kind === 'csv' ? 'libro-facturas-expedidas' : 'registros-verifactu'
  const nif = opts.nif ? `-${opts.nif}` : ''
  const part = opts.part ? `-parte-${opts.part}` : ''
  return `${base}${nif}-${periodLabel(p)}${part}.${kind}`
}
