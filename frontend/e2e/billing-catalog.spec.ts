// Billing → Catalog against the real local stack: the admin creates a treatment with the
// keyboard alone (21 % VAT, shown in words), finds it by search, edits its price, imports a
// price-only CSV (the dry run shows the price change, before → after, and nothing else; the
// VAT and category stay) and applies it, exports the catalog (a BOM, decimal commas) and
// deactivates the treatment. A hygienist (catalog read only) sees the catalog without any
// action that changes it. Every state passes axe-core in Spanish and English, on a desktop and
// on a phone. What it creates is left deactivated (other specs share the demo clinic).
import { readFile } from 'node:fs/promises'
import { test, expect, type APIRequestContext, type Page } from './test'
import { base, expectAccessible, PASSWORD, setLanguage, shot } from './helpers'

const stamp = Date.now().toString(36).slice(-5).toUpperCase()
const CODE = `E2E${stamp}`
const NAME = `Carilla de prueba ${stamp}`

const sessions: Record<string, string> = {}
async function signedIn(page: Page, request: APIRequestContext, email: string) {
  if (!sessions[email]) {
    const r = await request.post(`${base()}/api/v1/auth/login`, { data: { email, password: PASSWORD }, timeout: 180_000 })
    expect(r.ok(), await r.text()).toBe(true)
    const out = (await r.json()).data as { access_token: string; expires_in: number; refresh_token: string; refresh_expires_in: number }
    const now = Date.now()
    sessions[email] = JSON.stringify({ accessToken: out.access_token, accessExpiresAt: now + out.expires_in * 1000, refreshToken: out.refresh_token, refreshExpiresAt: now + out.refresh_expires_in * 1000 })
  }
  await page.addInitScript((s) => localStorage.getItem('cuspide.session') || localStorage.setItem('cuspide.session', s), sessions[email])
  await page.goto(`${base()}/`)
  await expect(page.getByTestId('user-menu')).toBeVisible({ timeout: 90_000 })
}

async function openCatalog(page: Page) {
  await page.getByTestId('nav-billing').click()
  await page.getByTestId('billing-tab-catalog').click()
  await expect(page).toHaveURL(/\/billing(\/catalog)?$/) // the first tab, when it is the only one
  await expect(page.getByTestId('catalog-list')).toBeVisible()
}

const row = (page: Page, code = CODE) => page.locator(`[data-testid="catalog-row"][data-code="${code}"]`)

/** Axe at a desktop and a phone, in the language the page is in. */
async function accessible(page: Page, label: string, name: string) {
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: width > 500 ? 800 : 812 })
    await expectAccessible(page, label)
    await shot(page, `${name}-${width > 500 ? 'desktop' : 'phone'}`)
  }
  await page.setViewportSize({ width: 1280, height: 800 })
}

test.describe.configure({ mode: 'serial' })

