// What the agenda settings change in the agenda itself: a deactivated cabinet loses its column,
// unless it still holds a live appointment that day (kept, to be moved; see AgendaSettingsCabinets).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import AgendaView from '@/views/agenda/AgendaView.vue'
import { mountAt } from '@/test/setup'

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const ok = (data: unknown) => new Response(JSON.stringify({ data, message: null }), { status: 200, headers: { 'Content-Type': 'application/json' } })
const appt = (id: string, cabinet_id: string, status: string) => ({
  appointment_id: id, patient_id: 'p', patient_name: 'Ana Ruiz', patient_alerts: [], professional_id: 'u', professional_name: 'Dra. Sanz', cabinet_id,
  start: '2026-12-02T10:00:00+01:00', end: '2026-12-02T10:30:00+01:00', time_zone: 'Europe/Madrid', duration_min: 30, reason: 'Revisión', treatment: null,
  colour: null, notes: null, status, allowed_transitions: [], outside_hours: false,
})

describe('agenda columns after settings changes', () => {
  it('shows active cabinets, and an inactive one only while it holds a live appointment that day', async () => {
    vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: string) => {
        const u = new URL(input, 'http://x')
        if (u.pathname.endsWith('/agenda/cabinets'))
          return ok([
            { cabinet_id: 'CAB1', name: 'Gabinete 1', colour: null, position: 0, active: true },
            { cabinet_id: 'CAB2', name: 'Gabinete 2', colour: null, position: 1, active: false },
            { cabinet_id: 'CAB3', name: 'Gabinete 3', colour: null, position: 2, active: false },
            { cabinet_id: 'CAB4', name: 'Gabinete 4', colour: null, position: 3, active: false },
          ])
        if (u.pathname.endsWith('/agenda/professionals')) return ok([])
        if (u.pathname.endsWith('/agenda/day'))
          return ok({ date: '2026-12-02', weekday: 'wednesday', time_zone: 'Europe/Madrid', closed: false, holiday: null, hours: [{ start: '09:00', end: '14:00' }], appointments: [appt('A1', 'CAB2', 'confirmed'), appt('A2', 'CAB3', 'cancelled')] })
        return ok(null)
      }),
    )
    const { wrapper } = await mountAt(AgendaView, '/agenda?view=day&date=2026-12-02', [{ path: '/agenda', name: 'agenda', component: AgendaView }])
    await flushPromises()
    const heads = wrapper.findAll('[data-testid="agenda-colhead"] > span:first-child').map((s) => s.text())
    expect(heads).toEqual(['Gabinete 1', 'Gabinete 2 (inactivo)'])
  })
})
