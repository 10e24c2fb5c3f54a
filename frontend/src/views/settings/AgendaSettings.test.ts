import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import PrimeVue from 'primevue/config'
import ToastService from 'primevue/toastservice'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '@/i18n'
import { useSession } from '@/stores/session'
import type { MeOut } from '@/api/types'
import SettingsView from './SettingsView.vue'

const json = (data: unknown, status = 200) => new Response(status === 204 ? null : JSON.stringify(status < 400 ? { data, message: null } : data), { status, headers: { 'Content-Type': 'application/json' } })
const HOURS = {
  monday: [{ start: '09:00', end: '14:00' }, { start: '16:00', end: '20:00' }], tuesday: [{ start: '09:00', end: '14:00' }], wednesday: [], thursday: [], friday: [], saturday: [], sunday: [],
  time_zone: 'Europe/Madrid', customised: true,
}
const CABS = [
  { cabinet_id: 'c1', name: 'Gabinete 1', colour: '#0d9488', position: 0, active: true },
  { cabinet_id: 'c2', name: 'Gabinete 2', colour: null, position: 1, active: false },
]
const today = new Date()
const ymd = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
const later = new Date(today.getFullYear() + 1, 0, 6)
const HOLIDAYS = [{ date: '2001-01-01', name: 'Pasado' }, { date: ymd(later), name: 'Reyes' }]

type Handler = (body: unknown) => Response
function stubApi(over: Record<string, Handler> = {}) {
  const calls: { method: string; path: string; body: unknown }[] = []
  const routes: Record<string, Handler> = {
    'GET /api/v1/agenda/cabinets': () => json(CABS),
    'GET /api/v1/agenda/hours': () => json(HOURS),
    'GET /api/v1/agenda/holidays': () => json(HOLIDAYS),
    ...over,
  }
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    const path = url.split('?')[0]!
    const body = init.body ? JSON.parse(String(init.body)) : undefined
    calls.push({ method, path, body })
    const r = routes[`${method} ${path}`]
    if (!r) throw new Error(`unexpected ${method} ${url}`)
    return r(body)
  }))
  return calls
}

