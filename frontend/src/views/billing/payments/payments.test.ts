import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import PrimeVue from 'primevue/config'
import ToastService from 'primevue/toastservice'
import { i18n } from '@/i18n'
import { useSession } from '@/stores/session'
import type { MeOut } from '@/api/types'
import InvoicePayments from './InvoicePayments.vue'
import PatientBalance from '@/views/patients/PatientBalance.vue'

const ok = (data: unknown, status = 200) => new Response(JSON.stringify({ data, message: null }), { status, headers: { 'Content-Type': 'application/json' } })
const fail = (status: number, message: string, code: string) => new Response(JSON.stringify({ data: null, message, code, errors: [] }), { status, headers: { 'Content-Type': 'application/json' } })

const invoice = { invoice_id: 'I1', patient_id: 'P1', status: 'partially_paid', num_serie: 'F-2026-000001', issue_date: '2026-11-02', total: '100.00', due: '100.00', paid: '40.00', outstanding: '60.00', cancelled: false }
const payment = { payment_id: 'PAY1', invoice_id: 'I1', patient_id: 'P1', kind: 'payment', method: 'card', amount: '40.00', reference: 'TPV 1', note: null, paid_at: '2026-12-03T09:30:00Z', created_at: '2026-12-03T09:30:00Z', refund_of: null }
const balance = {
  patient_id: 'P1', invoiced: '150.00', paid: '40.00', outstanding: '110.00',
  open_invoices: [
    { invoice_id: 'I2', num_serie: 'F-2026-000002', issue_date: '2026-11-20', total: '50.00', outstanding: '50.00' },
    { invoice_id: 'I1', num_serie: 'F-2026-000001', issue_date: '2026-11-02', total: '100.00', outstanding: '60.00' },
  ],
}

function server(over: (url: string, init: RequestInit) => Response | undefined = () => undefined) {
  const posts: { url: string; body: unknown }[] = []
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {} }))
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      const o = over(url, init)
      if (o) return o
      const path = url.split('?')[0]!
      if (init.method === 'POST') {
        posts.push({ url: path, body: JSON.parse(String(init.body ?? 'null')) })
        return ok({ payment: { ...payment, payment_id: `N${posts.length}` }, invoice }, 201)
      }
      if (path.endsWith('/billing/invoices/I1/payments')) return ok([payment])
      if (path.endsWith('/balance')) return ok(balance)
      throw new Error(`unexpected ${url}`)
    }),
  )
  return posts
}

