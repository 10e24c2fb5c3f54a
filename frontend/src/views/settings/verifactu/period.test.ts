import { describe, expect, it } from 'vitest'
import { BOOK_MAX_DAYS, bookFileName, currentQuarter, currentYear, dayNumber, periodError, periodLabel, previousQuarter, quarter, todayIn } from './period'

describe('the default period', () => {
  it('is the whole quarter today falls in', () => {
    expect(currentQuarter('2026-12-02')).toEqual({ from: '2026-10-01', to: '2026-12-31' })
    expect(currentQuarter('2026-01-01')).toEqual({ from: '2026-01-01', to: '2026-03-31' })
    expect(currentQuarter('2026-06-30')).toEqual({ from: '2026-04-01', to: '2026-06-30' })
    expect(currentQuarter('2026-09-15')).toEqual({ from: '2026-07-01', to: '2026-09-30' })
  })

  it('the previous quarter crosses into last year from January to March', () => {
    expect(previousQuarter('2026-02-10')).toEqual({ from: '2025-10-01', to: '2025-12-31' })
    expect(previousQuarter('2026-12-02')).toEqual({ from: '2026-07-01', to: '2026-09-30' })
    expect(currentYear('2026-12-02')).toEqual({ from: '2026-01-01', to: '2026-12-31' })
    expect(quarter(2028, 1)).toEqual({ from: '2028-01-01', to: '2028-03-31' })
  })

  it("today is the clinic's date, not the browser's", () => {
    // 23:30 UTC on 31 December is already 1 January in Madrid, still 31 December in Mexico City.
    const at = new Date('2026-12-31T23:30:00Z')
    expect(todayIn('Europe/Madrid', at)).toBe('2027-01-01')
    expect(todayIn('America/Mexico_City', at)).toBe('2026-12-31')
    expect(currentQuarter(todayIn('Europe/Madrid', at))).toEqual({ from: '2027-01-01', to: '2027-03-31' })
  })
})

describe('period validation', () => {
  it('takes a quarter, a whole leap year and a single day', () => {
    expect(periodError({ from: '2026-10-01', to: '2026-12-31' })).toBeNull()
    expect(periodError({ from: '2028-01-01', to: '2028-12-31' })).toBeNull() // 366 days
    expect(periodError({ from: '2026-05-05', to: '2026-05-05' })).toBeNull()
  })

  it('refuses from after to, on the end date', () => {
    expect(periodError({ from: '2026-12-31', to: '2026-10-01' })).toEqual({ field: 'to', msg: { key: 'verifactu.book.order' } })
  })

  it('refuses more than the API takes in one request', () => {
    expect(BOOK_MAX_DAYS).toBe(366)
    expect(periodError({ from: '2026-01-01', to: '2027-01-01' })).toBeNull() // 366 days
    expect(periodError({ from: '2026-01-01', to: '2027-01-02' })).toEqual({ field: 'to', msg: { key: 'verifactu.book.tooLong', params: { n: 366 } } })
  })

  it('refuses missing and impossible dates on their own field', () => {
    expect(periodError({ from: '', to: '2026-01-01' })?.field).toBe('from')
    expect(periodError({ from: '2026-01-01', to: '' })).toEqual({ field: 'to', msg: { key: 'validation.required' } })
    expect(periodError({ from: '2026-02-30', to: '2026-03-01' })).toEqual({ field: 'from', msg: { key: 'validation.date' } })
    expect(periodError({ from: '1899-12-31', to: '1900-01-05' })?.msg.key).toBe('validation.date')
    expect(dayNumber('2026-13-01')).toBeNull()
    expect(dayNumber('2027-01-01')! - dayNumber('2026-01-01')!).toBe(365)
  })
})

describe('file names', () => {
  it('name the period as a gestor files it', () => {
    expect(periodLabel({ from: '2026-10-01', to: '2026-12-31' })).toBe('2026-T4')
    expect(periodLabel({ from: '2026-01-01', to: '2026-03-31' })).toBe('2026-T1')
    expect(periodLabel({ from: '2026-01-01', to: '2026-12-31' })).toBe('2026')
    expect(periodLabel({ from: '2028-02-01', to: '2028-02-29' })).toBe('2028-02')
    expect(periodLabel({ from: '2026-02-01', to: '2026-04-30' })).toBe('2026-02-01_2026-04-30') // three months, not a quarter
    expect(periodLabel({ from: '2026-10-01', to: '2026-12-30' })).toBe('2026-10-01_2026-12-30')
    expect(periodLabel({ from: '2025-10-01', to: '2026-03-31' })).toBe('2025-10-01_2026-03-31')
  })

  it('CSV book, XML parts, and the NIF only when one was chosen', () => {
    const q4 = { from: '2026-10-01', to: '2026-12-31' }
    expect(bookFileName('csv', q4)).toBe('libro-facturas-expedidas-2026-T4.csv')
    expect(bookFileName('xml', q4)).toBe('registros-verifactu-2026-T4.xml')
    expect(bookFileName('xml', q4, { part: 2 })).toBe('registros-verifactu-2026-T4-parte-2.xml')
    expect(bookFileName('csv', q4, { nif: 'B12345674' })).toBe('libro-facturas-expedidas-B12345674-2026-T4.csv')
  })
})
