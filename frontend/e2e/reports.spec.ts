// The owner's dashboard (issue 18) against the real local stack, whose queue pump feeds the
// reports consumer: the admin sees this month's collected figure (the demo seed records
// payments today), switches to this year, opens the list behind it and finds a payment,
// downloads its CSV (header and a row), records a payment and sees the figure grow; the home
// dashboard shows today's figures. At phone width in English the page passes axe and a chart's
// table alternative is reached and opened by keyboard. A receptionist has no Reports item, no
// figures on the home page, and /reports sends them home (the app's forbidden state).
import { readFile } from 'node:fs/promises'
import { test, expect, type Page } from './test'
import { apiCall, base, expectAccessible, setLanguage, shot, signIn } from './helpers'

const stamp = Date.now().toString(36).slice(-5)

/** "1.234,56 €" (es) / "€1,234.56" (en) as cents. */
function cents(text: string, lang: 'es' | 'en'): number {
  const m = (lang === 'es' ? /(-?[\d.]+,\d{2})\s*€/ : /€\s*(-?[\d,]+\.\d{2})/).exec(text.replace(/\u00a0/g, ' '))
  if (!m) return NaN
  const plain = lang === 'es' ? m[1]!.replace(/\./g, '').replace(',', '.') : m[1]!.replace(/,/g, '')
  return Math.round(Number(plain) * 100)
}

/** The collected figure on screen, reloading until `ok` holds: the consumer counts events a
 *  moment after they happen (on a fresh stack, after the seed's whole backlog), so wait on
 *  what the page shows, never on a fixed sleep. */
async function collectedWhen(page: Page, ok: (c: number) => boolean, lang: 'es' | 'en' = 'es'): Promise<number> {
  const value = page.getByTestId('figure-collected-value')
  let seen = NaN
  const started = Date.now()
  await expect(async () => {
    await page.reload()
    await expect(value).toBeVisible()
    seen = cents((await value.textContent()) ?? '', lang)
    expect(ok(seen), `collected on screen: ${seen} cents`).toBe(true)
  }).toPass({ timeout: 300_000, intervals: [2_000, 5_000] })
  console.log(`[reports] collected ${seen} cents on screen after ${Math.round((Date.now() - started) / 1000)} s`)
  return seen
}

test('the admin reads the figures, opens the list behind one, exports it and sees a new payment counted', async ({ page }) => {
  test.setTimeout(720_000)
  await signIn(page, 'admin@demo.clinic')
  await setLanguage(page, 'es')

  // ---- this month (the default), its collected figure counted from the seed's payments ----
  await page.goto(`${base()}/reports`)
  await expect(page.getByRole('radio', { name: 'Este mes' })).toBeChecked()
  const month = await collectedWhen(page, (c) => c > 0)
  await expect(page.getByTestId('figure-collected-methods').locator('li').first()).toBeVisible()
  await expect(page.getByTestId('figure-collected-change')).toBeVisible()
  await expect(page.getByTestId('chart-series').getByRole('img')).toHaveAttribute('aria-label', /Gráfico/)
  await expectAccessible(page, 'informes, este mes')
  await shot(page, 'reports-month-es-desktop')

  // ---- this year: the URL says so, and the year holds at least the month ----
  await page.getByRole('radio', { name: 'Este año' }).check()
  await expect(page).toHaveURL(/\/reports\?period=year$/)
  await expect(page.getByTestId('reports-range')).toContainText(`1 ene`)
  const year = await collectedWhen(page, (c) => c >= month)

  // ---- the list behind it: payments, with the patient and the invoice linked ----
  await page.getByTestId('figure-collected-value').click()
  await expect(page).toHaveURL(/\/reports\/items\?figure=collected&from=\d{4}-01-01&to=\d{4}-\d{2}-\d{2}&period=year$/)
  await expect(page.getByTestId('reports-items-title')).toHaveText('Cobrado')
  const payment = page.locator('[data-testid="reports-item"][data-kind="payment"]').first()
  await expect(payment).toBeVisible()
  await expect(payment.getByRole('link').first()).toHaveAttribute('href', /^\/patients\/[0-9A-Z]{26}$/)
  await expect(payment.getByRole('link').nth(1)).toHaveAttribute('href', /^\/patients\/[0-9A-Z]{26}\/invoices$/)
  const paymentId = await payment.getAttribute('data-id')
  await expectAccessible(page, 'informes, lista de cobros')
  await shot(page, 'reports-items-es-desktop')

  // ---- its CSV: UTF-8 with a BOM, the header, and that payment's row ----
  const download = page.waitForEvent('download')
  await page.getByTestId('reports-items-export').click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(/\.csv$/)
  const bytes = await readFile((await file.path())!)
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
  const lines = bytes.toString('utf-8').slice(1).split(/\r?\n/)
  expect(lines[0]).toBe('date,kind,id,patient_id,patient_name,label,amount,method,minutes,professional_id,cabinet_id,age_days')
  expect(lines.find((l) => l.includes(`,payment,${paymentId},`)), `a row for ${paymentId}`).toBeTruthy()

  // Back returns to this year.
  await page.getByTestId('reports-back').click()
  await expect(page).toHaveURL(/\/reports\?period=year$/)

  // ---- a new payment is counted: an issued invoice for a new patient, paid in cash ----
  const pid = (await apiCall<{ patient_id: string }>(page, 'POST', '/patients', {
    first_name: 'Rosa', last_name: `Informes${stamp}`, date_of_birth: '1985-04-12', gender: 'female',
  })).patient_id
  const inv = await apiCall<{ invoice_id: string }>(page, 'POST', '/billing/invoices', { patient_id: pid, lines: [{ description: 'Revisión', unit_price: '37.45' }] })
  await apiCall(page, 'POST', `/billing/invoices/${inv.invoice_id}/issue`)
  await apiCall(page, 'POST', `/billing/invoices/${inv.invoice_id}/payments`, { amount: '37.45', method: 'cash' })
  await collectedWhen(page, (c) => c >= year + 3745)
  // Today's list holds it (the year's is long, by day then id, and today's come last).
  await page.goto(`${base()}/reports?period=today`)
  await page.getByTestId('figure-collected-value').click()
  await expect(page.getByTestId('reports-items')).toBeVisible()
  const mine = page.getByTestId('reports-item').filter({ hasText: `Informes${stamp}` })
  for (let i = 0; i < 10 && !(await mine.count()); i++) {
    const more = page.getByTestId('reports-items-more')
    if (!(await more.count())) break
    const n = await page.getByTestId('reports-item').count()
    await more.click()
    await expect(page.getByTestId('reports-item')).not.toHaveCount(n)
  }
  await expect(mine).toContainText('37,45')
  await expect(mine).toContainText('Efectivo')

  // ---- the home dashboard: today's figures, linking to the reports of today ----
  await page.goto(`${base()}/`)
  await expect(page.getByTestId('dashboard-figure-collected')).toHaveText(/\d,\d{2}\s€/)
  await page.getByRole('link', { name: 'Ver los informes' }).click()
  await expect(page).toHaveURL(/\/reports\?period=today$/)
  await expect(page.getByRole('radio', { name: 'Hoy' })).toBeChecked()
})

