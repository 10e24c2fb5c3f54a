// Invoices in words the front desk understands (pure; unit-tested): the invoice's own state,
// its VERI*FACTU state, and what to do when the AEAT rejects its record. The AEAT's codes are
// never shown alone: its description is shown beside our advice, the code only as a detail.
import type { InvoiceOut, InvoiceVerifactuOut, VfRecordOut } from '@/api/invoices'

export type InvoiceState = 'draft' | 'issued' | 'partially_paid' | 'paid' | 'annulled' | 'rectified' | 'cancelled'

/** The invoice's state for a person: an annulled one (registro de anulación) is not one
 *  cancelled by a rectifying invoice, and one partly rectified says so. */
export function invoiceState(inv: Pick<InvoiceOut, 'status' | 'cancelled' | 'rectified_by'>): InvoiceState {
  if (inv.status === 'draft') return 'draft'
  if (inv.cancelled) return inv.rectified_by?.length ? 'cancelled' : 'annulled'
  if (inv.rectified_by?.length) return 'rectified'
  return inv.status
}

export type Severity = 'success' | 'info' | 'warn' | 'danger' | 'secondary' | 'contrast'
export const STATE_SEVERITY: Record<InvoiceState, Severity> = {
  draft: 'secondary', issued: 'info', partially_paid: 'warn', paid: 'success', annulled: 'danger', rectified: 'warn', cancelled: 'danger',
}

/** VERI*FACTU: where the invoice's record is. `waiting`: generated, not sent yet; `sent`: sent,
 *  no answer yet; then the AEAT's answer. `none`: no record (a draft, or a clinic outside Spain). */
export type VfState = 'none' | 'waiting' | 'sent' | 'accepted' | 'accepted_with_errors' | 'rejected'

/** The record that speaks for the invoice now: the latest one not superseded by a correction. */
export function currentRecord(vf: InvoiceVerifactuOut | null | undefined): VfRecordOut | null {
  if (!vf) return null
  const live = vf.records.filter((r) => !r.superseded_by)
  return live[live.length - 1] ?? null
}

export function vfState(vf: InvoiceVerifactuOut | null | undefined): VfState {
  const rec = currentRecord(vf)
  if (!rec) return 'none'
  if (rec.status === 'pending') return rec.submission_id ? 'sent' : 'waiting'
  return rec.status
}

export const VF_SEVERITY: Record<VfState, Severity> = {
  none: 'secondary', waiting: 'info', sent: 'info', accepted: 'success', accepted_with_errors: 'warn', rejected: 'danger',
}

/** What the AEAT's rejection is about, to tell staff what to fix. Read from the AEAT's own
 *  description (errores.properties wording), since its codes are many and change. */
export type Cause = 'customer' | 'clinic' | 'dates' | 'amounts' | 'duplicate' | 'other'

export function rejectionCause(code: number | null, description: string | null): Cause {
  if (code === 3000) return 'duplicate'
  const d = (description ?? '').toLowerCase()
  if (/destinatario|contraparte|idotro|codigopais|censado|nombrerazon/.test(d)) return 'customer'
  if (/obligadoemision|emisor|sistemainformatico|representante|certificado/.test(d)) return 'clinic'
  if (/fecha/.test(d)) return 'dates'
  if (/importe|cuota|base|tipoimpositivo|desglose|calificacion|exenta/.test(d)) return 'amounts'
  return 'other'
}

/** Money as the reader's locale writes euros: "1.234,50 €" / "€1,234.50". */
export function money(value: string | number | null | undefined, locale: string): string {
  const n = typeof value === 'number' ? value : Number(value ?? 0)
  return new Intl.NumberFormat(locale, { style: 'currency', currency: 'EUR' }).format(Number.isFinite(n) ? n : 0)
}

/** A decimal typed by a person ("12,50", "12.5", "-20") as the API's text ("12.50"), or null. */
export function parseAmount(text: string | null | undefined, { negative = false } = {}): string | null {
  const s = (text ?? '').trim().replace(/\s/g, '')
  if (!s) return null
  // "1.234,56" (es) or "1,234.56" (en): the last separator is the decimal one.
  const last = Math.max(s.lastIndexOf(','), s.lastIndexOf('.'))
  const norm = last === -1 ? s : s.slice(0, last).replace(/[.,]/g, '') + '.' + s.slice(last + 1)
  if (!/^-?\d+(\.\d{1,2})?$/.test(norm)) return null
  const n = Number(norm)
  if (!negative && n < 0) return null
  return n.toFixed(2)
}

/** A quantity ("1", "0,5") as the API's text, or null. */
export function parseQuantity(text: string | null | undefined, { negative = false } = {}): string | null {
  const s = (text ?? '').trim().replace(',', '.')
  if (!/^-?\d+(\.\d{1,3})?$/.test(s)) return null
  const n = Number(s)
  if (n === 0 || (!negative && n < 0)) return null
  return s
}
