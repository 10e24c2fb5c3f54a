import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import PrimeVue from 'primevue/config'
import ToastService from 'primevue/toastservice'
import { i18n } from '@/i18n'
import { useSession } from '@/stores/session'
import type { MeOut } from '@/api/types'
import BookingSettings from './BookingSettings.vue'

const ok = (data: unknown) => new Response(JSON.stringify({ data, message: null }), { status: 200, headers: { 'Content-Type': 'application/json' } })
const SETTINGS = {
  enabled: true, horizon_days: 60, min_notice_hours: 12, buffer_min: 0, max_pending: 2, embed_origins: [],
  types: [{ type_id: 'revision', name_es: 'Revisión', name_en: 'Check-up', duration_min: 30, professional_ids: ['p1'], cabinet_ids: ['c1'], reason: 'Revisión', colour: 'blue', active: true }],
  public_url: 'http://localhost:8000/api/v1/public/booking/CLINIC', widget_snippet: '<script src="http://localhost:8000/api/v1/public/booking/CLINIC/widget.js" async></script>', version: 1,
}

function api() {
  const puts: unknown[] = []
  const fetch = vi.fn(async (url: string, init?: RequestInit) => {
    const path = url.split('?')[0]!
    if (path === '/api/v1/booking/settings' && init?.method === 'PUT') {
      const body = JSON.parse(String(init.body))
      puts.push(body)
      return ok({ ...SETTINGS, ...body, version: 2 })
    }
    if (path === '/api/v1/booking/settings') return ok(SETTINGS)
    if (path === '/api/v1/agenda/professionals') return ok([{ user_id: 'p1', name: 'Dra. Ana', role: 'dentist' }, { user_id: 'p2', name: 'Sergio', role: 'hygienist' }])
    if (path === '/api/v1/agenda/cabinets') return ok([{ cabinet_id: 'c1', name: 'Gabinete 1', colour: null, position: 0, active: true }])
    throw new Error(`unexpected ${url}`)
  })
  vi.stubGlobal('fetch', fetch)
  return { puts }
}

async function mountIt() {
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {} }))
  const pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = 'es'
  useSession().me = { permissions: ['booking.manage'], role: 'admin', user: { user_id: 'u', email: 'a@b.c', name: 'A', language: 'es' }, clinic: { time_zone: 'Europe/Madrid' }, clinics: [], plan: 'pro', session_id: 's' } as unknown as MeOut
  const w = mount(BookingSettings, { global: { plugins: [pinia, i18n, [PrimeVue, { theme: 'none' }], ToastService] }, attachTo: document.body })
  await flushPromises()
  return w
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('Settings → Online booking', () => {
  it('shows the public link, the widget snippet and the types', async () => {
    api()
    const w = await mountIt()
    expect(w.get('[data-testid="booking-public-url"]').text()).toContain('/public/booking/CLINIC')
    expect((w.get('[data-testid="booking-snippet"]').element as HTMLTextAreaElement).value).toContain('widget.js')
    expect(w.findAll('[data-testid="booking-type"]')).toHaveLength(1)
    expect((w.get('#bk-t0-es').element as HTMLInputElement).value).toBe('Revisión')
  })

  it('saves a new type, the switch and the framing websites', async () => {
    const { puts } = api()
    const w = await mountIt()
    await w.get('[data-testid="booking-add-type"]').trigger('click')
    await w.get('#bk-t1-es').setValue('Limpieza')
    await w.get('#bk-t1-en').setValue('Cleaning')
    await w.get('#bk-t1-dur').setValue('45')
    await w.get('[data-testid="booking-origins"]').setValue('https://www.clinica.example')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(puts).toHaveLength(1)
    const body = puts[0] as { types: { name_es: string; duration_min: number; professional_ids: string[]; reason: string }[]; embed_origins: string[]; enabled: boolean }
    expect(body.enabled).toBe(true)
    expect(body.types[1]).toMatchObject({ name_es: 'Limpieza', duration_min: 45, professional_ids: ['p1', 'p2'], reason: 'Limpieza' })
    expect(body.embed_origins).toEqual(['https://www.clinica.example'])
  })

  it('every field has a label (keyboard and screen readers)', async () => {
    api()
    const w = await mountIt()
    for (const input of w.findAll('input:not([type="checkbox"]), textarea, select')) {
      const id = input.attributes('id')
      if (!id) continue
      expect(document.querySelector(`label[for="${id}"]`), id).not.toBeNull()
    }
  })
})
