// The treatment catalog and VAT types (chalicelib/billing/catalog.py): list, create, edit,
// (de)activate, CSV import with a dry run, CSV export. `billing.catalog.read` / `.write`.
import { api, request } from './http'
import type { Page } from './types'

export type Scope = 'tooth' | 'surface' | 'sextant' | 'quadrant' | 'mouth'
export const SCOPES: Scope[] = ['mouth', 'quadrant', 'sextant', 'tooth', 'surface']

export interface VatType { code: string; name_es: string; name_en: string; rate: string; classification: string; exempt: boolean; active: boolean }
export interface Treatment {
  treatment_id: string; code: string; name_es: string; name_en: string | null; category: string[]
  price: string; cost: string | null; duration_min: number | null; scope: Scope; vat_code: string; active: boolean; updated_at: string
  materials?: Material[]
}
/** An inventory item a treatment uses, and how many units (issue 17). */
export interface Material { item_id: string; quantity: number }
export interface TreatmentIn {
  code: string; name_es: string; name_en: string | null; category: string[]; price: string; cost: string | null
  duration_min: number | null; scope: Scope; vat_code: string; active?: boolean; materials?: Material[]
}
export type TreatmentUpdate = Partial<Omit<TreatmentIn, 'code'>>

export interface RowError { row: number; field: string | null; message: string }
export interface FieldChange { field: string; before: string | null; after: string | null }
export interface RowReport { row: number; code: string | null; action: 'created' | 'updated' | 'unchanged' | 'error'; changes: FieldChange[]; errors: RowError[] }
export interface ImportResult { dry_run: boolean; rows: number; created: number; updated: number; unchanged: number; errors: RowError[]; report: RowReport[] }

/** Every treatment (the catalog is small: a few pages of 500 at most). */
async function allTreatments(): Promise<Treatment[]> {
  const out: Treatment[] = []
  let cursor: string | null = null
  for (let i = 0; i < 20; i++) {
    const page: Page<Treatment> = await api.get<Page<Treatment>>('/billing/treatments', { query: { limit: 500, cursor } })
    out.push(...page.items)
    cursor = page.next_cursor
    if (!cursor) break
  }
  return out
}

export const catalogApi = {
  vatTypes: () => api.get<VatType[]>('/billing/vat-types'),
  treatments: allTreatments,
  create: (body: TreatmentIn) => api.post<Treatment>('/billing/treatments', body),
  update: (id: string, body: TreatmentUpdate & { active?: boolean }) => api.patch<Treatment>(`/billing/treatments/${id}`, body),
  importCsv: (csv: string, dryRun: boolean) => api.post<ImportResult>('/billing/treatments/import', { csv, dry_run: dryRun }),
  async exportCsv(): Promise<Blob> {
    const res = await request<Response>('GET', '/billing/treatments/export', { raw: true })
    return res.blob()
  },
}

/** "21.00" -> "21"; "10.50" -> "10,5" in Spanish. */
export function rateText(rate: string, locale: string): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(Number(rate))
}

/** An amount of the API ("1234.50") as the locale writes euros ("1234,50 €" / "€1,234.50"). */
export function money(amount: string | null | undefined, locale: string): string {
  if (amount === null || amount === undefined || amount === '') return ''
  return new Intl.NumberFormat(locale, { style: 'currency', currency: 'EUR' }).format(Number(amount))
}

/** What a person types as a price ("1.234,50", "45,5", "45.50 €") as the API's text, or null. */
export function parseAmount(text: string): string | null {
  let s = text.replace(/[€\s]/g, '')
  if (!s) return null
  if (s.includes(',')) s = s.replace(/\./g, '').replace(',', '.')
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return null
  return s
}
