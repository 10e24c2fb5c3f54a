import { test, expect, type Page } from './test'
import type { Response } from '@playwright/test'
import { apiGet, apiStatus, base, expectAccessible, setLanguage, shot, signIn, signOut } from './helpers'

// Payments (issue 13): on a patient with an issued invoice, take a partial payment from the
// record's balance by keyboard alone, see the balance drop, open the receipt PDF, refund part
// of the payment from the day's takings and see the totals by method move; a role without
// billing.payments.write sees the balance but no payment action. axe-core at desktop and phone
// width, in Spanish and English; screenshots of each screen.
const stamp = Date.now().toString(36).slice(-5)
const LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE'

/** A patient (with a DNI and an email) and an issued invoice of `price` €, through the API as
 *  the admin (its own sign-in: the page may be signed in as someone else). */
async function patientWithInvoice(page: Page, last: string, price = '120.00'): Promise<{ pid: string; num: string }> {
  const n = 10_000_000 + Math.floor(Math.random() * 89_999_999)
  return page.evaluate(
    async ({ last, price, dni }) => {
      const call = async (path: string, body: unknown, token?: string) => {
        const res = await fetch(`/api/v1${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
        const out = await res.json()
        if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(out)}`)
        return out.data
      }
      const { access_token: tok } = await call('/auth/login', { email: 'admin@demo.clinic', password: 'cuspide-demo' })
      const p = await call('/patients', { first_name: 'Nuria', last_name: last, date_of_birth: '1979-05-14', gender: 'female', email: `nuria.${last.toLowerCase()}@example.com`, national_id: { type: 'dni', number: dni } }, tok)
      const draft = await call('/billing/invoices', { patient_id: p.patient_id, lines: [{ description: 'Limpieza y revisión', unit_price: price, vat_code: 'EXENTO_SANITARIO' }] }, tok)
      const inv = await call(`/billing/invoices/${draft.invoice_id}/issue`, undefined, tok)
      return { pid: p.patient_id as string, num: inv.num_serie as string }
    },
    { last, price, dni: `${n}${LETTERS[n % 23]}` },
  )
}

/** The day's net by method, as the API says (the demo seed may have taken money today too). */
async function netByMethod(page: Page): Promise<Record<string, number>> {
  const out = await apiGet<{ methods: { method: string; net: string }[] }>(page, '/billing/takings')
  return Object.fromEntries(out.methods.map((m) => [m.method, Math.round(Number(m.net) * 100)]))
}

/** The receipt the dialog shows: the API answered a PDF (read again here, with the page's
 *  token), and the frame shows it from memory. */
async function expectReceiptPdf(page: Page, answer: Promise<Response>) {
  const res = await answer
  expect(res.status()).toBe(200)
  expect(res.headers()['content-type']).toBe('application/pdf')
  const token = await page.evaluate(() => (JSON.parse(localStorage.getItem('cuspide.session') ?? 'null') as { accessToken: string }).accessToken)
  const again = await page.request.get(res.url(), { headers: { Authorization: `Bearer ${token}`, Accept: 'application/pdf' } })
  expect(again.status()).toBe(200)
  expect((await again.body()).subarray(0, 5).toString()).toBe('%PDF-')
  const frame = page.getByTestId('receipt-pdf')
  await expect(frame).toBeVisible()
  expect(await frame.getAttribute('src')).toMatch(/^blob:/)
}

// The stack shares two cores with other runs: money screens wait generously on the API.
const SLOW = { timeout: 90_000 }

