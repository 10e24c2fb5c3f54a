// The practice in numbers (chalicelib/reports, issue 18): the figures of a range of local days
// with their series and per professional / cabinet tables, the state figures as of now
// (outstanding balances, pending budgets, by age), the records behind each figure, and their
// CSV exports. `reports.read`; the two exports need `reports.export`. Money is text ("45.50").
import { api, request } from './http'
import type { Page } from './types'

export interface Figures {
  production: string; treatments_completed: number
  invoiced: string; invoices_issued: number
  collected: string; refunded: string; collected_by_method: Record<string, string>
  appointments: number; attended: number; no_shows: number; cancellations: number; late_cancellations: number
  show_rate: number | null
  open_minutes: number; booked_minutes: number; attended_minutes: number; utilisation: number | null
  new_patients: number
  budgets_presented: number; budgets_presented_value: string
  budgets_accepted: number; budgets_accepted_value: string
}
export interface SeriesPoint extends Figures { period: string }
export interface ProfessionalRow {
  professional_id: string; name: string; production: string; treatments_completed: number
  appointments: number; attended: number; no_shows: number; booked_minutes: number; attended_minutes: number
}
export interface CabinetRow {
  cabinet_id: string; name: string; open_minutes: number; booked_minutes: number; attended_minutes: number; utilisation: number | null
}
export interface Summary {
  from: string; to: string; currency: string; time_zone: string; granularity: 'day' | 'month'
  totals: Figures; series: SeriesPoint[]; professionals: ProfessionalRow[]; cabinets: CabinetRow[]
}
export type AgeBucket = '0_30' | '31_60' | '61_90' | 'over_90'
export interface Age { bucket: AgeBucket; amount: string; count: number }
export interface Pending {
  as_of: string; currency: string
  balances: { outstanding: string; invoices: number; ages: Age[] }
  budgets: { pending: number; pending_value: string; ages: Age[] }
}

/** The lists behind the figures: dated ones (by day) and state ones (as of now, oldest first). */
export const DATED_FIGURES = [
  'production', 'invoiced', 'collected', 'appointments', 'attended', 'no_shows', 'cancellations',
  'late_cancellations', 'new_patients', 'budgets_presented', 'budgets_accepted',
] as const
export const STATE_FIGURES = ['outstanding', 'pending_budgets'] as const
export type FigureKey = (typeof DATED_FIGURES)[number] | (typeof STATE_FIGURES)[number]
export const isFigure = (v: unknown): v is FigureKey =>
  typeof v === 'string' && ((DATED_FIGURES as readonly string[]).includes(v) || (STATE_FIGURES as readonly string[]).includes(v))

export type ItemKind = 'treatment' | 'invoice' | 'payment' | 'appointment' | 'patient' | 'budget'
export interface ReportItem {
  date: string; kind: ItemKind; id: string; patient_id: string | null; patient_name: string | null; label: string
  amount: string | null; method: string | null; minutes: number | null
  professional_id: string | null; cabinet_id: string | null; age_days: number | null
}
export interface ItemsQuery {
  figure: FigureKey; from?: string | null; to?: string | null
  professional_id?: string | null; cabinet_id?: string | null; cursor?: string | null; limit?: number
}
export type SummaryGroup = 'period' | 'professional' | 'cabinet'

async function csv(path: string, query: Record<string, string | null | undefined>, fallback: string): Promise<{ name: string; blob: Blob }> {
  const res = await request<Response>('GET', path, { raw: true, accept: 'text/csv', query })
  const name = /filename="?([^";]+)"?/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? fallback
  return { name, blob: await res.blob() }
}

export const reportsApi = {
  summary: (from: string, to: string, signal?: AbortSignal) => api.get<Summary>('/reports/summary', { query: { from, to }, signal }),
  pending: (signal?: AbortSignal) => api.get<Pending>('/reports/pending', { signal }),
  items: (q: ItemsQuery, signal?: AbortSignal) =>
    api.get<Page<ReportItem>>('/reports/items', {
      query: { figure: q.figure, from: q.from, to: q.to, professional_id: q.professional_id, cabinet_id: q.cabinet_id, cursor: q.cursor, limit: q.limit ?? 50 },
      signal,
    }),
  summaryCsv: (from: string, to: string, group: SummaryGroup) =>
    csv('/reports/summary/export', { from, to, group }, `reports-${group}-${from}-${to}.csv`),
  itemsCsv: (q: ItemsQuery) =>
    csv('/reports/items/export', { figure: q.figure, from: q.from, to: q.to, professional_id: q.professional_id, cabinet_id: q.cabinet_id }, `reports-${q.figure}-${q.from ?? ''}-${q.to ?? ''}.csv`),
}
