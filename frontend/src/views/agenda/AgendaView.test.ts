import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import AgendaView from './AgendaView.vue'
import { mountAt } from '@/test/setup'

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
