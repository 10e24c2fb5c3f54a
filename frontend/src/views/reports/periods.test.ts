import { describe, expect, it } from 'vitest'
import es from '@/i18n/es'
import en from '@/i18n/en'
import { change, columnsOf, itemsLink, lastYear, periodOf, presetRange, rangeProblem, recordTarget, yearEarlier } from './periods'
import { changeMark, changeWords, hours, percent, rangeText } from './words'
import type { ReportItem } from '@/api/reports'

describe('the days of a period, to date, in the clinic’s days', () => {
  it('today, this week from Monday, this month and this year', () => {
    // 2026-12-04 is a Friday.
    expect(presetRange('today', '2026-12-04')).toEqual({ from: '2026-12-04', to: '2026-12-04' })
    expect(presetRange('week', '2026-12-04')).toEqual({ from: '2026-11-30', to: '2026-12-04' })
    expect(presetRange('week', '2026-11-30')).toEqual({ from: '2026-11-30', to: '2026-11-30' })
    expect(presetRange('week', '2026-12-06')).toEqual({ from: '2026-11-30', to: '2026-12-06' }) // a Sunday ends the week
    expect(presetRange('month', '2026-12-04')).toEqual({ from: '2026-12-01', to: '2026-12-04' })
    expect(presetRange('year', '2026-12-04')).toEqual({ from: '2026-01-01', to: '2026-12-04' })
  })
  it('the same days a year earlier, 29 February becoming the 28th', () => {
    expect(lastYear({ from: '2026-12-01', to: '2026-12-04' })).toEqual({ from: '2025-12-01', to: '2025-12-04' })
    expect(yearEarlier('2028-02-29')).toBe('2027-02-28')
    expect(yearEarlier('2029-02-28')).toBe('2028-02-28')
  })
  it('reads the period from the URL, this month when it names none or a bad one', () => {
    expect(periodOf({ period: 'year' }, '2026-12-04')).toEqual({ kind: 'year', range: { from: '2026-01-01', to: '2026-12-04' } })
    expect(periodOf({ from: '2026-03-01', to: '2026-03-31' }, '2026-12-04')).toEqual({ kind: 'custom', range: { from: '2026-03-01', to: '2026-03-31' } })
    expect(periodOf({}, '2026-12-04').kind).toBe('month')
    expect(periodOf({ period: 'decade' }, '2026-12-04').kind).toBe('month')
    expect(periodOf({ from: '2026-03-31', to: '2026-03-01' }, '2026-12-04').kind).toBe('month')
    expect(periodOf({ from: '2026-02-30', to: '2026-03-01' }, '2026-12-04').kind).toBe('month')
  })
  it('refuses a custom range the API would refuse, saying why', () => {
    expect(rangeProblem({ from: '2026-01-01', to: '2027-02-04' })).toBe(null) // 400 days
    expect(rangeProblem({ from: '2026-01-01', to: '2027-02-05' })).toBe('reports.range.tooLong')
    expect(rangeProblem({ from: '2026-02-02', to: '2026-02-01' })).toBe('reports.range.order')
    expect(rangeProblem({ from: '', to: '2026-02-01' })).toBe('reports.range.invalid')
  })
})

