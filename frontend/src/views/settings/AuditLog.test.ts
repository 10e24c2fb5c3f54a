import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import AuditLog from './AuditLog.vue'
import { mountAt } from '@/test/setup'
import { setLocale } from '@/i18n'

afterEach(() => {
  setLocale('es')
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const ok = (data: unknown) => new Response(JSON.stringify({ data, message: null }), { status: 200, headers: { 'Content-Type': 'application/json' } })
const entry = (action: string, entity_type: string) => ({ audit_id: action, at: '2026-12-02T09:30:00Z', actor_name: 'Elena Sánchez', actor_id: 'U1', action, entity_type, entity_id: 'X', ip: '127.0.0.1' })

function server() {
  const audits: URLSearchParams[] = []
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string) => {
      const u = new URL(input, 'http://x')
      if (u.pathname.endsWith('/audit')) {
        audits.push(u.searchParams)
        return ok({ items: [entry('patient.medical_viewed', 'patient'), entry('billing.invoice.issued', 'invoice'), entry('something.new', 'patient')], next_cursor: null })
      }
      if (u.pathname.endsWith('/staff')) return ok([{ user_id: 'U1', email: 'e@d.c', name: 'Elena Sánchez', role: 'admin', status: 'active', is_professional: false, joined_at: '2026-01-01T00:00:00Z' }])
      return ok(null)
    }),
  )
  return audits
}

describe('audit log', () => {
  it('says each action in words (the code as a tooltip), and the code itself when it has none', async () => {
    server()
    const { wrapper } = await mountAt(AuditLog, '/settings/audit')
    const actions = wrapper.findAll('[data-testid="audit-action"]')
    expect(actions.map((a) => a.text())).toEqual(['Historia médica consultada', 'Factura expedida', 'something.new'])
    expect(actions[0].attributes('title')).toBe('patient.medical_viewed')
    expect(actions[2].element.tagName).toBe('CODE')
    expect(wrapper.text()).toContain('Pacientes')
    setLocale('en')
    await flushPromises()
    expect(wrapper.findAll('[data-testid="audit-action"]')[0].text()).toBe('Medical history viewed')
  })

  it('filters by dates as whole days with their time zone, and clears', async () => {
    const audits = server()
    const { wrapper } = await mountAt(AuditLog, '/settings/audit')
    expect(audits[0].get('from')).toBeNull()
    await wrapper.get('#af-from').setValue('2026-12-01')
    await wrapper.get('#af-from').trigger('change')
    await flushPromises()
    const sent = audits.at(-1)!
    expect(sent.get('from')).toBe(new Date('2026-12-01T00:00:00').toISOString())
    expect(sent.get('limit')).toBe('50')
    await wrapper.get('[data-testid="audit-clear"]').trigger('click')
    await flushPromises()
    expect(audits.at(-1)!.get('from')).toBeNull()
    expect(wrapper.find('[data-testid="audit-clear"]').exists()).toBe(false)
  })
})
