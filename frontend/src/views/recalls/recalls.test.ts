import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import PrimeVue from 'primevue/config'
import ToastService from 'primevue/toastservice'
import { i18n } from '@/i18n'
import es from '@/i18n/es'
import en from '@/i18n/en'
import { useSession } from '@/stores/session'
import type { MeOut } from '@/api/types'
import type { Recall, FollowUp } from '@/api/recalls'
import RecallDueList from './RecallDueList.vue'
import FollowUpList from './FollowUpList.vue'
import { dueWords, isoPlus, parseCodes, parseDays, todayIso } from './recallWords'

const json = (data: unknown, status = 200, message: string | null = null) =>
  new Response(JSON.stringify({ data, message, code: status === 409 ? 'RECALL_NO_CHANNEL' : undefined }), { status, headers: { 'Content-Type': 'application/json' } })

const recall = (over: Partial<Recall> = {}): Recall => ({
  recall_id: 'R1', patient_id: 'P1', patient_name: 'Lucía Pérez', rule_id: 'RU1', rule_name: 'Revisión y limpieza', status: 'due',
  due: '2026-12-01', snoozed_until: null, effective_due: '2026-12-01', days_overdue: 3, last_done: '2026-06-01', source: 'treatment',
  appointment_id: null, reminder_count: 0, reminders: [], last_outcome: null, note: null, updated_at: '2026-12-01T10:00:00Z', ...over,
})

type Call = { method: string; path: string; query: string; body: unknown }

