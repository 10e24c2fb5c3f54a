// The lines a person types (from the treatment catalog or free text) and what the API takes.
import type { InvoiceLineIn, InvoiceLineOut, TreatmentOut } from '@/api/invoices'
import { parseAmount, parseQuantity } from './words'

export interface LineRow { key: number; treatment_id: string | null; description: string; quantity: string; unit_price: string; vat_code: string | null }
export type LineErrors = Record<number, Partial<Record<'description' | 'quantity' | 'unit_price', string>>>

let seq = 0
export const newRow = (over: Partial<LineRow> = {}): LineRow => ({ key: ++seq, treatment_id: null, description: '', quantity: '1', unit_price: '', vat_code: null, ...over })

/** A catalog treatment as a row: its name, price and VAT type, which the person may change. */
export function rowFromTreatment(t: TreatmentOut, lang: string, over: Partial<LineRow> = {}): LineRow {
  return newRow({ treatment_id: t.treatment_id, description: (lang === 'en' && t.name_en) || t.name_es, unit_price: t.price, vat_code: t.vat_code, ...over })
}

/** An invoice's line as an editable row (editing a draft, or a substitution that starts from the original). */
export function rowFromLine(l: InvoiceLineOut): LineRow {
  return newRow({ treatment_id: l.treatment_id, description: l.description, quantity: l.quantity, unit_price: l.unit_price, vat_code: l.vat_code })
}

export type Msg = 'required' | 'quantity' | 'amount'

/** The rows as the API's lines, or the first problem of each row (message keys). `negative`: a
 *  rectification by differences may lower the amount. */
export function toApi(rows: LineRow[], negative = false): { lines: InvoiceLineIn[]; errors: Record<number, Partial<Record<'description' | 'quantity' | 'unit_price', Msg>>> } {
  const errors: Record<number, Partial<Record<'description' | 'quantity' | 'unit_price', Msg>>> = {}
  const lines: InvoiceLineIn[] = []
  for (const r of rows) {
    const e: Partial<Record<'description' | 'quantity' | 'unit_price', Msg>> = {}
    const description = r.description.trim()
    if (!description) e.description = 'required'
    const quantity = parseQuantity(r.quantity, { negative })
    if (!quantity) e.quantity = 'quantity'
    const price = parseAmount(r.unit_price, { negative })
    if (price === null) e.unit_price = r.unit_price.trim() ? 'amount' : 'required'
    if (Object.keys(e).length) errors[r.key] = e
    else lines.push({ treatment_id: r.treatment_id, description, quantity: quantity!, unit_price: price!, vat_code: r.vat_code })
  }
  return { lines, errors }
}