async function mountSettings(permissions: string[], lang: 'es' | 'en' = 'es') {
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {} }))
  // PrimeVue's TabList watches its size; jsdom has no ResizeObserver.
  vi.stubGlobal('ResizeObserver', class { observe() {} unobserve() {} disconnect() {} })
  Element.prototype.scrollIntoView ??= () => {} // SettingsView shows the open tab; jsdom does not scroll
  const pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = lang
  useSession().me = { permissions, role: 'admin', user: { user_id: 'u', email: 'a@b.c', name: 'A', language: lang }, clinic: { time_zone: 'Europe/Madrid' }, clinics: [], plan: 'pro', session_id: 's' } as unknown as MeOut
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/settings/:section?', name: 'settings', component: SettingsView, props: true }] })
  await router.push('/settings/agenda')
  await router.isReady()
  const wrapper = mount({ template: '<router-view />' }, { global: { plugins: [pinia, i18n, router, [PrimeVue, { theme: 'none' }], ToastService] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}
const byTestId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`)

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('Settings → Agenda', () => {
  it('is a tab only with agenda.settings.write', async () => {
    stubApi({ 'GET /api/v1/clinic': () => json({}) })
    const w = await mountSettings(['agenda.appointments.read', 'settings.clinic.read'])
    expect(w.find('[data-testid="settings-tab-agenda"]').exists()).toBe(false)
    expect(w.find('[data-testid="agenda-settings"]').exists()).toBe(false)
    w.unmount()
    stubApi()
    const admin = await mountSettings(['agenda.appointments.read', 'agenda.settings.write'])
    expect(admin.get('[data-testid="settings-tab-agenda"]').text()).toContain('Agenda')
    expect(admin.find('[data-testid="agenda-settings"]').exists()).toBe(true)
  })

  it('lists the cabinets (active first), the week and only the coming closed days', async () => {
    stubApi()
    const w = await mountSettings(['*'])
    const cabs = w.findAll('[data-testid="as-cabinet"]')
    expect(cabs.map((c) => c.attributes('data-active'))).toEqual(['true', 'false'])
    expect(cabs[0]!.text()).toContain('Verde azulado')
    expect(cabs[1]!.text()).toContain('Inactivo')
    expect(cabs[1]!.find('[data-testid="as-cabinet-reactivate"]').exists()).toBe(true)
    expect((w.get('[data-testid="as-monday-1-start"]').element as HTMLInputElement).value).toBe('16:00')
    expect(w.get('[data-testid="as-day-wednesday"]').text()).toContain('Cerrado')
    const holidays = w.findAll('[data-testid="as-holiday"]')
    expect(holidays.map((h) => h.text())).toEqual([expect.stringContaining('Reyes')])
  })

  it("shows the API's overlap error under the range it names, and nothing is saved", async () => {
    const calls = stubApi({
      'PUT /api/v1/agenda/hours': () =>
        json({ data: null, message: 'Some fields are not valid.', code: 'VALIDATION_FAILED', errors: [{ field: 'tuesday.1.start', message: 'se solapa con 09:00-14:00 el martes' }] }, 422),
    })
    const w = await mountSettings(['*'])
    await w.get('[data-testid="as-add-tuesday"]').trigger('click')
    await w.get('[data-testid="as-tuesday-1-start"]').setValue('13:00')
    await w.get('[data-testid="as-tuesday-1-end"]').setValue('15:00')
    await w.get('[data-testid="as-hours-form"]').trigger('submit')
    await flushPromises()
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.body).toMatchObject({ tuesday: [{ start: '09:00', end: '14:00' }, { start: '13:00', end: '15:00' }], wednesday: [] })
    const err = w.get('[data-testid="as-err-tuesday-1-start"]')
    expect(err.text()).toBe('se solapa con 09:00-14:00 el martes')
    const input = w.get('[data-testid="as-tuesday-1-start"]')
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(input.attributes('aria-describedby')).toBe(err.attributes('id'))
    expect(w.get('[data-testid="as-hours-error"]').text()).toContain('no se ha guardado nada')
    // Fixing the field clears its message.
    await input.setValue('14:00')
    expect(w.get('[data-testid="as-tuesday-1-start"]').attributes('aria-invalid')).toBeUndefined()
  })

  it('checks empty times and an end before its start without asking the API', async () => {
    const calls = stubApi()
    const w = await mountSettings(['*'], 'en')
    await w.get('[data-testid="as-monday-0-end"]').setValue('08:00')
    await w.get('[data-testid="as-hours-form"]').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="as-err-monday-0-end"]').text()).toBe('The end must be after the start')
    expect(calls.some((c) => c.method === 'PUT')).toBe(false)
  })

  it('says how many appointments a cabinet keeps before deactivating it', async () => {
    const calls = stubApi({
      'GET /api/v1/agenda/cabinets/c1/upcoming': () => json({ cabinet_id: 'c1', count: 3, capped: false, first: '2030-01-07T10:30:00+01:00' }),
      'PATCH /api/v1/agenda/cabinets/c1': (b) => json({ ...CABS[0], ...(b as object) }),
    })
    const w = await mountSettings(['*'])
    await w.get('[data-testid="as-cabinet-deactivate"]').trigger('click')
    await flushPromises()
    const said = byTestId('as-upcoming')!.textContent!
    expect(said).toContain('Tiene 3 citas pendientes')
    expect(said).toContain('10:30')
    expect(said).toContain('no se anulan')
    expect(said).toContain('«Gabinete 1 (inactivo)»')
    byTestId('as-deactivate-confirm')!.click()
    await flushPromises()
    expect(calls.find((c) => c.method === 'PATCH')!.body).toEqual({ active: false })
    expect(w.findAll('[data-testid="as-cabinet"]').map((c) => c.attributes('data-active'))).toEqual(['false', 'false'])
  })

  it('creates a cabinet with a colour, after the others', async () => {
    const calls = stubApi({ 'POST /api/v1/agenda/cabinets': (b) => json({ cabinet_id: 'c3', active: true, ...(b as object) }, 201) })
    const w = await mountSettings(['*'])
    await w.get('[data-testid="as-cabinet-add"]').trigger('click')
    await flushPromises()
    const form = byTestId('as-cabinet-form')! // the dialog is teleported to <body>
    const name = document.querySelector<HTMLInputElement>('#cab-name')!
    name.value = ''
    byTestId('as-cabinet-save')!.click()
    await flushPromises()
    expect(form.textContent).toContain('Este campo es obligatorio')
    name.value = 'Gabinete 3'
    name.dispatchEvent(new Event('input'))
    document.querySelector<HTMLInputElement>('input[name="cab-colour"][value="#2563eb"]')!.click()
    byTestId('as-cabinet-save')!.click()
    await flushPromises()
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ name: 'Gabinete 3', colour: '#2563eb', position: 2 })
    expect(w.findAll('[data-testid="as-cabinet"]').map((c) => c.text())).toEqual([expect.stringContaining('Gabinete 1'), expect.stringContaining('Gabinete 3'), expect.stringContaining('Gabinete 2')])
  })

  it('closes a range of days and reports the days already closed', async () => {
    const calls = stubApi({
      'POST /api/v1/agenda/holidays/range': () =>
        json({ added: [{ date: '2030-08-12', name: 'Vacaciones' }, { date: '2030-08-13', name: 'Vacaciones' }], already_closed: [{ date: '2030-08-14', name: 'Fiesta' }] }, 201),
      'DELETE /api/v1/agenda/holidays/2030-08-12': () => json(null, 204),
    })
    const w = await mountSettings(['*'])
    await w.get('#hol-first').setValue('2030-08-12')
    await w.get('#hol-last').setValue('2030-08-14')
    await w.get('#hol-name').setValue('Vacaciones')
    expect(w.get('[data-testid="as-holiday-add"]').text()).toBe('Cerrar 3 días')
    await w.get('[data-testid="as-holiday-form"]').trigger('submit')
    await flushPromises()
    expect(calls.find((c) => c.path.endsWith('/range'))!.body).toEqual({ first: '2030-08-12', last: '2030-08-14', name: 'Vacaciones' })
    expect(w.findAll('[data-testid="as-holiday"]').map((h) => h.attributes('data-date'))).toEqual([ymd(later), '2030-08-12', '2030-08-13'])
    await w.get('[data-testid="as-holiday-remove-2030-08-12"]').trigger('click')
    await flushPromises()
    expect(w.findAll('[data-testid="as-holiday"]').map((h) => h.attributes('data-date'))).toEqual([ymd(later), '2030-08-13'])
  })

  it('a day already closed: the API says so in words', async () => {
    stubApi({ 'POST /api/v1/agenda/holidays': () => json({ data: null, message: 'Ese día ya está marcado como cerrado.', code: 'HOLIDAY_EXISTS', errors: [] }, 409) })
    const w = await mountSettings(['*'])
    await w.get('#hol-first').setValue(ymd(later))
    await w.get('#hol-name').setValue('Otra')
    expect(w.get('[data-testid="as-holiday-add"]').text()).toBe('Cerrar ese día')
    await w.get('[data-testid="as-holiday-form"]').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="as-holiday-form"]').text()).toContain('Ese día ya está marcado como cerrado.')
  })
})
