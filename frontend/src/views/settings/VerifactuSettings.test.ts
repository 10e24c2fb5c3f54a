import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import PrimeVue from 'primevue/config'
import { i18n } from '@/i18n'
import { useSession } from '@/stores/session'
import type { MeOut } from '@/api/types'
import VerifactuSettings from './VerifactuSettings.vue'

const ok = (data: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ data, message: null }), { status: 200, headers: { 'Content-Type': 'application/json', ...headers } })

/** A small API: each path answers what the demo clinic would. */
function api(over: Record<string, () => Response> = {}) {
  const calls: string[] = []
  const routes: Record<string, () => Response> = {
    '/api/v1/verifactu/settings': () => ok({ environment: 'test', production_enabled_at: null, certificate: null, chains: [{ nif: 'B12345674', records: 8, pending: 8, submission_status: 'not_configured', last_sent_at: null, tiempo_espera: null, next_attempt_at: null, last_error: 'x', held: false }], blocked_series: {}, alerts: [{ code: 'CERTIFICATE_MISSING', message: 'Upload the certificate.' }] }),
    '/api/v1/verifactu/status': () => ok({ environment: 'test', chains: [{ nif: 'B12345674', records: 8, pending: 8, submission_status: 'not_configured', last_sent_at: null, tiempo_espera: null, next_attempt_at: null, last_error: 'x', held: false }], blocked_series: {}, alerts: [{ code: 'CERTIFICATE_MISSING', message: 'Sube el certificado.', params: {} }] }),
    '/api/v1/verifactu/records': () => ok({ items: [{ record_id: 'B1-5', kind: 'alta', seq: 5, nif: 'B12345674', invoice_id: 'i', series: 'F', num_serie: 'F-2026-000005', fecha_expedicion: '02-12-2026', status: 'rejected', aeat_code: 4109, aeat_description: 'El NIF del destinatario no está identificado.', answered_at: '2026-12-02T10:00:00Z', corrects: null, superseded_by: null, created_at: '2026-12-02T09:00:00Z', reconciliation: null, incidencia: false }], next_cursor: null }),
    '/api/v1/verifactu/reconciliation/records': () => ok({ items: [], next_cursor: null }),
    '/api/v1/verifactu/reconciliation/days': () => ok({ items: [], next_cursor: null }),
    ...over,
  }
  const fetch = vi.fn(async (url: string) => {
    calls.push(url)
    const path = url.split('?')[0]!
    const r = routes[path]
    if (!r) throw new Error(`unexpected ${url}`)
    return r()
  })
  vi.stubGlobal('fetch', fetch)
  return { fetch, calls }
}

async function mountWith(permissions: string[]) {
  // PrimeVue's Select listens to the orientation; jsdom has no matchMedia.
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {} }))
  const pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = 'es'
  useSession().me = { permissions, role: 'receptionist', user: { user_id: 'u', email: 'a@b.c', name: 'A', language: 'es' }, clinic: { time_zone: 'Europe/Madrid' }, clinics: [], plan: 'pro', session_id: 's' } as unknown as MeOut
  const wrapper = mount(VerifactuSettings, { global: { plugins: [pinia, i18n, [PrimeVue, { theme: 'none' }]] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

const sections = (w: Awaited<ReturnType<typeof mountWith>>) =>
  ['vf-status', 'vf-verify', 'vf-discrepancies', 'vf-rejected', 'vf-book'].filter((id) => w.find(`[data-testid="${id}"]`).exists())

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('Settings → VERI*FACTU', () => {
  it('each section shows only with the permission its route needs', async () => {
    api()
    expect(sections(await mountWith(['*']))).toEqual(['vf-status', 'vf-verify', 'vf-discrepancies', 'vf-rejected', 'vf-book'])
    // The receptionist: read and books; her status comes from the read route, without the certificate.
    const reader = api()
    const w = await mountWith(['verifactu.read', 'verifactu.books.export'])
    expect(sections(w)).toEqual(['vf-status', 'vf-verify', 'vf-discrepancies', 'vf-rejected', 'vf-book'])
    expect(reader.calls).toContain('/api/v1/verifactu/status')
    expect(reader.calls).not.toContain('/api/v1/verifactu/settings')
    expect(w.find('[data-testid="vf-certificate"]').exists()).toBe(false)
    expect(w.get('[data-testid="vf-chain"]').text()).toContain('B12345674')
    // A gestor invited only to download the book.
    const { calls } = api()
    expect(sections(await mountWith(['verifactu.books.export']))).toEqual(['vf-book'])
    expect(calls).toEqual([]) // nothing it may not read is asked for
  })

  it('status in words, rejected records with what to do, empty discrepancies', async () => {
    const { calls } = api()
    const w = await mountWith(['*'])
    expect(calls).toContain('/api/v1/verifactu/records?status=rejected&limit=50')
    expect(w.get('[data-testid="vf-alerts"]').text()).toContain('Falta el certificado electrónico de la clínica')
    expect(w.get('[data-testid="vf-chain"]').text()).toContain('B12345674')
    expect(w.get('[data-testid="vf-chain"]').text()).toContain('Envío no configurado')
    const rejected = w.get('[data-testid="vf-rejected-list"]').text()
    expect(rejected).toContain('F-2026-000005')
    expect(rejected).toContain('El NIF del destinatario no está identificado.')
    expect(rejected).toContain('corrige esta factura desde Facturación')
    expect(w.get('[data-testid="vf-discrepancies"]').text()).toContain('Sin diferencias con la AEAT')
  })

  it('the book period defaults to the current quarter and is checked before any request', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T10:00:00Z'), toFake: ['Date'] })
    try {
      const { fetch } = api()
      const w = await mountWith(['verifactu.books.export'])
      expect((w.get('#vf-from').element as HTMLInputElement).value).toBe('2026-10-01')
      expect((w.get('#vf-to').element as HTMLInputElement).value).toBe('2026-12-31')
      await w.get('#vf-to').setValue('2026-09-30')
      await w.get('form').trigger('submit')
      await flushPromises()
      expect(w.text()).toContain('La fecha final no puede ser anterior a la inicial')
      expect(document.activeElement?.id).toBe('vf-to')
      await w.get('#vf-from').setValue('2025-01-01')
      await w.get('#vf-to').setValue('2026-06-30')
      await w.get('form').trigger('submit')
      await flushPromises()
      expect(w.text()).toContain('Como mucho 366 días por descarga')
      expect(fetch).not.toHaveBeenCalled()
    } finally {
      vi.useRealTimers()
    }
  })

  it("shows the API's own message when it refuses", async () => {
    api({
      '/api/v1/verifactu/book/records': () =>
        new Response(JSON.stringify({ data: null, message: 'No hay registros VERI*FACTU de facturas con fecha en este periodo.', code: 'VERIFACTU_NO_RECORDS', errors: [] }), { status: 404 }),
    })
    const w = await mountWith(['verifactu.books.export'])
    await w.get('[data-testid="vf-download-xml"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="vf-book-error"]').text()).toContain('No hay registros VERI*FACTU de facturas con fecha en este periodo.')
  })

  it('a clinic with two NIFs is asked which one', async () => {
    api({
      '/api/v1/verifactu/book/issued': () =>
        new Response(JSON.stringify({ data: { nifs: ['B12345674', 'B87654321'] }, message: 'Say which NIF.', code: 'VERIFACTU_NIF_REQUIRED', errors: [] }), { status: 422 }),
    })
    const w = await mountWith(['verifactu.books.export'])
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="vf-book-error"]').text()).toContain('varios NIF')
    expect(w.find('#vf-nif').exists()).toBe(true)
  })
})