async function mountWith(component: unknown, props: Record<string, unknown>, permissions: string[]) {
  const pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = 'es'
  useSession().me = { permissions, role: 'receptionist', user: { user_id: 'u', email: 'a@b.c', name: 'A', language: 'es' }, clinic: { time_zone: 'Europe/Madrid' }, clinics: [], plan: 'pro', session_id: 's' } as unknown as MeOut
  const wrapper = mount(component as never, { props, global: { plugins: [pinia, i18n, [PrimeVue, { theme: 'none' }], ToastService] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const body = () => document.body

describe('an invoice’s payments', () => {
  it('lists them and offers take, refund and receipt to who takes payments', async () => {
    server()
    const w = await mountWith(InvoicePayments, { invoice }, ['billing.invoices.read', 'billing.payments.write'])
    expect(w.get('[data-testid="ip-outstanding"]').text().replace(/\s/g, ' ')).toContain('60,00 €')
    const rows = w.findAll('[data-testid="ip-row"]')
    expect(rows).toHaveLength(1)
    expect(rows[0]!.text()).toContain('Tarjeta')
    expect(w.find('[data-testid="ip-take"]').exists()).toBe(true)
    expect(w.find('[data-testid="ip-refund"]').exists()).toBe(true)
    expect(w.find('[data-testid="ip-receipt"]').exists()).toBe(true)
  })

  it('shows no payment actions without billing.payments.write (the receipt stays)', async () => {
    server()
    const w = await mountWith(InvoicePayments, { invoice }, ['billing.invoices.read'])
    expect(w.find('[data-testid="ip-take"]').exists()).toBe(false)
    expect(w.find('[data-testid="ip-refund"]').exists()).toBe(false)
    expect(w.find('[data-testid="ip-receipt"]').exists()).toBe(true)
  })

  it('refunds part of a payment with its reason, and refuses more than is left', async () => {
    const posts = server()
    const w = await mountWith(InvoicePayments, { invoice }, ['billing.invoices.read', 'billing.payments.write'])
    await w.get('[data-testid="ip-refund"]').trigger('click')
    await flushPromises()
    const amount = body().querySelector<HTMLInputElement>('#rf-amount')!
    expect(amount.value).toBe('40,00')
    amount.value = '40,01'
    amount.dispatchEvent(new Event('input'))
    body().querySelector<HTMLFormElement>('[data-testid="refund-form"]')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(body().textContent).toContain('La devolución supera lo que queda de este cobro')
    expect(body().textContent).toContain('Escribe el motivo')
    expect(posts).toHaveLength(0)
    amount.value = '15'
    amount.dispatchEvent(new Event('input'))
    const reason = body().querySelector<HTMLInputElement>('#rf-reason')!
    reason.value = 'Cobro duplicado'
    reason.dispatchEvent(new Event('input'))
    body().querySelector<HTMLFormElement>('[data-testid="refund-form"]')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(posts).toEqual([{ url: '/api/v1/billing/invoices/I1/refunds', body: { amount: '15.00', method: 'card', payment_id: 'PAY1', note: 'Cobro duplicado' } }])
    expect(w.emitted('changed')).toHaveLength(1)
  })
})

describe("the patient's balance", () => {
  it('shows what is owed and takes a payment over the oldest invoices first', async () => {
    const posts = server()
    const w = await mountWith(PatientBalance, { patientId: 'P1' }, ['billing.invoices.read', 'billing.payments.write'])
    expect(w.get('[data-testid="balance-outstanding"]').text().replace(/\s/g, ' ')).toBe('110,00 €')
    expect(w.text()).toContain('2 facturas pendientes')
    await w.get('[data-testid="balance-take"]').trigger('click')
    await flushPromises()
    // the oldest invoice is ticked, and the amount is what it owes
    const boxes = [...body().querySelectorAll<HTMLInputElement>('[data-testid="tp-invoice"] input')]
    expect(boxes.map((b) => b.checked)).toEqual([true, false])
    const amount = body().querySelector<HTMLInputElement>('#tp-amount')!
    expect(amount.value).toBe('60,00')
    // both ticked: up to 110; 110,01 is refused with the figure, nothing sent
    boxes[1]!.click()
    await flushPromises()
    expect(amount.value).toBe('110,00')
    amount.value = '110,01'
    amount.dispatchEvent(new Event('input'))
    await flushPromises()
    expect(body().textContent?.replace(/\s/g, ' ')).toContain('supera lo pendiente de las facturas elegidas (110,00 €)')
    amount.value = '80'
    amount.dispatchEvent(new Event('input'))
    body().querySelector<HTMLInputElement>('[data-testid="tp-method-transfer"] input')!.click()
    body().querySelector<HTMLFormElement>('[data-testid="take-payment-form"]')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(posts.map((p) => [p.url, (p.body as { amount: string }).amount, (p.body as { method: string }).method])).toEqual([
      ['/api/v1/billing/invoices/I1/payments', '60.00', 'transfer'],
      ['/api/v1/billing/invoices/I2/payments', '20.00', 'transfer'],
    ])
  })

  it('says what failed when the API refuses', async () => {
    server((url, init) => (init.method === 'POST' ? fail(400, 'El importe 60,00 € supera lo pendiente de cobro (50,00 €) de la factura F-2026-000001.', 'AMOUNT_ABOVE_OUTSTANDING') : undefined))
    const w = await mountWith(PatientBalance, { patientId: 'P1' }, ['billing.invoices.read', 'billing.payments.write'])
    await w.get('[data-testid="balance-take"]').trigger('click')
    await flushPromises()
    body().querySelector<HTMLFormElement>('[data-testid="take-payment-form"]')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(body().querySelector('[data-testid="take-payment-error"]')!.textContent).toContain('supera lo pendiente de cobro')
  })

  it('has no Take payment without billing.payments.write', async () => {
    server()
    const w = await mountWith(PatientBalance, { patientId: 'P1' }, ['billing.invoices.read'])
    expect(w.get('[data-testid="balance-outstanding"]').exists()).toBe(true)
    expect(w.find('[data-testid="balance-take"]').exists()).toBe(false)
  })
})
