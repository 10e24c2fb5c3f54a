import { describe, expect, it } from 'vitest'
import { allocate, amountText, cents, formatMoney, oldestFirst, parseAmount, refundable, todayIn, type OpenInvoice, type PaymentOut } from './payments'

const inv = (num: string, date: string, outstanding: string): OpenInvoice => ({ invoice_id: num, num_serie: num, issue_date: date, total: outstanding, outstanding })
const pay = (id: string, kind: 'payment' | 'refund', amount: string, refund_of: string | null = null): PaymentOut => ({
  payment_id: id, invoice_id: 'i', patient_id: 'p', kind, method: 'cash', amount, reference: null, note: null, paid_at: '2026-12-03T10:00:00Z', created_at: '2026-12-03T10:00:00Z', refund_of,
})

describe('money as cents', () => {
  it('reads and writes the API amounts exactly', () => {
    expect(cents('45.50')).toBe(4550)
    expect(cents('0.07')).toBe(7)
    expect(cents('-3')).toBe(-300)
    expect(amountText(4550)).toBe('45.50')
    expect(amountText(-7)).toBe('-0.07')
    // 0.1 + 0.2 in floats is not 0.3; in cents it is
    expect(amountText(cents('0.10') + cents('0.20'))).toBe('0.30')
  })

  it('understands amounts typed the Spanish or the English way', () => {
    expect(parseAmount('45,50')).toBe(4550)
    expect(parseAmount('45.5')).toBe(4550)
    expect(parseAmount('1.234,56')).toBe(123456)
    expect(parseAmount('1,234.56')).toBe(123456)
    expect(parseAmount('1.234')).toBe(123400)
    expect(parseAmount('€ 60')).toBe(6000)
    expect(parseAmount('60 €')).toBe(6000)
    expect(parseAmount('12,345')).toBe(1234500)
    for (const bad of ['', 'abc', '-5', '1,2,3,4', '4.5.6.7', '12,3456']) expect(parseAmount(bad), bad).toBeNull()
  })

  it('formats with the locale', () => {
    expect(formatMoney('1234.50', 'en')).toBe('€1,234.50')
    expect(formatMoney(4550, 'es').replace(/\s/g, ' ')).toBe('45,50 €')
    expect(formatMoney('1234.50', 'es').replace(/\s/g, ' ')).toBe('1234,50 €'.replace('1234', formatMoney(123400, 'es').slice(0, 5)))
  })
})

describe('paying several invoices', () => {
  it('pays the oldest first, each up to what it owes', () => {
    const a = inv('F-2', '2026-11-02', '50.00')
    const b = inv('F-1', '2026-10-01', '30.00')
    const c = inv('F-3', '2026-12-01', '100.00')
    expect(oldestFirst([a, c, b]).map((x) => x.num_serie)).toEqual(['F-1', 'F-2', 'F-3'])
    expect(allocate(6000, [a, b, c]).map((p) => [p.invoice.num_serie, p.cents])).toEqual([['F-1', 3000], ['F-2', 3000]])
    expect(allocate(18000, [a, b, c]).map((p) => p.cents)).toEqual([3000, 5000, 10000])
    expect(allocate(1000, [c])).toEqual([{ invoice: c, cents: 1000 }])
  })

  it('knows what is left to refund of a payment', () => {
    const p = pay('P1', 'payment', '40.00')
    const all = [p, pay('R1', 'refund', '15.00', 'P1'), pay('R2', 'refund', '5.00', null), pay('P2', 'payment', '10.00')]
    expect(refundable(p, all)).toBe(2500)
    expect(refundable(all[1]!, all)).toBe(0)
  })

  it("takes today's date in the clinic's zone", () => {
    // 23:30 UTC on 3 December is already 4 December in Madrid
    expect(todayIn('Europe/Madrid', new Date('2026-12-03T23:30:00Z'))).toBe('2026-12-04')
    expect(todayIn('America/New_York', new Date('2026-12-03T23:30:00Z'))).toBe('2026-12-03')
  })
})