test.describe('payments, balance and the day’s takings', () => {
  test.describe.configure({ timeout: 600_000 })
  test('desktop: a partial payment by keyboard, the balance drops, the receipt, a partial refund, the takings by method (es, then en)', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    const last = `Cobros${stamp}`
    const { pid, num } = await patientWithInvoice(page, last)
    await page.goto(`${base()}/patients/${pid}`)
    const owed = page.getByTestId('balance-outstanding')
    await expect(owed).toHaveText(/120,00/, SLOW)
    await expect(page.getByTestId('PatientBalance')).toContainText('1 factura pendiente')
    await expectAccessible(page, 'patient record: balance')
    await shot(page, 'payments-balance-desktop-es')

    // Keyboard only: open, type an amount above what is owed (refused, with the figure), then 45,50 by card.
    await page.getByTestId('balance-take').focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByTestId('take-payment-dialog')
    await expect(dialog).toBeVisible()
    const amount = page.locator('#tp-amount')
    await expect(amount).toBeFocused(SLOW)
    await expect(amount).toHaveValue('120,00')
    await expect(dialog.getByTestId('tp-invoice')).toContainText(num)
    await expect(dialog.getByTestId('tp-invoice').locator('input')).toBeChecked()
    await page.keyboard.press('Control+A')
    await page.keyboard.type('130')
    await expect(dialog).toContainText('El importe supera lo pendiente de las facturas elegidas (120,00 €)')
    await expectAccessible(page, 'take payment: amount above what is owed')
    await page.keyboard.press('Control+A')
    await page.keyboard.type('45,50')
    await expect(dialog.locator('.field-error')).toHaveCount(0)
    await page.keyboard.press('Tab') // the method: cash is chosen
    await expect(page.locator('input[name="tp-method"][value="cash"]')).toBeFocused()
    await page.keyboard.press('ArrowRight') // card
    await expect(page.locator('input[name="tp-method"][value="card"]')).toBeChecked()
    await page.keyboard.press('Tab')
    await expect(page.locator('#tp-ref')).toBeFocused()
    await page.keyboard.type('TPV 0042')
    await shot(page, 'payments-take-dialog-desktop-es')
    await page.keyboard.press('Enter')
    await expect(dialog).toBeHidden(SLOW)
    await expect(owed).toHaveText(/74,50/, SLOW)

    // The receipt of what was just taken, inside the record.
    await page.getByTestId('balance-receipt').focus()
    const answer = page.waitForResponse((r) => r.url().includes('/receipt/pdf'))
    await page.keyboard.press('Enter')
    const receipt = page.getByTestId('receipt-dialog')
    await expect(receipt).toBeVisible()
    await expectReceiptPdf(page, answer)
    await expect(receipt.getByTestId('receipt-email')).toBeVisible()
    await expectAccessible(page, 'receipt dialog')
    await shot(page, 'payments-receipt-desktop-es')
    await receipt.getByTestId('receipt-email').click()
    await expect(page.getByText(`Recibo enviado a nuria.${last.toLowerCase()}@example.com`)).toBeVisible()
    await page.keyboard.press('Escape')
    await expect(receipt).toBeHidden()

    // The day's takings: our payment, by card; refund 10 € of it with a reason.
    const before = await netByMethod(page)
    await page.goto(`${base()}/billing/takings`)
    const row = page.getByTestId('takings-item').filter({ hasText: last })
    await expect(row).toHaveCount(1, SLOW)
    await expect(row).toContainText(num)
    await expect(row).toContainText('Tarjeta')
    await expect(row).toContainText('45,50')
    await row.getByTestId('takings-refund').focus()
    await page.keyboard.press('Enter')
    const refund = page.getByTestId('refund-dialog')
    await expect(refund).toBeVisible()
    await expect(page.locator('#rf-amount')).toHaveValue('45,50')
    await page.locator('#rf-amount').fill('50')
    await page.locator('#rf-reason').fill('Cobrado de más')
    await page.keyboard.press('Enter')
    await expect(refund).toContainText('La devolución supera lo que queda de este cobro (45,50 €)')
    await page.locator('#rf-amount').fill('10')
    await page.locator('#rf-reason').press('Enter')
    await expect(refund).toBeHidden(SLOW)
    const refundRow = page.getByTestId('takings-item').filter({ hasText: last }).and(page.locator('[data-kind="refund"]'))
    await expect(refundRow).toContainText('−10,00')
    const after = await netByMethod(page)
    expect(after.card).toBe(before.card! - 1000)
    const cardNet = page.locator('[data-testid="takings-method"][data-method="card"] [data-testid="takings-method-net"]')
    await expect.poll(async () => (await cardNet.textContent())?.replace(/\D/g, '')).toBe(String(after.card))
    await expectAccessible(page, 'takings of the day')
    await shot(page, 'payments-takings-desktop-es')

    // The balance on the record saw the refund too.
    await page.goto(`${base()}/patients/${pid}`)
    await expect(owed).toHaveText(/84,50/, SLOW)

    await setLanguage(page, 'en')
    await expect(page.getByTestId('PatientBalance')).toContainText('Outstanding')
    await expectAccessible(page, 'patient record: balance (en)')
    await shot(page, 'payments-balance-desktop-en')
    await page.goto(`${base()}/billing/takings`)
    await expect(page.getByTestId('takings-methods')).toContainText('Bank transfer')
    await expectAccessible(page, 'takings of the day (en)')
    await shot(page, 'payments-takings-desktop-en')
    await page.getByTestId('takings-prev').click()
    await expect(page.getByTestId('takings-item').filter({ hasText: last })).toHaveCount(0)
    await setLanguage(page, 'es')
  })

  test('phone: the balance, the payment dialog and the takings fit and pass axe (en and es)', async ({ page }) => {
    await page.setViewportSize({ width: 375, height: 812 })
    await signIn(page, 'admin@demo.clinic')
    const { pid } = await patientWithInvoice(page, `Movil${stamp}`, '80.00')
    for (const lang of ['en', 'es'] as const) {
      await setLanguage(page, lang)
      await page.goto(`${base()}/patients/${pid}`)
      await expect(page.getByTestId('balance-outstanding')).toHaveText(/80[.,]00/, SLOW)
      // The balance stays inside the record's side panel (the panel's own width is the record's).
      const box = (await page.getByTestId('PatientBalance').boundingBox())!
      const panel = (await page.locator('aside.facts').boundingBox())!
      expect(box.x + box.width, 'the balance fits the side panel').toBeLessThanOrEqual(panel.x + panel.width + 0.5)
      await expectAccessible(page, `patient record: balance, phone (${lang})`)
      await shot(page, `payments-balance-phone-${lang}`)
      await page.getByTestId('balance-take').click()
      await expect(page.getByTestId('take-payment-dialog')).toBeVisible()
      await expectAccessible(page, `take payment dialog, phone (${lang})`)
      await shot(page, `payments-take-dialog-phone-${lang}`)
      await page.keyboard.press('Escape')
      await page.goto(`${base()}/billing/takings`)
      await expect(page.getByTestId('takings-methods')).toBeVisible()
      const [scroll, client] = await page.getByTestId('takings').evaluate((el) => [el.scrollWidth, el.clientWidth])
      expect(scroll, 'the takings scroll sideways on a phone').toBeLessThanOrEqual(client)
      await expectAccessible(page, `takings, phone (${lang})`)
      await shot(page, `payments-takings-phone-${lang}`)
    }
    await setLanguage(page, 'es')
  })

  test('a dentist (no billing.payments.write) sees the balance but no payment action', async ({ page }) => {
    await signIn(page, 'dentist@demo.clinic')
    const { pid } = await patientWithInvoice(page, `Sinpermiso${stamp}`, '60.00')
    await page.goto(`${base()}/patients/${pid}`)
    await expect(page.getByTestId('balance-outstanding')).toHaveText(/60,00/, SLOW)
    await expect(page.getByTestId('balance-take')).toHaveCount(0)
    await expectAccessible(page, 'patient record: balance, no payments permission')
    await shot(page, 'payments-balance-no-permission')
    await page.goto(`${base()}/billing/takings`)
    await expect(page.getByTestId('billing-tab-takings')).toHaveCount(0)
    await expect(page.getByTestId('takings')).toHaveCount(0)
    // and the server refuses too
    expect(await apiStatus(page, 'GET', '/billing/takings')).toBe(403)
    await signOut(page)
  })
})
