import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import PrimeVue from 'primevue/config'
import { i18n } from '@/i18n'
import { actionsFor, decimalText, eur, shownStatus, type BudgetOut } from '@/api/budgets'
import { mountAt } from '@/test/setup'
import { useSession } from '@/stores/session'
import ToothChart from './ToothChart.vue'
import BudgetDetail from './BudgetDetail.vue'
import BudgetList from './BudgetList.vue'

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('budget helpers', () => {
  it('money reads in the locale from the exact text', () => {
    expect(eur('1234.50', 'es')).toMatch(/1234,50\s€|1\.234,50\s€/)
    expect(eur('1234.50', 'en')).toBe('€1,234.50')
    expect(eur(null, 'es')).toBe('')
  })
  it('numbers typed with a comma or a dot, two decimals at most', () => {
    expect(decimalText('10,5')).toBe('10.5')
    expect(decimalText(' 12.50 ')).toBe('12.50')
    expect(decimalText('-1')).toBeNull()
    expect(decimalText('1.234')).toBeNull()
    expect(decimalText('abc')).toBeNull()
  })
  it('what can be done follows the state; partly accepted reads so', () => {
    expect(actionsFor('draft')).toMatchObject({ edit: true, send: true, accept: false, cancel: true, revise: false })
    expect(actionsFor('sent')).toMatchObject({ edit: false, send: true, accept: true, reject: true, cancel: true, revise: true })
    expect(Object.values(actionsFor('accepted')).some(Boolean)).toBe(false)
    expect(Object.values(actionsFor('cancelled')).some(Boolean)).toBe(false)
    expect(shownStatus({ status: 'accepted', partial: true })).toBe('partial')
    expect(shownStatus({ status: 'accepted', partial: false })).toBe('accepted')
  })
})

describe('the tooth chart', () => {
  const mountChart = (value: number | null = null) =>
    mount(ToothChart, { props: { modelValue: value, idPrefix: 'x' }, global: { plugins: [i18n, [PrimeVue, { theme: 'none' }]] }, attachTo: document.body })

  it('a click picks a tooth and a second click clears it', async () => {
    const w = mountChart()
    await w.get('[data-testid="x-tooth-36"]').trigger('click')
    expect(w.emitted('update:modelValue')![0]).toEqual([36])
    await w.setProps({ modelValue: 36 })
    expect(w.get('[data-testid="x-tooth-36"]').attributes('aria-pressed')).toBe('true')
    await w.get('[data-testid="x-tooth-36"]').trigger('click')
    expect(w.emitted('update:modelValue')![1]).toEqual([null])
  })

  it('one tab stop; arrows move it, Enter picks (a button)', async () => {
    const w = mountChart()
    const stops = w.findAll('button.tooth').filter((b) => b.attributes('tabindex') === '0')
    expect(stops.map((b) => b.text())).toEqual(['18'])
    await w.get('[data-testid="x-tooth-18"]').trigger('keydown', { key: 'ArrowRight' })
    await w.get('[data-testid="x-tooth-17"]').trigger('keydown', { key: 'ArrowDown' })
    await flushPromises()
    expect(w.get('[data-testid="x-tooth-47"]').attributes('tabindex')).toBe('0')
    expect(document.activeElement).toBe(w.get('[data-testid="x-tooth-47"]').element)
  })

  it('baby teeth on demand', async () => {
    const w = mountChart()
    await w.get('button.switch').trigger('click')
    expect(w.find('[data-testid="x-tooth-55"]').exists()).toBe(true)
    expect(w.find('[data-testid="x-tooth-18"]').exists()).toBe(false)
  })
})

const budget = (over: Partial<BudgetOut> = {}): BudgetOut => ({
  budget_id: 'B1', number: 'PRES-2026-0001', revision: 1, patient_id: 'P1', status: 'sent', title: null, notes: null, valid_until: '2026-12-31',
  lines: [
    { line_id: 'L1', treatment_id: 'T1', code: 'OBT', description: 'Obturación', tooth: 36, surfaces: ['O'], quantity: '1', unit_price: '45.00', discount: null,
      vat_code: 'EX', vat_rate: '0', classification: 'E1', gross: '45.00', line_discount: '0.00', global_discount: '0.00', base: '45.00', vat: '0.00', total: '45.00',
      accepted: null, invoiced_quantity: '0', invoiced_base: '0.00' },
  ],
  global_discount: null, totals: { gross: '45.00', discount: '0.00', global_discount: '0.00', base: '45.00', vat: '0.00', total: '45.00' },
  partial: false, supersedes: null, superseded_by: null, rejection_reason: null, created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z',
  sent_at: '2026-12-01T10:00:00Z', decided_at: null, acceptance: null, sent_to: 'ana@example.com', emailed_at: '2026-12-01T10:00:00Z',
  history: [{ at: '2026-12-01T10:00:00Z', event: 'sent', actor_type: 'user', actor_name: 'Ana Admin' }], ...over,
})