async function mountWith(component: unknown, permissions: string[], handle: (c: Call) => Response | undefined, props: Record<string, unknown> = {}) {
  const calls: Call[] = []
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const u = new URL(input, 'http://x')
      const c = { method: init?.method ?? 'GET', path: u.pathname.replace('/api/v1', ''), query: u.search, body: init?.body ? JSON.parse(String(init.body)) : null }
      calls.push(c)
      return handle(c) ?? json(null)
    }),
  )
  const pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = 'es'
  useSession().me = { permissions, role: 'receptionist', user: { user_id: 'u', email: 'a@b.c', name: 'A', language: 'es' }, clinic: { time_zone: 'Europe/Madrid' }, clinics: [], plan: 'pro', session_id: 's' } as unknown as MeOut
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: { template: '<div/>' } }, { path: '/patients/:id/:tab?', name: 'patient', component: { template: '<div/>' } }] })
  await router.push('/')
  const wrapper = mount(component as never, { props, global: { plugins: [pinia, i18n, router, [PrimeVue, { theme: 'none' }], ToastService] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, calls }
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

function keys(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null) return [prefix]
  return Object.entries(o).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

describe('recall words and helpers', () => {
  it('has the same keys in Spanish and English', () => {
    const r = (x: unknown) => keys((x as Record<string, unknown>).recalls).sort()
    expect(r(es)).toEqual(r(en))
    expect(r(es).length).toBeGreaterThan(40)
  })
  it('names the messages recalls and follow-ups send', () => {
    for (const lang of [es, en] as unknown as { comms: { kind: Record<string, string> } }[])
      for (const k of ['recall', 'followup_budget', 'followup_plan', 'followup_noshow']) expect(lang.comms.kind[k]).toBeTruthy()
  })
  it('parses codes and days, and counts days in calendar terms', () => {
    expect(parseCodes('rev, limp;REV  fluor')).toEqual(['REV', 'LIMP', 'FLUOR'])
    expect(parseDays('0, 21')).toEqual([0, 21])
    expect(parseDays('0, tres')).toBeNull()
    expect(isoPlus('2026-12-30', 3)).toBe('2027-01-02')
    expect(todayIso(new Date(2026, 0, 5, 23, 30))).toBe('2026-01-05')
    const t = (k: string, v?: Record<string, unknown>) => `${k}:${v?.n ?? ''}`
    expect(dueWords(t, 3)).toBe('recalls.overdue:3')
    expect(dueWords(t, 0)).toBe('recalls.dueToday:')
    expect(dueWords(t, -4)).toBe('recalls.dueIn:4')
  })
})

describe('the recalls due list', () => {
  it('lists due recalls with the last message and sends one now', async () => {
    const { calls } = await mountWith(RecallDueList, ['recalls.read', 'recalls.write'], (c) => {
      if (c.path === '/recalls/due') return json({ items: [recall({ reminders: [{ at: '2026-11-20T09:00:00Z', step: 0, channel: null, status: 'skipped', reason: 'no_consent' }] })], next_cursor: null })
      if (c.path === '/recalls/rules') return json([])
      if (c.method === 'POST' && c.path === '/patients/P1/recalls/RU1/send') return json({ status: 'sent', channel: 'email', reason: null, message_id: 'M1' })
    })
    const row = document.querySelector('[data-testid="recall-P1"]') as HTMLElement
    expect(row.textContent).toContain('Lucía Pérez')
    expect(row.textContent).toContain('Vencida hace 3 días')
    expect(row.textContent).toContain('No enviado: sin consentimiento')
    expect(calls[0].query).toContain('until=')
    ;(row.querySelector('[data-testid="recall-send"]') as HTMLElement).click()
    await flushPromises()
    expect(calls.some((c) => c.method === 'POST' && c.path === '/patients/P1/recalls/RU1/send')).toBe(true)
    expect(row.querySelector('[data-testid="last-sent"]')!.textContent).toContain('Último envío')
  })
  it('shows no actions without recalls.write', async () => {
    await mountWith(RecallDueList, ['recalls.read'], (c) => {
      if (c.path === '/recalls/due') return json({ items: [recall()], next_cursor: null })
      if (c.path === '/recalls/rules') return json([])
    })
    expect(document.querySelector('[data-testid="recall-send"]')).toBeNull()
  })
  it('says when nothing is due', async () => {
    await mountWith(RecallDueList, ['recalls.read'], (c) => {
      if (c.path === '/recalls/due') return json({ items: [], next_cursor: null })
      if (c.path === '/recalls/rules') return json([])
    })
    expect(document.body.textContent).toContain('Nada pendiente')
  })
})

describe('a follow-up list', () => {
  it('marks a follow-up done with a note and it leaves the list', async () => {
    const f: FollowUp = {
      followup_id: 'budget-B1', kind: 'budget', patient_id: 'P2', patient_name: 'Juan Ruiz', ref_id: 'B1', ref_number: 'P-2026-0007',
      since: '2026-11-10', days: 24, status: 'open', contacted_at: null, done_at: null, notes: [], messages: [], updated_at: '2026-11-10T10:00:00Z',
    }
    const { calls } = await mountWith(FollowUpList, ['recalls.read', 'recalls.write'], (c) => {
      if (c.path === '/followups/budget') return json({ items: [f], next_cursor: null })
      if (c.method === 'POST' && c.path === '/patients/P2/followups/budget-B1') return json({ ...f, status: 'done' })
    }, { kind: 'budget' })
    const row = document.querySelector('[data-testid="followup-P2"]') as HTMLElement
    expect(row.textContent).toContain('Presupuesto P-2026-0007')
    expect(row.textContent).toContain('Hace 24 días')
    const buttons = () => [...row.querySelectorAll('button')] as HTMLButtonElement[]
    buttons().find((b) => b.textContent?.includes('Contactado'))!.click()
    await flushPromises()
    const input = row.querySelector('input') as HTMLInputElement
    input.value = 'Llamará la semana que viene'
    input.dispatchEvent(new Event('input'))
    buttons().find((b) => b.textContent?.trim() === 'Hecho')!.click()
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.body).toEqual({ outcome: 'done', note: 'Llamará la semana que viene' })
    expect(document.querySelector('[data-testid="followup-P2"]')).toBeNull()
  })
})
