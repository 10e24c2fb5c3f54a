import { describe, expect, it } from 'vitest'
import { addDays, comparePair, defaultPhases, progress, todayIso } from './ortho'

describe('ortho helpers', () => {
  it('adds days across months and years', () => {
    expect(addDays('2026-12-30', 3)).toBe('2027-01-02')
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28')
  })
  it('spreads the default phases over the plan, retention last and open', () => {
    const p = defaultPhases('brackets', '2026-01-01', 12)
    expect(p.map((x) => x.kind)).toEqual(['levelling', 'space_closure', 'finishing', 'retention'])
    expect(p[0].actual_start).toBe('2026-01-01')
    expect(p[2].planned_end).toBe(addDays('2026-01-01', Math.round(12 * 30.44)))
    expect(p[3].planned_start).toBe(p[2].planned_end)
    expect(p[3].planned_end).toBeNull()
    expect(defaultPhases('retainer', '2026-01-01', 12).map((x) => x.kind)).toEqual(['retention'])
  })
  it('measures progress by dates, capped', () => {
    const c = { start_date: '2026-01-01', planned_end: '2026-01-11', finished_on: null }
    expect(progress(c, '2026-01-06')).toBe(50)
    expect(progress(c, '2027-01-01')).toBe(100)
    expect(progress({ ...c, finished_on: '2026-01-02' }, '2026-01-02')).toBe(100)
  })
  it('compares the first and last photos', () => {
    const a = { image_id: 'a', taken_on: '2026-01-01' }, b = { image_id: 'b', taken_on: '2026-02-01' }
    expect(comparePair([a, b])).toEqual([a, b])
    expect(comparePair([a])).toEqual([a, null])
    expect(todayIso(new Date(2026, 0, 5))).toBe('2026-01-05')
  })
})