test('the admin manages the catalog: keyboard create, search, edit, CSV import with its dry run, export, deactivate', async ({ page, request }) => {
  test.setTimeout(480_000) // a long flow on a machine the other suites share
  await signedIn(page, request, 'admin@demo.clinic')
  await setLanguage(page, 'es')
  await openCatalog(page)
  // The seeded catalog, its VAT types in words.
  await expect(row(page, 'REV')).toContainText('Exento – asistencia sanitaria')
  await accessible(page, 'catálogo', 'billing-catalog')

  // ---- create with the keyboard alone ----
  await page.getByTestId('catalog-add').focus()
  await page.keyboard.press('Enter')
  const form = page.getByTestId('catalog-form')
  await expect(page.locator('#trt-code')).toBeFocused()
  await page.keyboard.type(CODE)
  await page.keyboard.press('Tab')
  await expect(page.locator('#trt-name-es')).toBeFocused()
  await page.keyboard.type(NAME)
  await page.keyboard.press('Tab')
  await page.keyboard.type(`Test veneer ${stamp}`)
  await page.keyboard.press('Tab')
  await page.keyboard.type('Estética > Carillas')
  await page.keyboard.press('Tab')
  await expect(page.locator('#trt-price')).toBeFocused()
  await page.keyboard.type('350,00')
  await page.keyboard.press('Tab') // cost
  await page.keyboard.press('Tab') // duration
  await page.keyboard.type('45')
  await page.keyboard.press('Tab') // scope: whole mouth is checked
  await expect(page.getByTestId('trt-scope-mouth')).toBeFocused()
  // the scopes run from the largest to the smallest: mouth, quadrant, sextant, tooth, surface
  await page.keyboard.press('ArrowDown')
  await expect(page.getByTestId('trt-scope-quadrant')).toBeChecked()
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('ArrowDown') // one tooth
  await expect(page.getByTestId('trt-scope-tooth')).toBeChecked()
  await page.keyboard.press('Tab') // VAT: exempt healthcare is checked
  await expect(page.getByTestId('trt-vat-EXENTO_SANITARIO')).toBeFocused()
  await page.keyboard.press('ArrowDown') // IVA 21 %
  await expect(page.getByTestId('trt-vat-IVA21')).toBeChecked()
  await expect(form).toContainText('IVA 21 %')
  await accessible(page, 'catálogo: nuevo tratamiento', 'billing-catalog-form')
  await page.getByTestId('trt-vat-IVA21').focus()
  await page.keyboard.press('Tab') // Cancel
  await page.keyboard.press('Tab') // Save
  await expect(page.getByTestId('catalog-save')).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(form).toBeHidden()
  await expect(page.getByText(`Tratamiento ${CODE} creado`)).toBeVisible()

  // ---- search ----
  await page.getByTestId('catalog-search').fill(`carilla ${stamp.toLowerCase()}`)
  await expect(page.getByTestId('catalog-row')).toHaveCount(1)
  await expect(row(page)).toContainText(NAME)
  await expect(row(page).getByTestId('catalog-vat')).toHaveText('IVA 21 %')
  await expect(row(page).getByTestId('catalog-price')).toHaveText(/350,00\s€/)
  await expect(row(page)).toContainText('Estética › Carillas')

  // ---- edit the price ----
  await row(page).getByTestId('catalog-edit').click()
  await expect(page.locator('#trt-price')).toHaveValue('350,00')
  await page.locator('#trt-price').fill('12,3x')
  await page.getByTestId('catalog-save').click()
  await expect(page.locator('#trt-price-err')).toContainText('Escribe un importe')
  await page.locator('#trt-price').fill('375,50')
  await page.getByTestId('catalog-save').click()
  await expect(form).toBeHidden()
  await expect(row(page).getByTestId('catalog-price')).toHaveText(/375,50\s€/)

  // ---- CSV import: a price-only file; the dry run shows the one change, then it is applied ----
  await page.getByTestId('catalog-import-open').click()
  await page.getByTestId('catalog-file').setInputFiles({ name: 'precios.csv', mimeType: 'text/csv', buffer: Buffer.from(`code;price\n${CODE};399,90\nREV;40,00\n`, 'utf-8') })
  const report = page.getByTestId('catalog-import-report')
  await expect(report).toBeVisible()
  await expect(page.getByTestId('catalog-import-summary')).toHaveText('0 nuevos · 1 con cambios · 1 sin cambios · 0 con errores')
  const changed = report.locator(`[data-code="${CODE}"]`)
  await expect(changed).toHaveAttribute('data-action', 'updated')
  await expect(changed.locator('li')).toHaveCount(1) // the price and nothing else
  await expect(changed.locator('li[data-field="price"] [data-testid="before"]')).toHaveText(/375,50\s€/)
  await expect(changed.locator('li[data-field="price"] [data-testid="after"]')).toHaveText(/399,90\s€/)
  await expect(report.locator('[data-code="REV"]')).toHaveAttribute('data-action', 'unchanged')
  // Nothing written yet.
  await expect(row(page).getByTestId('catalog-price')).toHaveText(/375,50\s€/)
  await accessible(page, 'catálogo: revisión del CSV', 'billing-catalog-import')
  await page.getByTestId('catalog-import-apply').click()
  await expect(page.getByTestId('catalog-import')).toBeHidden()
  await expect(row(page).getByTestId('catalog-price')).toHaveText(/399,90\s€/)
  // The columns the file did not have are as they were.
  await expect(row(page).getByTestId('catalog-vat')).toHaveText('IVA 21 %')
  await expect(row(page)).toContainText('Estética › Carillas')
  await expect(row(page)).toContainText(NAME)

  // A file with an error is shown row by row and cannot be applied.
  await page.getByTestId('catalog-import-open').click()
  await page.getByTestId('catalog-file').setInputFiles({ name: 'malo.csv', mimeType: 'text/csv', buffer: Buffer.from(`code;price;vat_code\n${CODE};abc;IVA5\n`, 'utf-8') })
  await expect(report.locator(`[data-code="${CODE}"]`)).toHaveAttribute('data-action', 'error')
  await expect(report).toContainText('Precio:')
  await expect(page.getByTestId('catalog-import-apply')).toBeDisabled()
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('catalog-import')).toBeHidden()

  // ---- export ----
  const download = page.waitForEvent('download')
  await page.getByTestId('catalog-export').click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(/^tratamientos-\d{4}-\d{2}-\d{2}\.csv$/)
  const bytes = await readFile((await file.path())!)
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
  const text = bytes.toString('utf-8')
  expect(text).toContain(`${CODE};${NAME};Test veneer ${stamp};Estética > Carillas;399,90;;45;tooth;IVA21;1`)

  // ---- deactivate: it leaves the active list, and shows as deactivated under "All" ----
  await row(page).getByTestId('catalog-deactivate').click()
  await expect(page.getByText(`${CODE} · ${NAME} desactivado`)).toBeVisible()
  await expect(row(page)).toHaveCount(0) // the list shows the active ones
  await page.getByTestId('catalog-status').click()
  await page.getByRole('option', { name: 'Desactivados' }).click()
  await expect(row(page)).toContainText('Desactivado')
  await expect(row(page).getByTestId('catalog-reactivate')).toBeVisible()
})