describe('the change against last year', () => {
  const t = (k: string, p?: Record<string, unknown>) => `${k}${p ? JSON.stringify(p) : ''}`
  it('money in exact cents, as a share of last year', () => {
    expect(change('112.50', '100.00', 'money')).toEqual({ dir: 'up', size: 0.125 })
    expect(change('0.10', '0.20', 'money')).toEqual({ dir: 'down', size: 0.5 })
    expect(change('0.30', '0.30', 'money')).toEqual({ dir: 'same', size: 0 })
    expect(change('10.00', '0.00', 'money').dir).toBe('none')
    expect(change(5, null, 'count').dir).toBe('none')
  })
  it('rates in percentage points', () => {
    expect(change(0.9, 0.85, 'rate')).toEqual({ dir: 'up', size: 5 })
    expect(change(null, 0.85, 'rate').dir).toBe('none')
  })
  it('a mark for the eye with a true minus sign, and words for screen readers', () => {
    expect(changeMark({ dir: 'up', size: 0.125 }, 'money', 'en', t)).toBe('+13%')
    expect(changeMark({ dir: 'down', size: 0.05 }, 'money', 'en', t)).toBe('−5%')
    expect(changeMark({ dir: 'down', size: 0.5 }, 'money', 'es', t).replace(/\s/g, ' ')).toBe('−50 %')
    expect(changeMark({ dir: 'none', size: 0 }, 'money', 'es', t)).toBe('—')
    expect(changeMark({ dir: 'up', size: 3.5 }, 'rate', 'en', t)).toBe('+reports.pointsShort{"n":"3.5"}')
    expect(changeWords({ dir: 'down', size: 0.2 }, 'count', 'en', t)).toBe('reports.change.down{"size":"20%"}')
    expect(changeWords({ dir: 'none', size: 0 }, 'count', 'en', t)).toBe('reports.change.none')
  })
  it('writes rates, hours and ranges in the user’s language', () => {
    expect(percent(0.875, 'en')).toBe('87.5%')
    expect(percent(null, 'es')).toBe('—')
    expect(hours(90, 'es')).toBe('1,5')
    expect(rangeText({ from: '2026-12-01', to: '2026-12-04' }, 'en')).toMatch(/^1\s*–\s*4 Dec 2026$/)
    expect(rangeText({ from: '2026-12-04', to: '2026-12-04' }, 'en')).toBe('4 Dec 2026')
  })
})

describe('the list behind a figure', () => {
  it('shows the columns the figure needs', () => {
    expect(columnsOf('collected')).toEqual({ amount: true, method: true, minutes: false, age: false })
    expect(columnsOf('no_shows')).toEqual({ amount: false, method: false, minutes: true, age: false })
    expect(columnsOf('outstanding')).toEqual({ amount: true, method: false, minutes: false, age: true })
    expect(columnsOf('new_patients')).toEqual({ amount: false, method: false, minutes: false, age: false })
  })
  it('has a URL that keeps the period, for sharing and Back', () => {
    expect(itemsLink('collected', { from: '2026-12-01', to: '2026-12-04' }, { period: 'month', professional_id: 'U1' })).toEqual({
      name: 'reports', params: { report: 'items' }, query: { figure: 'collected', from: '2026-12-01', to: '2026-12-04', period: 'month', professional_id: 'U1' },
    })
    expect(itemsLink('production', { from: '2026-03-01', to: '2026-03-31' }, { period: 'custom' })).toEqual({
      name: 'reports', params: { report: 'items' }, query: { figure: 'production', from: '2026-03-01', to: '2026-03-31' },
    })
  })
  it('links a record to its screen only when the user may open it', () => {
    const item = (kind: ReportItem['kind'], patient_id: string | null = 'P1') => ({ kind, patient_id, date: '2026-12-01', id: 'X' }) as ReportItem
    const all = () => true
    expect(recordTarget(item('payment'), all)).toEqual({ name: 'patient', params: { id: 'P1', tab: 'invoices' } })
    expect(recordTarget(item('budget'), all)).toEqual({ name: 'patient', params: { id: 'P1', tab: 'budgets' } })
    expect(recordTarget(item('appointment'), all)).toEqual({ name: 'agenda', query: { view: 'day', date: '2026-12-01' } })
    expect(recordTarget(item('invoice'), (p) => p !== 'billing.invoices.read')).toBeNull()
    expect(recordTarget(item('invoice', null), all)).toBeNull()
    expect(recordTarget(item('patient'), all)).toBeNull()
  })
})

describe('reports strings', () => {
  const keys = (o: object, p = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as object, `${p}${k}.`) : [`${p}${k}`]))
  it('have the same keys in Spanish and English', () => {
    expect(keys(en.reports).sort()).toEqual(keys(es.reports).sort())
  })
})
