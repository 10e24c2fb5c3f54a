import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import AgendaView from './AgendaView.vue'
import { mountAt } from '@/test/setup'
import { useSession } from '@/stores/session'

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const ok = (data: unknown) => new Response(JSON.stringify({ data, message: null }), { status: 200, headers: { 'Content-Type': 'application/json' } })
const day = (date: string) => ({ date, weekday: '', time_zone: 'Europe/Madrid', closed: false, holiday: null, hours: [{ start: '09:00', end: '14:00' }], appointments: [] })

describe('agenda loading', () => {
  it('opens the week view with one request for the week, for the first cabinet', async () => {
    vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
    const calls: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: string) => {
        const u = new URL(input, 'http://x')
        calls.push(u.pathname + u.search)
        if (u.pathname.endsWith('/agenda/cabinets')) return ok([{ cabinet_id: 'CAB1', name: 'Gabinete 1', active: true }, { cabinet_id: 'CAB2', name: 'Gabinete 2', active: true }])
        if (u.pathname.endsWith('/agenda/professionals')) return ok([])
        if (u.pathname.endsWith('/agenda/week')) return ok({ start: '2026-11-30', days: [0, 1, 2, 3, 4, 5, 6].map((i) => day(`2026-12-0${i + 1}`)) })
        return ok(null)
      }),
    )
    await mountAt(AgendaView, '/agenda?view=week&date=2026-12-02', [{ path: '/agenda', name: 'agenda', component: AgendaView }])
    await flushPromises()
    await flushPromises()
    const weeks = calls.filter((c) => c.includes('/agenda/week'))
    expect(weeks).toHaveLength(1)
    expect(weeks[0]).toContain('cabinet_id=CAB1')
  })
})

describe('cancelling an appointment', () => {
  it('the 15 seconds to undo start when the agenda shows the cancellation, however slow the reload', async () => {
    vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
    const appt = {
      appointment_id: 'A1', patient_id: 'P1', patient_name: 'Lucía Prueba', patient_alerts: [], professional_id: 'U1', professional_name: 'Dra. Ruiz',
      cabinet_id: 'CAB1', start: '2026-12-02T10:00:00+01:00', end: '2026-12-02T10:30:00+01:00', time_zone: 'Europe/Madrid', duration_min: 30,
      reason: 'Revisión', treatment: null, colour: null, notes: null, status: 'scheduled', allowed_transitions: ['confirmed', 'cancelled'], outside_hours: false,
    }
    let status = 'scheduled'
    let slowReload: ((r: Response) => void) | null = null
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: string, init?: RequestInit) => {
        const u = new URL(input, 'http://x')
        if (u.pathname.endsWith('/agenda/cabinets')) return ok([{ cabinet_id: 'CAB1', name: 'Gabinete 1', active: true }])
        if (u.pathname.endsWith('/agenda/professionals')) return ok([])
        if (u.pathname.endsWith('/appointments/A1/status') && init?.method === 'POST') {
          status = JSON.parse(String(init.body)).status
          return ok({ ...appt, status })
        }
        if (u.pathname.endsWith('/agenda/day')) {
          const body = ok({ ...day('2026-12-02'), appointments: [{ ...appt, status }] })
          // The reload after the cancellation takes long (a slow connection, a busy server).
          if (status === 'cancelled') return new Promise<Response>((resolve) => (slowReload = resolve))
          return body
        }
        return ok(null)
      }),
    )
    const { wrapper } = await mountAt(AgendaView, '/agenda?date=2026-12-02', [{ path: '/agenda', name: 'agenda', component: AgendaView }])
    useSession().me = { permissions: ['*'] } as never
    await flushPromises()
    await wrapper.get('[data-testid="appt-A1"]').trigger('click')
    await flushPromises()
    const item = [...document.querySelectorAll('.p-menu-item')].find((e) => e.textContent?.includes('Cancelar cita')) as HTMLElement
    item.querySelector('a, .p-menu-item-content')!.dispatchEvent(new MouseEvent('click', { bubbles: true }))
    await flushPromises()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      document.querySelector<HTMLFormElement>('[data-testid="release-form"]')!.dispatchEvent(new Event('submit', { cancelable: true }))
      await flushPromises()
      expect(status).toBe('cancelled')
      expect(document.querySelector('[data-testid="undo-bar"]')).not.toBeNull()
      vi.advanceTimersByTime(20_000) // still reloading: the change is not on screen yet
      await flushPromises()
      expect(document.querySelector('[data-testid="undo-bar"]')).not.toBeNull()
      slowReload!(ok({ ...day('2026-12-02'), appointments: [{ ...appt, status: 'cancelled' }] }))
      await flushPromises()
      expect(wrapper.get('[data-testid="appt-A1"]').attributes('data-status')).toBe('cancelled')
      vi.advanceTimersByTime(14_000)
      await flushPromises()
      expect(document.querySelector('[data-testid="undo-bar"]')).not.toBeNull()
      vi.advanceTimersByTime(1_500)
      await flushPromises()
      expect(document.querySelector('[data-testid="undo-bar"]')).toBeNull()
    } finally {
      vi.useRealTimers()
    }
  })
})
