// Payments, refunds, receipts, the patient's balance and the day's takings
// (chalicelib/billing/payments.py, schemas.py). Money travels as text with a dot ("45.50").
import { ref } from 'vue'
import { api, request } from './http'

export type PaymentMethod = 'cash' | 'card' | 'transfer' | 'financing'
export const METHODS: PaymentMethod[] = ['cash', 'card', 'transfer', 'financing']

export interface PaymentOut {
  payment_id: string; invoice_id: string; patient_id: string; kind: 'payment' | 'refund'; method: PaymentMethod
  amount: string; reference: string | null; note: string | null; paid_at: string; created_at: string
  num_serie?: string | null; refund_of?: string | null
}
/** What the payment screens read of an invoice (GET /billing/invoices/{id}). */
export interface InvoiceLike {
  invoice_id: string; patient_id: string; status: string; kind?: string; num_serie: string | null
  issue_date: string | null; total: string; due: string; paid: string; outstanding: string; cancelled: boolean
}
export interface PaymentResult { payment: PaymentOut; invoice: InvoiceLike }
export interface OpenInvoice { invoice_id: string; num_serie: string; issue_date: string; total: string; outstanding: string }
export interface BalanceOut { patient_id: string; invoiced: string; paid: string; outstanding: string; open_invoices: OpenInvoice[] }
export interface MethodTotal { method: PaymentMethod; payments: string; refunds: string; net: string; count: number }
export interface TakingOut extends PaymentOut { patient_name: string }
export interface TakingsOut {
  day: string; time_zone: string; methods: MethodTotal[]; payments: string; refunds: string; net: string; items: TakingOut[]
}
export interface PaymentIn { amount: string; method: PaymentMethod; reference?: string | null; note?: string | null; paid_at?: string | null }
export interface RefundIn { amount: string; method: PaymentMethod; payment_id?: string | null; reference?: string | null; note?: string | null }

/** Bumped after every payment or refund taken in this tab: the balance and lists that show
 *  money reload on it (the balance in the record's side panel and the invoice's payments). */
export const paymentsChanged = ref(0)

export const paymentsApi = {
  list: (invoiceId: string) => api.get<PaymentOut[]>(`/billing/invoices/${invoiceId}/payments`),
  record: async (invoiceId: string, body: PaymentIn) => {
    const out = await api.post<PaymentResult>(`/billing/invoices/${invoiceId}/payments`, body)
    paymentsChanged.value++
    return out
  },
  refund: async (invoiceId: string, body: RefundIn) => {
    const out = await api.post<PaymentResult>(`/billing/invoices/${invoiceId}/refunds`, body)
    paymentsChanged.value++
    return out
  },
  balance: (patientId: string) => api.get<BalanceOut>(`/billing/patients/${patientId}/balance`),
  invoice: (invoiceId: string) => api.get<InvoiceLike>(`/billing/invoices/${invoiceId}`),
  receipt: async (paymentId: string): Promise<Blob> => {
    const res = await request<Response>('GET', `/billing/payments/${paymentId}/receipt/pdf`, { raw: true, accept: 'application/pdf' })
    return res.blob()
  },
  emailReceipt: (paymentId: string) => api.post<{ sent_to: string }>(`/billing/payments/${paymentId}/receipt/email`),
  takings: (day: string | null) => api.get<TakingsOut>('/billing/takings', { query: { day } }),
  takingsCsv: async (day: string): Promise<{ name: string; blob: Blob }> => {
    const res = await request<Response>('GET', '/billing/takings/export', { raw: true, accept: 'text/csv', query: { day } })
    const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? `takings-${day}.csv`
    return { name, blob: await res.blob() }
  },
}

// ---- money as exact cents (never floats) ----

/** "45.50" / "-3" -> cents as an integer. */
export function cents(amount: string): number {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount.trim())
  if (!m) return NaN
  const c = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0') || 0)
  return m[1] ? -c : c
}
/** cents -> "45.50" (what the API takes). */
export function amountText(c: number): string {
  const sign = c < 0 ? '-' : ''
  const a = Math.abs(c)
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`
}
/**
 * What a person typed as an amount, in either locale's way ("45,50", "45.50", "1.234,56",
 * "1,234.56", "€ 45"), as cents; null when it is not an amount with at most two decimals.
 */
export function parseAmount(typed: string): number | null {
  const s = typed.replace(/[€\s\u00a0]/g, '')
  if (!s || !/^\d[\d.,]*$/.test(s)) return null
  const grouped = (whole: string, sep: string) => /^\d+$/.test(whole) || new RegExp(`^\\d{1,3}(\\${sep}\\d{3})+$`).test(whole)
  const lastSep = Math.max(s.lastIndexOf(','), s.lastIndexOf('.'))
  let whole = s
  let frac = ''
  if (lastSep >= 0 && s.length - lastSep - 1 <= 2) {
    // the last separator is the decimal one; the other one may group thousands
    whole = s.slice(0, lastSep)
    frac = s.slice(lastSep + 1)
    if (!grouped(whole, s[lastSep] === ',' ? '.' : ',')) return null
  } else if (lastSep >= 0 && !grouped(s, s[lastSep]!)) return null
  const c = cents(`${whole.replace(/[.,]/g, '')}${frac ? `.${frac}` : ''}`)
  return Number.isFinite(c) ? c : null
}
/** "1234.5" -> "1.234,50 €" (es) / "€1,234.50" (en). */
export function formatMoney(amount: string | number, locale: string, currency = 'EUR'): string {
  const c = typeof amount === 'number' ? amount : cents(amount)
  return new Intl.NumberFormat(locale === 'en' ? 'en-GB' : 'es-ES', { style: 'currency', currency, minimumFractionDigits: 2, useGrouping: true }).format(c / 100)
}

/**
 * How an amount pays the chosen invoices: oldest first, each up to what it still asks. The
 * caller refuses an amount above their sum before (the API would too, invoice by invoice).
 */
export function allocate(total: number, chosen: OpenInvoice[]): { invoice: OpenInvoice; cents: number }[] {
  const out: { invoice: OpenInvoice; cents: number }[] = []
  let left = total
  for (const inv of oldestFirst(chosen)) {
    if (left <= 0) break
    const take = Math.min(left, cents(inv.outstanding))
    if (take > 0) out.push({ invoice: inv, cents: take })
    left -= take
  }
  return out
}
export function oldestFirst<T extends { issue_date: string | null; num_serie: string | null }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => (a.issue_date ?? '').localeCompare(b.issue_date ?? '') || (a.num_serie ?? '').localeCompare(b.num_serie ?? ''))
}
/** What is left to refund of a payment: its amount less the refunds that name it. */
export function refundable(p: PaymentOut, all: PaymentOut[]): number {
  if (p.kind !== 'payment') return 0
  return cents(p.amount) - all.filter((x) => x.kind === 'refund' && x.refund_of === p.payment_id).reduce((s, x) => s + cents(x.amount), 0)
}
/** Today in the clinic's zone, as YYYY-MM-DD. */
export function todayIn(timeZone: string, now = new Date()): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
  } catch {
    return now.toISOString().slice(0, 10)
  }
}
/** A time as the clinic's wall clock ("09:30"). */
export function timeIn(iso: string, timeZone: string, locale: string): string {
  try {
    return new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'es-ES', { timeZone, hour: '2-digit', minute: '2-digit' }).format(new Date(iso))
  } catch {
    return iso.slice(11, 16)
  }
}
/** Save a Blob as a file (the CSV of a day). */
export function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
