import { afterEach, describe, expect, it, vi } from 'vitest'
import TimelineTab from './TimelineTab.vue'
import { mountAt } from '@/test/setup'

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const item = (actor: Record<string, unknown>) => ({ event_id: String(Math.random()), type: 'image.processed', occurred_at: '2026-12-02T09:30:00Z', data: { kind: 'xray' }, actor })

describe('timeline', () => {
  it("says who did it in the app's language: a person by name, the system as automatic (never 'Image worker')", async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ data: { items: [item({ type: 'system', id: 'image-worker', name: 'Image worker' }), item({ type: 'user', id: 'U1', name: 'Elena Sánchez' })], next_cursor: null }, message: null }), { status: 200, headers: { 'Content-Type': 'application/json' } })),
    )
    const { wrapper } = await mountAt(TimelineTab, '/patients/P1', [], { patientId: 'P1' })
    const text = wrapper.get('[data-testid="timeline"]').text()
    expect(text).not.toContain('Image worker')
    expect(text).toContain('automático')
    expect(text).toContain('por Elena Sánchez')
  })
})
