import { describe, expect, it } from 'vitest'
import { timelineLine } from './timeline'
import { i18n } from '@/i18n'

const g = i18n.global
const fmt = { t: g.t, te: (k: string) => g.te(k), d: (v: Date, f: string) => g.d(v, f) }
const ev = (type: string, data: Record<string, unknown> = {}) => ({ event_id: '1', type, occurred_at: '2026-11-25T10:00:00Z', actor: null, data })

describe('timeline lines', () => {
  it('an appointment event: a Spanish title, the wall-clock time of the visit, a tone', () => {
    g.locale.value = 'es'
    const l = timelineLine(ev('appointment.cancelled', { start: '2026-11-23T10:00:00+01:00', duration_min: 60 }), fmt)
    expect(l.title).toBe('Cita cancelada')
    expect(l.detail).toBe('23 nov 2026 · 10:00 (60 min)')
    expect(l.tone).toBe('bad')
    expect(l.icon).toBe('pi pi-calendar')
    expect(timelineLine(ev('appointment.completed', { start: '2026-11-23T19:15:00+01:00' }), fmt).tone).toBe('good')
  })
  it('names changed fields and image kinds', () => {
    expect(timelineLine(ev('patient.updated', { changes: ['phone', 'city'] }), fmt).detail).toBe('Móvil, Ciudad')
    expect(timelineLine(ev('image.processed', { kind: 'xray' }), fmt).detail).toBe('Radiografía')
    expect(timelineLine(ev('patient.medical_updated'), fmt).icon).toBe('pi pi-heart')
  })
  it('an event type it does not know still gets a line', () => {
    const l = timelineLine(ev('inventory.used', { number: 'L-7' }), fmt)
    expect(l.title).toBe('Actividad: inventory.used')
    expect(l.detail).toBe('L-7')
  })
})