test.describe('phone (375×812)', () => {
  test.use({ viewport: { width: 375, height: 812 }, hasTouch: true })

  test('in English the page passes axe, and a chart’s table is reached and opened by keyboard', async ({ page }) => {
    test.setTimeout(480_000)
    await signIn(page, 'admin@demo.clinic')
    await setLanguage(page, 'en')
    await page.goto(`${base()}/reports`)
    await collectedWhen(page, (c) => c > 0, 'en')
    await expect(page.getByTestId('chart-series')).toBeVisible()
    await expectAccessible(page, 'reports, phone')
    await shot(page, 'reports-month-en-phone')
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)
    expect(fits, 'the page scrolls sideways at 375 px').toBe(true)

    // Tab from the top of the page to the chart's "Show as table".
    const toggle = page.getByTestId('chart-series-toggle')
    await expect(toggle).toHaveText('Show as table')
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    let reached = false
    for (let i = 0; i < 120 && !reached; i++) {
      await page.keyboard.press('Tab')
      reached = await toggle.evaluate((el) => el === document.activeElement)
    }
    expect(reached, 'Tab never reached "Show as table"').toBe(true)
    await page.keyboard.press('Enter')
    await expect(toggle).toHaveAttribute('aria-expanded', 'true')
    const table = page.getByTestId('chart-series-table')
    await expect(table).toBeVisible()
    await page.keyboard.press('Tab')
    await expect(table).toBeFocused()
    await expect(table.getByRole('columnheader', { name: 'Collected' })).toBeVisible()
    await expectAccessible(page, 'reports, phone, chart as a table')
    await shot(page, 'reports-table-en-phone')

    // The list behind a figure, as cards.
    await page.getByTestId('figure-collected-value').click()
    await expect(page.getByTestId('reports-item').first()).toBeVisible()
    await expectAccessible(page, 'reports list, phone')
  })
})

test('a receptionist has no reports: no sidebar item, no figures at home, and /reports is refused', async ({ page }) => {
  await signIn(page, 'reception@demo.clinic')
  await expect(page.getByTestId('nav-patients')).toBeVisible()
  await expect(page.getByTestId('nav-reports')).toHaveCount(0)
  await expect(page.getByTestId('dashboard-figures')).toHaveCount(0)
  await page.goto(`${base()}/reports`)
  await expect(page).toHaveURL(`${base()}/`)
  await page.goto(`${base()}/reports/items?figure=collected&from=2026-01-01&to=2026-01-31`)
  await expect(page).toHaveURL(`${base()}/`)
  await expect(page.getByTestId('reports-items')).toHaveCount(0)
})