describe('the budget detail', () => {
  async function mountDetail(permissions: string[], b: BudgetOut = budget()) {
    vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
    const { wrapper } = await mountAt(BudgetDetail, '/x', [{ path: '/x', component: { template: '<div/>' } }], { budget: b })
    useSession().me = { permissions, user: { user_id: 'U1' } } as never
    await flushPromises()
    return wrapper
  }
  it('shows where it was sent, the total and the history; write actions with the permission only', async () => {
    const w = await mountDetail(['billing.budgets.read', 'billing.budgets.write'])
    expect(w.get('[data-testid="budget-sent-to"]').text()).toContain('ana@example.com')
    expect(w.get('[data-testid="budget-total"]').text()).toContain('45,00')
    expect(w.get('[data-testid="budget-history"]').text()).toContain('Enviado')
    expect(w.find('[data-testid="budget-accept"]').exists()).toBe(true)
    expect(w.find('[data-testid="budget-cancel"]').exists()).toBe(true)
    const ro = await mountDetail(['billing.budgets.read'])
    for (const id of ['budget-accept', 'budget-send', 'budget-cancel', 'budget-revise', 'budget-reject', 'budget-edit'])
      expect(ro.find(`[data-testid="${id}"]`).exists()).toBe(false)
    expect(ro.find('[data-testid="budget-pdf"]').exists()).toBe(true)
  })
  it('accepting at the desk needs a line and a signer before anything is sent', async () => {
    const fetch = vi.fn()
    vi.stubGlobal('fetch', fetch)
    const w = await mountDetail(['*'])
    await w.get('[data-testid="budget-accept"]').trigger('click')
    await w.get('#acc-line-0').setValue(false)
    await w.get('[data-testid="budget-accept-form"]').trigger('submit')
    expect(w.text()).toContain('Marca al menos un tratamiento')
    expect(w.text()).toContain('Escribe el nombre de quien firma')
    expect(fetch).not.toHaveBeenCalled()
  })
  it('an accepted budget offers its signed PDF and the invoice link, and marks the lines', async () => {
    const b = budget({
      status: 'accepted', partial: false, lines: budget().lines.map((ln) => ({ ...ln, accepted: true })),
      acceptance: { channel: 'link', signer_name: 'María Pérez', relationship: 'self', accepted_at: '2026-12-02T10:00:00Z', pdf_sha256: 'x', has_signature: true, accepted_line_ids: ['L1'] },
    })
    const w = await mountDetail(['*'], b)
    expect(w.get('[data-testid="budget-accepted-by"]').text()).toContain('María Pérez')
    expect(w.find('[data-testid="budget-accepted-pdf"]').exists()).toBe(true)
    expect(w.get('[data-testid="budget-invoice"]').attributes('href')).toBe('/patients/P1/invoices?from_budget=B1')
  })
})

describe('the clinic-wide budget list', () => {
  it('"New budget" asks for the patient first, then opens the editor for the one picked', async () => {
    vi.stubGlobal('ResizeObserver', class { observe() {} unobserve() {} disconnect() {} }) // the editor's textarea; jsdom has none
    vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
    const calls: string[] = []
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      calls.push(String(url))
      return new Response(JSON.stringify({ data: { items: [], next_cursor: null }, message: null }), { status: 200, headers: { 'Content-Type': 'application/json' } })
    }))
    const { wrapper } = await mountAt(BudgetList, '/x', [{ path: '/x', component: { template: '<div/>' } }])
    useSession().me = { permissions: ['billing.budgets.read', 'billing.budgets.write'], user: { user_id: 'U1' } } as never
    await flushPromises()
    await wrapper.get('[data-testid="budget-new"]').trigger('click')
    await flushPromises()
    expect(wrapper.get('[data-testid="budget-need-patient"]').text()).toContain('Elige primero el paciente')
    expect(document.activeElement?.id).toBe('bud-patient')
    expect(document.querySelector('.p-dialog')).toBeNull() // no editor without a patient
    // A patient picked in the filter: the editor opens for them.
    ;(wrapper.findComponent({ name: 'AutoComplete' }).vm as unknown as { $emit: (e: string, v: unknown) => void }).$emit('update:modelValue', { patient_id: 'P9', full_name: 'Ana Ruiz' })
    await flushPromises()
    expect(wrapper.find('[data-testid="budget-need-patient"]').exists()).toBe(false)
    expect(calls.some((u) => u.includes('patient_id=P9'))).toBe(true) // the list follows the filter
    await wrapper.get('[data-testid="budget-new"]').trigger('click')
    await flushPromises()
    expect(document.querySelector('.p-dialog')?.textContent).toContain('Nuevo presupuesto')
  })
})
