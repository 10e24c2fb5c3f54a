import { describe, expect, it } from 'vitest'
import { deviceHealth, graceParts, maskedKey, relativeTime } from './device'

const NOW = Date.parse('2026-03-09T10:00:00Z')

describe('Bridge device helpers', () => {
  it('health: revoked, never connected, connected within five minutes, offline after', () => {
    expect(deviceHealth({ status: 'revoked', last_seen_at: '2026-03-09T09:59:00Z' }, NOW)).toBe('revoked')
    expect(deviceHealth({ status: 'active', last_seen_at: null }, NOW)).toBe('never')
    expect(deviceHealth({ status: 'active', last_seen_at: '2026-03-09T09:56:00Z' }, NOW)).toBe('online')
    expect(deviceHealth({ status: 'active', last_seen_at: '2026-03-09T09:54:00Z' }, NOW)).toBe('offline')
  })

  it('relative times in the user’s language', () => {
    expect(relativeTime('2026-03-09T09:57:00Z', NOW, 'es')).toBe('hace 3 minutos')
    expect(relativeTime('2026-03-09T09:57:00Z', NOW, 'en')).toBe('3 minutes ago')
    expect(relativeTime('2026-03-09T09:59:40Z', NOW, 'en')).toBe('now')
    expect(relativeTime('2026-03-08T10:00:00Z', NOW, 'es')).toBe('ayer')
    expect(relativeTime('2026-03-10T12:00:00Z', NOW, 'en')).toBe('tomorrow')
    expect(relativeTime('2026-01-09T10:00:00Z', NOW, 'en')).toBe('2 months ago')
  })

  it('grace periods in the largest whole unit; the key only by its prefix', () => {
    expect([0, 1, 24, 72, 168, 36].map(graceParts)).toEqual([
      { unit: 'now', n: 0 }, { unit: 'hours', n: 1 }, { unit: 'days', n: 1 }, { unit: 'days', n: 3 }, { unit: 'weeks', n: 1 }, { unit: 'hours', n: 36 },
    ])
    expect(maskedKey('abcdefghijkl')).toBe('cbk_abcdefghijkl.••••••••')
    expect(maskedKey(null)).toBe('—')
  })
})
