import { describe, expect, it } from 'vitest'
import type { Appointment } from '@/api/agenda'
import type { Message } from '@/api/comms'
import { appointmentsFor, chronological, leadMinutes, leadParts, leadValid, parseRecipients, stamp, templateWords, windowLeft } from './comms'

const NOW = Date.parse('2026-12-03T10:00:00Z')

describe('the 24-hour window', () => {
  it('says what is left, rounded up to the minute, and null once closed', () => {
    expect(windowLeft('2026-12-04T08:30:00Z', NOW)).toEqual({ h: 22, m: 30 })
    expect(windowLeft('2026-12-03T10:00:20Z', NOW)).toEqual({ h: 0, m: 1 })
    expect(windowLeft('2026-12-03T10:00:00Z', NOW)).toBeNull()
    expect(windowLeft('2026-12-02T10:00:00Z', NOW)).toBeNull()
    expect(windowLeft(null, NOW)).toBeNull()
  })
})

describe('reminder lead times', () => {
  it('read as days, hours or minutes and back', () => {
    expect(leadParts(1440)).toEqual({ value: 1, unit: 'days' })
    expect(leadParts(2880)).toEqual({ value: 2, unit: 'days' })
    expect(leadParts(120)).toEqual({ value: 2, unit: 'hours' })
    expect(leadParts(90)).toEqual({ value: 90, unit: 'minutes' })
    expect(leadMinutes(2, 'hours')).toBe(120)
    expect(leadMinutes(3, 'days')).toBe(4320)
  })
  it('follow the API rule: 15 minutes to 14 days in steps of 5', () => {
    expect(leadValid(15)).toBe(true)
    expect(leadValid(14 * 1440)).toBe(true)
    expect(leadValid(10)).toBe(false)
    expect(leadValid(15 * 1440)).toBe(false)
    expect(leadValid(17)).toBe(false)
  })
})

describe('end-of-day recipients', () => {
  it('splits on commas, spaces or lines, drops repeats and names the bad ones', () => {
    expect(parseRecipients('a@x.es, b@y.es\na@x.es;  nope')).toEqual({ ok: ['a@x.es', 'b@y.es'], bad: ['nope'] })
    expect(parseRecipients('  ')).toEqual({ ok: [], bad: [] })
  })
})

const appt = (id: string, status: Appointment['status'], start: string) => ({ appointment_id: id, status, start }) as Appointment

describe('templates outside the window', () => {
  const appts = [
    appt('future', 'scheduled', '2026-12-10T09:00:00+01:00'),
    appt('past', 'completed', '2026-11-10T09:00:00+01:00'),
    appt('cancelled', 'cancelled', '2026-12-12T09:00:00+01:00'),
    appt('missed', 'no_show', '2026-11-20T09:00:00+01:00'),
    appt('pastScheduled', 'scheduled', '2026-11-01T09:00:00+01:00'),
  ]
  it('offer only the appointments the approved text is true of', () => {
    const ids = (k: Parameters<typeof appointmentsFor>[0]) => appointmentsFor(k, appts, NOW).map((a) => a.appointment_id)
    expect(ids('reminder')).toEqual(['future'])
    expect(ids('booking')).toEqual(['future'])
    expect(ids('cancellation')).toEqual(['cancelled'])
    expect(ids('missed')).toEqual(['missed'])
  })
})

describe('a thread', () => {
  it('reads oldest first, each message once', () => {
    const m = (id: string, at: string) => ({ message_id: id, created_at: at }) as Message
    expect(chronological([m('b', '2026-12-03T10:00:00Z'), m('a', '2026-12-03T09:00:00Z'), m('b', '2026-12-03T10:00:00Z')]).map((x) => x.message_id)).toEqual(['a', 'b'])
  })
})

describe('message times', () => {
  it('show only the time today, the date too on other days', () => {
    const now = new Date(2026, 11, 3, 18, 0).getTime()
    expect(stamp(new Date(2026, 11, 3, 9, 5).toISOString(), now, 'es')).toBe('09:05')
    expect(stamp(new Date(2026, 11, 1, 9, 5).toISOString(), now, 'es')).toMatch(/^1 dic\.?, 09:05$/)
    expect(stamp(new Date(2025, 0, 2, 9, 5).toISOString(), now, 'en')).toMatch(/2025/)
  })
})

describe('the preview line', () => {
  it('names a template in words and keeps any other text', () => {
    const t = (k: string) => `<${k}>`
    expect(templateWords('cuspide_appointment_reminder', t)).toBe('<comms.templates.reminder>')
    expect(templateWords('Hola', t)).toBe('Hola')
    expect(templateWords(null, t)).toBe('')
  })
})
