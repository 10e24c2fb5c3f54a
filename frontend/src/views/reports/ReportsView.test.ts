import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { h } from 'vue'
import ReportsView from './ReportsView.vue'
import TodayFiguresCard from './TodayFiguresCard.vue'
import { mountAt } from '@/test/setup'
import { useSession } from '@/stores/session'
import type { Figures, Pending, ReportItem, Summary } from '@/api/reports'

// A canvas is not drawn in jsdom: the chart is a stub that keeps its accessible name.
vi.mock('primevue/chart', () => ({
  default: { name: 'Chart', props: ['type', 'data', 'options', 'canvasProps'], setup: (p: { canvasProps: object; type: string }) => () => h('canvas', { ...p.canvasProps, 'data-type': p.type }) },
}))

const figures = (over: Partial<Figures> = {}): Figures => ({
  production: '1000.00', treatments_completed: 8, invoiced: '900.00', invoices_issued: 6,
  collected: '750.00', refunded: '50.00', collected_by_method: { card: '500.00', cash: '250.00', transfer: '0.00' },
  appointments: 20, attended: 18, no_shows: 2, cancellations: 3, late_cancellations: 1, show_rate: 0.9,
  open_minutes: 6000, booked_minutes: 4500, attended_minutes: 4000, utilisation: 0.75, new_patients: 4,
  budgets_presented: 5, budgets_presented_value: '3000.00', budgets_accepted: 2, budgets_accepted_value: '1200.00', ...over,
})
const summary = (from: string, to: string, totals: Figures): Summary => ({
  from, to, currency: 'EUR', time_zone: 'Europe/Madrid', granularity: 'day', totals,
  series: [{ period: from, ...totals }],
  professionals: [{ professional_id: 'U2', name: 'Dra. Marta López', production: '1000.00', treatments_completed: 8, appointments: 20, attended: 18, no_shows: 2, booked_minutes: 4500, attended_minutes: 4000 }],
  cabinets: [{ cabinet_id: 'C1', name: 'Gabinete 1', open_minutes: 6000, booked_minutes: 4500, attended_minutes: 4000, utilisation: 0.75 }],
})
const pending: Pending = {
  as_of: '2026-12-04', currency: 'EUR',
  balances: { outstanding: '420.00', invoices: 3, ages: [{ bucket: '0_30', amount: '120.00', count: 1 }, { bucket: 'over_90', amount: '300.00', count: 2 }] },
  budgets: { pending: 2, pending_value: '2500.00', ages: [{ bucket: '31_60', amount: '2500.00', count: 2 }] },
}
const payment = (id: string, amount: string): ReportItem => ({
  date: '2026-12-03', kind: 'payment', id, patient_id: 'P1', patient_name: 'Lucía Gómez', label: 'F2026-0012', amount, method: 'card',
  minutes: null, professional_id: null, cabinet_id: null, age_days: null,
})
const json = (data: unknown, status = 200) => new Response(JSON.stringify(status < 300 ? { data, message: null } : { data: null, message: data, code: 'BAD' }), { status, headers: { 'Content-Type': 'application/json' } })

let calls: URL[] = []
function stubApi(opts: { lastYear?: Figures; itemsFail?: boolean } = {}) {
  calls = []
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string) => {
      const url = new URL(input, 'http://x')
      calls.push(url)
      const path = url.pathname.replace('/api/v1', '')
      const q = url.searchParams
      if (path === '/reports/summary') {
        const old = (q.get('from') ?? '') < '2026-01-01'
        return json(summary(q.get('from')!, q.get('to')!, old ? (opts.lastYear ?? figures({ collected: '500.00', no_shows: 1, show_rate: 0.85 })) : figures()))
      }
      if (path === '/reports/pending') return json(pending)
      if (path === '/reports/items') {
        if (opts.itemsFail) return json('Fecha no válida', 400)
        return q.get('cursor') ? json({ items: [payment('PAY2', '20.00')], next_cursor: null }) : json({ items: [payment('PAY1', '45.50')], next_cursor: 'c1' })
      }
      return json(null, 404)
    }),
  )
}

