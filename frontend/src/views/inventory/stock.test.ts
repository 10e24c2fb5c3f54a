import { describe, expect, it } from 'vitest'
import { daysLeft, filterOf, level, parseQty, todayIso } from './stock'

describe('inventory helpers', () => {
  it('reads whole quantities only', () => {
    expect(parseQty('12')).toBe(12)
    expect(parseQty(' 3 ')).toBe(3)
    expect(parseQty('0')).toBeNull()
    expect(parseQty('1,5')).toBeNull()
    expect(parseQty('-2')).toBeNull()
    expect(parseQty('-2', true)).toBe(-2)
    expect(parseQty('+4', true)).toBe(4)
    expect(parseQty('0', true)).toBeNull()
    expect(parseQty('', true)).toBeNull()
  })
  it('says out, low or ok against the threshold', () => {
    expect(level(0, 5)).toBe('out')
    expect(level(4, 5)).toBe('low')
    expect(level(5, 5)).toBe('ok')
    expect(level(3, 0)).toBe('ok')
  })
  it('counts days to an expiry', () => {
    expect(daysLeft('2026-03-10', '2026-03-01')).toBe(9)
    expect(daysLeft('2026-02-27', '2026-03-01')).toBe(-2)
  })
  it('reads the filter from the address', () => {
    expect(filterOf({ below: '1' })).toBe('below')
    expect(filterOf({ expiring: 'true' })).toBe('expiring')
    expect(filterOf({})).toBe('all')
    expect(todayIso(new Date(2026, 0, 5))).toBe('2026-01-05')
  })
})