test('in English: the catalog, the form and the CSV check, at a desktop and a phone', async ({ page, request }) => {
  test.setTimeout(360_000)
  await signedIn(page, request, 'admin@demo.clinic')
  await setLanguage(page, 'en')
  await openCatalog(page)
  const report = page.getByTestId('catalog-import-report')
  await page.getByTestId('catalog-search').fill('')
  await page.getByTestId('catalog-status').click()
  await page.getByRole('option', { name: 'All' }).click()
  await expect(row(page, 'REV')).toContainText('Exempt – healthcare')
  await expect(row(page).getByTestId('catalog-vat')).toHaveText('VAT 21 %')
  await expect(row(page).getByTestId('catalog-price')).toHaveText('€399.90')
  await accessible(page, 'catalog', 'billing-catalog-en')
  await row(page).getByTestId('catalog-edit').click()
  await expect(page.getByTestId('catalog-form')).toBeVisible()
  await accessible(page, 'catalog: edit', 'billing-catalog-form-en')
  await page.keyboard.press('Escape')
  await page.getByTestId('catalog-import-open').click()
  await page.getByTestId('catalog-file').setInputFiles({ name: 'prices.csv', mimeType: 'text/csv', buffer: Buffer.from(`code;price;category\n${CODE};410;\n`, 'utf-8') })
  await expect(page.getByTestId('catalog-import-summary')).toHaveText('0 new · 1 with changes · 0 unchanged · 0 with errors')
  await expect(report.locator(`[data-code="${CODE}"] li[data-field="category"]`)).toContainText('Estética > Carillas → (empty)')
  await accessible(page, 'catalog: CSV check', 'billing-catalog-import-en')
  await page.keyboard.press('Escape')
  await setLanguage(page, 'es')
})

test('a hygienist (catalog read only) sees the catalog without any action that changes it', async ({ page, request }) => {
  await signedIn(page, request, 'hygienist@demo.clinic')
  await setLanguage(page, 'es')
  await openCatalog(page)
  await expect(page.getByTestId('catalog-readonly')).toBeVisible()
  await expect(row(page, 'REV')).toBeVisible()
  await expect(page.getByTestId('catalog-add')).toHaveCount(0)
  await expect(page.getByTestId('catalog-import-open')).toHaveCount(0)
  await expect(page.getByTestId('catalog-edit')).toHaveCount(0)
  await expect(page.getByTestId('catalog-deactivate')).toHaveCount(0)
  await expect(page.getByTestId('catalog-export')).toBeVisible() // reading includes the export
  await accessible(page, 'catálogo (solo lectura)', 'billing-catalog-readonly')
  // The server refuses too.
  const s = JSON.parse((await page.evaluate(() => localStorage.getItem('cuspide.session')))!) as { accessToken: string }
  const r = await request.post(`${base()}/api/v1/billing/treatments`, { headers: { Authorization: `Bearer ${s.accessToken}` }, data: { code: `NO${stamp}`, name_es: 'No', price: '1' } })
  expect(r.status()).toBe(403)
  await setLanguage(page, 'en')
  await expect(page.getByTestId('catalog-readonly')).toContainText('Read only')
  await accessible(page, 'catalog (read only)', 'billing-catalog-readonly-en')
  await setLanguage(page, 'es')
})