const routes = [
  { path: '/reports/:report?', name: 'reports', component: ReportsView },
  { path: '/patients/:id/:tab?', name: 'patient', component: { render: () => h('div') } },
  { path: '/agenda', name: 'agenda', component: { render: () => h('div') } },
]
async function open(path: string, permissions: string[]) {
  const { wrapper, router } = await mountAt(ReportsView, path, routes)
  const session = useSession()
  session.me = { permissions, user: { user_id: 'U1' }, clinic: { time_zone: 'Europe/Madrid', currency: 'EUR' } } as never
  await flushPromises()
  return { wrapper, router }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(new Date('2026-12-04T10:00:00Z'))
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('the reports dashboard', () => {
  it('shows this month against the same days last year, with the change in words', async () => {
    stubApi()
    const { wrapper: w } = await open('/reports', ['reports.read'])
    const summaries = calls.filter((u) => u.pathname.endsWith('/reports/summary')).map((u) => `${u.searchParams.get('from')}..${u.searchParams.get('to')}`)
    expect(summaries).toEqual(expect.arrayContaining(['2026-12-01..2026-12-04', '2025-12-01..2025-12-04']))
    const collected = w.get('[data-testid="figure-collected"]')
    expect(collected.get('[data-testid="figure-collected-value"]').text().replace(/\s/g, ' ')).toContain('750,00 €')
    expect(collected.get('[data-testid="figure-collected-change"]').text().replace(/\s/g, ' ')).toBe('+50 %')
    expect(collected.text().replace(/\s/g, ' ')).toContain('50 % más que el mismo periodo del año pasado')
    expect(collected.text().replace(/\s/g, ' ')).toContain('Hace un año: 500,00 €')
    // The split by method leaves out the methods with nothing.
    expect(collected.findAll('[data-method]').map((x) => x.attributes('data-method'))).toEqual(['card', 'cash'])
    // More no-shows is bad news; the show rate moved in points.
    expect(w.get('[data-testid="figure-show-rate-change"]').text()).toBe('+5 p. p.')
    expect(w.get('[data-testid="figure-show-rate-change"]').classes()).toContain('good')
    // The state figures, by age, with every bucket.
    expect(w.get('[data-testid="figure-outstanding-value"]').text().replace(/\s/g, ' ')).toContain('420,00 €')
    expect(w.findAll('[data-testid="figure-outstanding-ages"] li')).toHaveLength(4)
    expect(w.get('[data-testid="reports-professionals"]').text()).toContain('Dra. Marta López')
    expect(w.get('[data-testid="reports-cabinets"] tbody tr').findAll('td').map((c) => c.text().replace(/\s/g, ' '))).toEqual(['100', '75', '66,7', '75 %'])
  })

  it('each figure opens its list for the same period', async () => {
    stubApi()
    const { wrapper: w } = await open('/reports?period=year', ['reports.read'])
    const href = w.get('[data-testid="figure-collected-value"]').attributes('href')!
    const u = new URL(href, 'http://x')
    expect(u.pathname).toBe('/reports/items')
    expect(Object.fromEntries(u.searchParams)).toEqual({ figure: 'collected', from: '2026-01-01', to: '2026-12-04', period: 'year' })
    expect(w.get('[data-testid="figure-no-shows"]').attributes('href')).toContain('figure=no_shows')
  })

  it('switching the period changes the URL and reloads; a bad custom range is refused with a reason', async () => {
    stubApi()
    const { wrapper: w, router } = await open('/reports', ['reports.read'])
    await w.get('[data-testid="reports-period-week"]').trigger('change')
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ period: 'week' })
    expect(calls.some((u) => u.searchParams.get('from') === '2026-11-30')).toBe(true)
    await w.get('[data-testid="reports-period-custom"]').trigger('change')
    await w.get('[data-testid="reports-from"]').setValue('2026-03-10')
    await w.get('[data-testid="reports-to"]').setValue('2026-03-01')
    await w.get('[data-testid="reports-custom"]').trigger('submit')
    expect(w.get('#rep-range-error').text()).toContain('no puede ser posterior')
    expect(router.currentRoute.value.query).toEqual({ period: 'week' })
    await w.get('[data-testid="reports-from"]').setValue('2026-02-01')
    await w.get('[data-testid="reports-custom"]').trigger('submit')
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ from: '2026-02-01', to: '2026-03-01' })
    expect(calls.some((u) => u.searchParams.get('from') === '2025-02-01' && u.searchParams.get('to') === '2025-03-01')).toBe(true)
  })

  it('every chart has a name and a table alternative behind a keyboard toggle', async () => {
    stubApi()
    const { wrapper: w } = await open('/reports', ['reports.read'])
    for (const id of ['chart-series', 'chart-methods', 'chart-cabinets']) {
      const panel = w.get(`[data-testid="${id}"]`)
      expect(panel.get('canvas').attributes('role')).toBe('img')
      expect(panel.get('canvas').attributes('aria-label')).toMatch(/Gráfico/)
      const toggle = panel.get(`[data-testid="${id}-toggle"]`)
      expect(toggle.element.tagName).toBe('BUTTON')
      expect(toggle.attributes('aria-expanded')).toBe('false')
      expect(panel.get(`[data-testid="${id}-table"]`).isVisible()).toBe(false)
      await toggle.trigger('click')
      expect(toggle.attributes('aria-expanded')).toBe('true')
      expect(panel.get(`[data-testid="${id}-table"]`).isVisible()).toBe(true)
    }
    expect(w.get('[data-testid="chart-methods-table"]').text().replace(/\s/g, ' ')).toContain('Tarjeta500,00 €')
  })

  it('the CSV buttons show only with reports.export', async () => {
    stubApi()
    const { wrapper: w } = await open('/reports', ['reports.read'])
    expect(w.find('[data-testid="reports-export"]').exists()).toBe(false)
    w.unmount()
    stubApi()
    const { wrapper: w2 } = await open('/reports', ['reports.read', 'reports.export'])
    expect(w2.find('[data-testid="reports-export"]').exists()).toBe(true)
  })
})

