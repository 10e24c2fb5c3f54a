// Invoices (chalicelib/billing/schemas.py InvoiceOut and friends) and what the invoice screens
// read from the catalog, budgets and VERI*FACTU. Only what the SPA reads.
import { api, request } from './http'
import type { Page } from './types'
import type { RecordStatus } from './verifactu'

export type InvoiceStatus = 'draft' | 'issued' | 'partially_paid' | 'paid'
export type InvoiceFilterStatus = InvoiceStatus | 'cancelled'
export type RectifyCode = 'R1' | 'R2' | 'R3' | 'R4'
export type RectifyMode = 'I' | 'S'

export interface InvoiceLineOut {
  line_id: string; treatment_id: string | null; budget_line_id: string | null; code: string | null; description: string
  tooth: number | null; quantity: string; unit_price: string; discount: string; base: string; vat_code: string
  vat_rate: string; classification: string; vat: string; total: string
}
export interface BreakdownOut { classification: string; rate: string; base: string; vat: string }
export interface Customer { kind?: string; name: string; tax_id?: string | null; tax_id_type?: string | null }
export interface RectifiedRef { invoice_id: string; num_serie: string; issue_date: string }
export interface InvoiceOut {
  invoice_id: string; patient_id: string; status: InvoiceStatus; kind: 'ordinary' | 'rectifying'; series: 'F' | 'R'
  number: number | null; num_serie: string | null; issue_date: string | null; issued_at: string | null
  tipo_factura: string | null; customer: Customer | null; third_party: { name: string; tax_id: string } | null
  description: string; notes: string | null; operation_date: string | null; budget_id: string | null
  lines: InvoiceLineOut[]; breakdown: BreakdownOut[]; total_base: string; total_vat: string; total: string
  due: string; paid: string; outstanding: string
  rectifies: RectifiedRef[] | null; rectification_code: string | null; rectification_mode: RectifyMode | null
  rectification_reason: string | null; rectified_by: string[] | null; cancelled: boolean
  created_at: string; updated_at: string
}
export interface InvoiceLineIn {
  treatment_id?: string | null; description?: string | null; tooth?: number | null; quantity?: string
  unit_price?: string | null; vat_code?: string | null
}
export interface InvoiceIn {
  patient_id?: string; budget_id?: string; budget_lines?: { line_id: string; quantity?: string }[]
  lines?: InvoiceLineIn[]; description?: string; notes?: string | null
}
export interface InvoiceUpdate { lines?: InvoiceLineIn[]; description?: string; notes?: string | null }
export interface RectifyIn { code: RectifyCode; mode: RectifyMode; reason: string; lines?: InvoiceLineIn[] }
export interface InvoiceQuery {
  patient_id?: string | null; status?: InvoiceFilterStatus | null; series?: 'F' | 'R' | null
  date_from?: string | null; date_to?: string | null; number?: string | null; cursor?: string | null; limit?: number
}

export interface TreatmentOut {
  treatment_id: string; code: string; name_es: string; name_en: string | null; price: string; vat_code: string; active: boolean
}
export interface VatTypeOut { code: string; name_es: string; name_en: string; rate: string; classification: string; exempt: boolean; active: boolean }
export interface BudgetLineOut {
  line_id: string; code: string; description: string; tooth: number | null; quantity: string; unit_price: string
  base: string; vat: string; total: string; accepted: boolean | null; invoiced_quantity: string
}
export interface BudgetOut {
  budget_id: string; number: string; revision: number; patient_id: string; status: string; title: string | null
  lines: BudgetLineOut[]
}
export interface PaymentOut {
  payment_id: string; invoice_id: string; kind: string; method: string; amount: string; reference: string | null
  note: string | null; paid_at: string
}

/** GET /verifactu/invoices/{id} (`verifactu.read`). */
export interface VfRecordOut {
  record_id: string; kind: 'alta' | 'anulacion'; status: RecordStatus; aeat_code: number | null
  aeat_description: string | null; submission_id: string | null; answered_at: string | null
  superseded_by: string | null; corrects: string | null; created_at: string
}
export interface InvoiceVerifactuOut {
  invoice_id: string; num_serie: string | null; status: RecordStatus | null; aeat_code: number | null
  aeat_description: string | null; qr_url: string | null; annulled: boolean; records: VfRecordOut[]
}
export interface SubsanacionIn {
  reason: string; DescripcionOperacion?: string; Destinatarios?: { NombreRazon: string; NIF?: string }[]
}

export const invoicesApi = {
  list: (q: InvoiceQuery) => api.get<Page<InvoiceOut>>('/billing/invoices', { query: { limit: 25, ...q } as Record<string, string | number | null | undefined> }),
  get: (id: string) => api.get<InvoiceOut>(`/billing/invoices/${id}`),
  create: (body: InvoiceIn) => api.post<InvoiceOut>('/billing/invoices', body),
  update: (id: string, body: InvoiceUpdate) => api.patch<InvoiceOut>(`/billing/invoices/${id}`, body),
  remove: (id: string) => api.del<null>(`/billing/invoices/${id}`),
  issue: (id: string) => api.post<InvoiceOut>(`/billing/invoices/${id}/issue`),
  rectify: (id: string, body: RectifyIn) => api.post<InvoiceOut>(`/billing/invoices/${id}/rectify`, body),
  email: (id: string, to?: string | null) => api.post<{ sent_to: string }>(`/billing/invoices/${id}/email`, to ? { to } : {}),
  /** The PDF as a blob (the API needs the session's token, so no plain link). */
  pdf: async (id: string): Promise<Blob> => (await request<Response>('GET', `/billing/invoices/${id}/pdf`, { raw: true, accept: 'application/pdf' })).blob(),
  payments: (id: string) => api.get<PaymentOut[]>(`/billing/invoices/${id}/payments`),
  verifactu: (id: string) => api.get<InvoiceVerifactuOut>(`/verifactu/invoices/${id}`),
  annul: (id: string, reason: string) => api.post<InvoiceVerifactuOut>(`/verifactu/invoices/${id}/annul`, { reason }),
  subsanar: (recordId: string, body: SubsanacionIn) => api.post<unknown>(`/verifactu/records/${recordId}/subsanacion`, body),
  treatments: () => api.get<Page<TreatmentOut>>('/billing/treatments', { query: { active: true, limit: 500 } }),
  vatTypes: () => api.get<VatTypeOut[]>('/billing/vat-types'),
  budget: (id: string) => api.get<BudgetOut>(`/billing/budgets/${id}`),
}
