// Budgets (presupuestos, chalicelib/billing/budgets.py): lines from the treatment catalog,
// totals computed by the server, the workflow (send, accept, reject, revise, cancel), PDFs.
import { api } from './http'
import type { Page } from './types'

export const BUDGET_STATUSES = ['draft', 'sent', 'accepted', 'rejected', 'expired', 'cancelled', 'superseded'] as const
export type BudgetStatus = (typeof BUDGET_STATUSES)[number]
export const SURFACES = ['M', 'O', 'D', 'V', 'L'] as const
export type Scope = 'mouth' | 'tooth' | 'surface' | string

export interface Discount { kind: 'percent' | 'amount'; value: string }
export interface TreatmentOut {
  treatment_id: string; code: string; name_es: string; name_en: string | null; category: string[]
  price: string; scope: Scope; vat_code: string; active: boolean
}
export interface BudgetLineIn {
  treatment_id: string; description?: string | null; tooth?: number | null; surfaces?: string[]
  quantity?: string; unit_price?: string | null; discount?: Discount | null
}
export interface BudgetLineOut {
  line_id: string; treatment_id: string; code: string; description: string; tooth: number | null; surfaces: string[]
  quantity: string; unit_price: string; discount: Discount | null; vat_code: string; vat_rate: string; classification: string
  gross: string; line_discount: string; global_discount: string; base: string; vat: string; total: string
  accepted: boolean | null; invoiced_quantity: string; invoiced_base: string
}
export interface Totals { gross: string; discount: string; global_discount: string; base: string; vat: string; total: string }
export interface Acceptance {
  channel: 'link' | 'staff'; signer_name: string; relationship: string; accepted_at: string
  pdf_sha256: string; has_signature: boolean; accepted_line_ids: string[]
}
export interface HistoryItem { at: string; event: string; actor_type: string; actor_name: string | null }
export interface BudgetOut {
  budget_id: string; number: string; revision: number; patient_id: string; patient_name?: string | null
  status: BudgetStatus; title: string | null; notes: string | null; valid_until: string
  lines: BudgetLineOut[]; global_discount: Discount | null; totals: Totals
  partial: boolean; supersedes: string | null; superseded_by: string | null; rejection_reason: string | null
  created_at: string; updated_at: string; sent_at: string | null; decided_at: string | null
  acceptance: Acceptance | null; sent_to?: string | null; emailed_at?: string | null; history?: HistoryItem[] | null
}
export interface BudgetIn {
  patient_id: string; title?: string | null; notes?: string | null; valid_until?: string | null
  lines: BudgetLineIn[]; global_discount?: Discount | null
}
export interface SendOut {
  budget: BudgetOut; link: string; link_expires_at: string; emailed_to: string | null; not_emailed: string | null
}

const pdf = (path: string) => api.get<Response>(path, { raw: true, accept: 'application/pdf' })

export const budgetsApi = {
  list: (q: { patient_id?: string | null; status?: BudgetStatus | null; cursor?: string | null; limit?: number }) =>
    api.get<Page<BudgetOut>>('/billing/budgets', { query: { limit: 25, ...q } }),
  get: (id: string) => api.get<BudgetOut>(`/billing/budgets/${id}`),
  create: (body: BudgetIn) => api.post<BudgetOut>('/billing/budgets', body),
  update: (id: string, body: Partial<BudgetIn> & { clear_global_discount?: boolean }) => api.patch<BudgetOut>(`/billing/budgets/${id}`, body),
  send: (id: string, validDays = 15) => api.post<SendOut>(`/billing/budgets/${id}/send`, { valid_days: validDays, email: true }),
  accept: (id: string, body: { line_ids: string[]; signer_name: string; relationship: string }) =>
    api.post<BudgetOut>(`/billing/budgets/${id}/accept`, body),
  reject: (id: string, reason: string | null) => api.post<BudgetOut>(`/billing/budgets/${id}/reject`, { reason }),
  cancel: (id: string) => api.post<BudgetOut>(`/billing/budgets/${id}/cancel`),
  revise: (id: string) => api.post<BudgetOut>(`/billing/budgets/${id}/revise`),
  pdf: (id: string) => pdf(`/billing/budgets/${id}/pdf`),
  acceptedPdf: (id: string) => pdf(`/billing/budgets/${id}/accepted-pdf`),
  treatments: async (): Promise<TreatmentOut[]> => {
    const out: TreatmentOut[] = []
    let cursor: string | null = null
    for (let i = 0; i < 10; i++) {
      const page: Page<TreatmentOut> = await api.get<Page<TreatmentOut>>('/billing/treatments', { query: { active: true, limit: 500, cursor } })
      out.push(...page.items)
      cursor = page.next_cursor
      if (!cursor) break
    }
    return out
  },
}

/** Open a PDF response in a new tab (or the same one when pop-ups are blocked). */
export async function openPdf(res: Response): Promise<void> {
  const blob = await res.blob()
  const url = URL.createObjectURL(new Blob([blob], { type: 'application/pdf' }))
  const w = window.open(url, '_blank')
  if (!w) window.location.assign(url)
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

/** "1.234,50 €" / "€1,234.50" from the API's exact decimal text (no float arithmetic on sums). */
export function eur(value: string | null | undefined, locale: string): string {
  if (value == null || value === '') return ''
  return new Intl.NumberFormat(locale === 'en' ? 'en-GB' : 'es-ES', { style: 'currency', currency: 'EUR' }).format(Number(value))
}

export const STATUS_SEVERITY: Record<string, 'secondary' | 'info' | 'success' | 'danger' | 'warn' | 'contrast'> = {
  draft: 'secondary', sent: 'info', accepted: 'success', rejected: 'danger', expired: 'warn', cancelled: 'danger', superseded: 'contrast',
}

/** The status to show: accepted with some lines only reads "partially accepted". */
export const shownStatus = (b: Pick<BudgetOut, 'status' | 'partial'>) => (b.status === 'accepted' && b.partial ? 'partial' : b.status)

/** What the desk may do with a budget in this state (the server checks again). */
export function actionsFor(status: BudgetStatus) {
  return {
    edit: status === 'draft',
    send: status === 'draft' || status === 'sent',
    accept: status === 'sent',
    reject: status === 'sent',
    cancel: status === 'draft' || status === 'sent',
    revise: status === 'sent' || status === 'rejected' || status === 'expired',
  }
}

/** A decimal text such as "10" or "10,5" as the API's "10.5"; null when it is not a number ≥ 0. */
export function decimalText(text: string): string | null {
  const s = text.trim().replace(',', '.')
  return /^\d+(\.\d{1,2})?$/.test(s) ? s : null
}