describe('the list behind a figure', () => {
  it('pages with load more, links the patient and the invoice, and has its CSV with reports.export', async () => {
    stubApi()
    const { wrapper: w } = await open('/reports/items?figure=collected&from=2026-12-01&to=2026-12-04&period=month', ['reports.read', 'reports.export', 'patients.read', 'billing.invoices.read'])
    const first = calls.find((u) => u.pathname.endsWith('/reports/items'))!
    expect(Object.fromEntries(first.searchParams)).toMatchObject({ figure: 'collected', from: '2026-12-01', to: '2026-12-04' })
    expect(w.get('[data-testid="reports-items-title"]').text()).toBe('Cobrado')
    let rows = w.findAll('[data-testid="reports-item"]')
    expect(rows).toHaveLength(1)
    expect(rows[0]!.text()).toContain('Tarjeta')
    expect(rows[0]!.text().replace(/\s/g, ' ')).toContain('45,50 €')
    const links = rows[0]!.findAll('a').map((a) => a.attributes('href'))
    expect(links).toEqual(['/patients/P1', '/patients/P1/invoices'])
    await w.get('[data-testid="reports-items-more"]').trigger('click')
    await flushPromises()
    rows = w.findAll('[data-testid="reports-item"]')
    expect(rows.map((r) => r.attributes('data-id'))).toEqual(['PAY1', 'PAY2'])
    expect(calls.filter((u) => u.pathname.endsWith('/reports/items')).at(-1)!.searchParams.get('cursor')).toBe('c1')
    expect(w.find('[data-testid="reports-items-more"]').exists()).toBe(false)
    expect(w.find('[data-testid="reports-items-export"]').exists()).toBe(true)
    expect(w.get('[data-testid="reports-back"]').attributes('href')).toBe('/reports?period=month')
  })

  it('without the billing or patient permissions the rows are plain text, and no CSV', async () => {
    stubApi()
    const { wrapper: w } = await open('/reports/items?figure=collected&from=2026-12-01&to=2026-12-04', ['reports.read'])
    expect(w.get('[data-testid="reports-item"]').findAll('a')).toHaveLength(0)
    expect(w.find('[data-testid="reports-items-export"]').exists()).toBe(false)
    expect(w.get('[data-testid="reports-back"]').attributes('href')).toBe('/reports?from=2026-12-01&to=2026-12-04')
  })

  it("says so when the API refuses, and an unknown figure is not asked for", async () => {
    stubApi({ itemsFail: true })
    const { wrapper: w } = await open('/reports/items?figure=collected&from=2026-12-01&to=2026-12-04', ['reports.read'])
    expect(w.get('[role="alert"]').text()).toContain('Fecha no válida')
    w.unmount()
    stubApi()
    const { wrapper: w2 } = await open('/reports/items?figure=everything', ['reports.read'])
    expect(w2.text()).toContain('Esa lista no existe')
    expect(calls.some((u) => u.pathname.endsWith('/reports/items'))).toBe(false)
  })
})

describe("the home dashboard's figures of today", () => {
  it("asks for the clinic's today and links to the reports of today", async () => {
    stubApi()
    const { wrapper: w } = await mountAt(TodayFiguresCard, '/', [{ path: '/reports/:report?', name: 'reports', component: { render: () => h('div') } }])
    await flushPromises()
    const u = calls.find((x) => x.pathname.endsWith('/reports/summary'))!
    expect([u.searchParams.get('from'), u.searchParams.get('to')]).toEqual(['2026-12-04', '2026-12-04'])
    expect(w.get('[data-testid="dashboard-figure-collected"]').text().replace(/\s/g, ' ')).toBe('750,00 €')
    expect(w.get('[data-testid="dashboard-figure-showRate"]').text().replace(/\s/g, ' ')).toBe('90 %')
    expect(w.get('a').attributes('href')).toBe('/reports?period=today')
  })
})
