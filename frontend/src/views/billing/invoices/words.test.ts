import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import es from '@/i18n/es'
import en from '@/i18n/en'
import type { InvoiceVerifactuOut, VfRecordOut } from '@/api/invoices'
import { currentRecord, invoiceState, money, parseAmount, parseQuantity, rejectionCause, vfState, type VfState } from './words'
import { newRow, toApi } from './lines'

const rec = (over: Partial<VfRecordOut> = {}): VfRecordOut => ({
  record_id: 'r1', kind: 'alta', status: 'pending', aeat_code: null, aeat_description: null, submission_id: null,
  answered_at: null, superseded_by: null, corrects: null, created_at: '2026-12-01T10:00:00Z', ...over,
})
const vf = (records: VfRecordOut[], annulled = false): InvoiceVerifactuOut => ({
  invoice_id: 'i', num_serie: 'F-2026-000001', status: records.at(-1)?.status ?? null, aeat_code: null, aeat_description: null, qr_url: null, annulled, records,
})

describe('the invoice state in words', () => {
  it('tells an annulled invoice from one cancelled by a rectifying invoice', () => {
    expect(invoiceState({ status: 'draft', cancelled: false, rectified_by: null })).toBe('draft')
    expect(invoiceState({ status: 'issued', cancelled: true, rectified_by: null })).toBe('annulled')
    expect(invoiceState({ status: 'issued', cancelled: true, rectified_by: ['r'] })).toBe('cancelled')
    expect(invoiceState({ status: 'partially_paid', cancelled: false, rectified_by: ['r'] })).toBe('rectified')
    expect(invoiceState({ status: 'paid', cancelled: false, rectified_by: null })).toBe('paid')
  })
})

describe('the VERI*FACTU state', () => {
  it('says waiting, sent, and then what the AEAT answered, from the live record', () => {
    expect(vfState(null)).toBe('none')
    expect(vfState(vf([]))).toBe('none')
    expect(vfState(vf([rec()]))).toBe('waiting')
    expect(vfState(vf([rec({ submission_id: 's1' })]))).toBe('sent')
    expect(vfState(vf([rec({ status: 'accepted', submission_id: 's1' })]))).toBe('accepted')
    expect(vfState(vf([rec({ status: 'accepted_with_errors' })]))).toBe('accepted_with_errors')
    // a rejected record corrected by a subsanación: the correction speaks for the invoice
    const fixed = vf([rec({ status: 'rejected', superseded_by: 'r2' }), rec({ record_id: 'r2', corrects: 'r1' })])
    expect(currentRecord(fixed)?.record_id).toBe('r2')
    expect(vfState(fixed)).toBe('waiting')
  })

  it('has words for every state in both languages, never a raw code', () => {
    const states: VfState[] = ['none', 'waiting', 'sent', 'accepted', 'accepted_with_errors', 'rejected']
    for (const messages of [es, en]) {
      const i18n = createI18n({ legacy: false, locale: 'x', messages: { x: messages } })
      for (const s of states) {
        expect(i18n.global.te(`invoices.vf.states.${s}`)).toBe(true)
        expect(i18n.global.te(`invoices.vf.explain.${s}`)).toBe(true)
      }
      for (const c of ['customer', 'clinic', 'dates', 'amounts', 'duplicate', 'other']) expect(i18n.global.te(`invoices.vf.causes.${c}`)).toBe(true)
    }
  })

  it('reads what a rejection is about from the AEAT description', () => {
    expect(rejectionCause(1193, 'En el bloque Destinatarios si se identifica mediante NIF, el NIF debe estar identificado')).toBe('customer')
    expect(rejectionCause(1111, 'El campo CodigoPais es obligatorio cuando IDType es distinto de NIF-IVA (02).')).toBe('customer')
    expect(rejectionCause(4115, 'El valor del campo NIF del bloque ObligadoEmision es incorrecto.')).toBe('clinic')
    expect(rejectionCause(2004, 'El valor del campo FechaHoraHusoGenRegistro debe ser la fecha actual')).toBe('dates')
    expect(rejectionCause(1200, 'La CuotaRepercutida no se corresponde con la BaseImponible')).toBe('amounts')
    expect(rejectionCause(3000, 'Registro de facturación duplicado.')).toBe('duplicate')
    expect(rejectionCause(9999, null)).toBe('other')
  })
})

describe('money and amounts', () => {
  it('formats euros in the reader’s language', () => {
    expect(money('1234.5', 'es').replace(/\s/g, ' ')).toBe('1234,50 €')
    expect(money('1234.5', 'en')).toBe('€1,234.50')
    expect(money('-20', 'es').replace(/\s/g, ' ')).toBe('-20,00 €')
  })
  it('reads amounts and quantities typed either way', () => {
    expect(parseAmount('45,5')).toBe('45.50')
    expect(parseAmount('1.234,56')).toBe('1234.56')
    expect(parseAmount('1,234.56')).toBe('1234.56')
    expect(parseAmount('-20')).toBeNull()
    expect(parseAmount('-20', { negative: true })).toBe('-20.00')
    expect(parseAmount('abc')).toBeNull()
    expect(parseAmount('1.234')).toBeNull() // ambiguous: 1,234 or 1.234? asked again
    expect(parseQuantity('0,5')).toBe('0.5')
    expect(parseQuantity('0')).toBeNull()
    expect(parseQuantity('-1')).toBeNull()
    expect(parseQuantity('-1', { negative: true })).toBe('-1')
  })
})

describe('lines for the API', () => {
  it('sends complete lines and names what is missing in each row', () => {
    const ok = newRow({ description: 'Limpieza', unit_price: '60', vat_code: 'EXENTO_SANITARIO' })
    const bad = newRow({ description: ' ', quantity: 'x', unit_price: '' })
    const { lines, errors } = toApi([ok, bad])
    expect(lines).toEqual([{ treatment_id: null, description: 'Limpieza', quantity: '1', unit_price: '60.00', vat_code: 'EXENTO_SANITARIO' }])
    expect(errors[bad.key]).toEqual({ description: 'required', quantity: 'quantity', unit_price: 'required' })
    expect(toApi([newRow({ description: 'Ajuste', unit_price: '-20' })], true).lines[0]?.unit_price).toBe('-20.00')
    expect(toApi([newRow({ description: 'Ajuste', unit_price: '-20' })]).errors).not.toEqual({})
  })
})
