// Settings → VERI*FACTU against the real local stack: the demo clinic's chain, "verify the
// ledger", and the invoice book downloaded as a user would (the SPA fetches it with the
// session's token and hands the browser a file), in Spanish and English, on a desktop and a
// phone, with axe-core finding nothing critical or serious.
import { test, expect, type Page } from './test'
import { readFileSync } from 'node:fs'
import { apiGet, expectAccessible, shot, signIn } from './helpers'

interface Chain { nif: string; records: number }
interface Rec { num_serie: string; fecha_expedicion: string }

const T = {
  es: { tab: 'VERI*FACTU', verify: 'Verificar el registro', intact: 'Íntegro', thisYear: 'Año en curso', csv: /Descargar CSV/, test: 'Pruebas' },
  en: { tab: 'VERI*FACTU', verify: 'Verify the ledger', intact: 'Intact', thisYear: 'This year', csv: /Download CSV/, test: 'Test' },
}
type Lang = keyof typeof T

/** No critical or serious accessibility violation on the page as it is now (every axe rule, best practices too). */
const axe = (page: Page, label: string) => expectAccessible(page, `VERI*FACTU: ${label}`, { allRules: true })

async function english(page: Page) {
  await page.getByTestId('user-menu').click()
  await page.getByRole('menuitem', { name: 'English' }).click()
  await expect(page.locator('html')).toHaveAttribute('lang', 'en')
}

async function openTab(page: Page, lang: Lang) {
  await page.getByTestId('nav-settings').click()
  await page.getByTestId('settings-tab-verifactu').click()
  await expect(page.getByTestId('settings-tab-verifactu')).toHaveAttribute('aria-selected', 'true')
  await expect(page.getByRole('tab', { name: T[lang].tab })).toBeVisible()
  await expect(page).toHaveURL(/\/settings\/verifactu$/)
}

/** The demo clinic's chain, from the API, to compare with what the screen shows. */
async function demoChain(page: Page): Promise<Chain> {
  const v = await apiGet<{ chains: Chain[] }>(page, '/verifactu/chain/verify')
  expect(v.chains.length).toBeGreaterThan(0)
  expect(v.chains[0]!.records).toBeGreaterThan(0) // the seed issues invoices
  return v.chains[0]!
}

async function checkStatus(page: Page, lang: Lang, chain: Chain) {
  await expect(page.getByTestId('vf-environment')).toHaveText(T[lang].test)
  const shown = page.getByTestId('vf-chain').filter({ hasText: chain.nif })
  await expect(shown).toBeVisible()
  await expect(shown).toContainText(String(chain.records))
  // Locally nothing is sent to the AEAT: the screen says so in words, not with a code.
  const alert = page.getByTestId('vf-alerts').locator('[data-code="SUBMISSION_NOT_CONFIGURED"]')
  await expect(alert).toContainText(lang === 'es' ? 'no está conectado con la AEAT' : 'not connected to the AEAT')
  await expect(page.getByTestId('vf-alerts')).not.toContainText('SUBMISSION_NOT_CONFIGURED')
}

async function verify(page: Page, lang: Lang, chain: Chain, keyboard = false) {
  const run = page.getByRole('button', { name: T[lang].verify })
  if (keyboard) {
    await run.focus()
    await page.keyboard.press('Enter')
  } else await run.click()
  const result = page.getByTestId('vf-verify-result')
  await expect(result).toHaveAttribute('data-intact', 'true', { timeout: 60_000 })
  await expect(result.locator(`[data-nif="${chain.nif}"]`)).toContainText(T[lang].intact)
  await expect(result.locator(`[data-nif="${chain.nif}"]`)).toContainText(String(chain.records))
}

/** Download this year's CSV book and check it is the book: BOM, Spanish header, invoice rows. */
async function downloadYear(page: Page, lang: Lang, keyboard = false) {
  const year = await page.evaluate(() => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Madrid', year: 'numeric' }).format(new Date()))
  await page.getByRole('button', { name: T[lang].thisYear }).click()
  await expect(page.locator('#vf-from')).toHaveValue(`${year}-01-01`)
  await expect(page.locator('#vf-to')).toHaveValue(`${year}-12-31`)
  const download = page.waitForEvent('download')
  if (keyboard) {
    await page.locator('#vf-to').focus()
    await page.keyboard.press('Enter') // submits the form: the CSV is its default action
  } else await page.getByRole('button', { name: T[lang].csv }).click()
  const file = await download
  expect(file.suggestedFilename()).toBe(`libro-facturas-expedidas-${year}.csv`)
  const bytes = readFileSync((await file.path())!)
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]) // spreadsheets read the accents
  const lines = bytes.toString('utf8').slice(1).split('\r\n').filter(Boolean)
  expect(lines[0]).toMatch(/^Fecha expedición;Fecha operación;Serie-número;Tipo factura;.*;Estado VERI\*FACTU;Anulación;Huella;Registro$/)
  expect(lines.filter((l) => l.startsWith('Fecha expedición'))).toHaveLength(1)
  const recs = await apiGet<{ items: Rec[] }>(page, '/verifactu/records?limit=20')
  const thisYear = recs.items.filter((r) => r.fecha_expedicion.endsWith(`-${year}`))
  expect(thisYear.length).toBeGreaterThan(0)
  for (const r of thisYear) expect(lines.some((l) => l.split(';')[2] === r.num_serie)).toBe(true)
  await expect(page.getByTestId('vf-book-done')).toContainText(`libro-facturas-expedidas-${year}.csv`)
}

test.describe('VERI*FACTU settings', () => {
  test('admin, in Spanish: status, verify the ledger, this year’s CSV book', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    await openTab(page, 'es')
    const chain = await demoChain(page)
    await checkStatus(page, 'es', chain)
    await expect(page.getByTestId('vf-discrepancies')).toContainText('Sin diferencias con la AEAT')
    await expect(page.getByTestId('vf-rejected')).toContainText('Ningún registro rechazado')
    await axe(page, 'status')
    await verify(page, 'es', chain)
    await page.getByTestId('vf-status').scrollIntoViewIfNeeded()
    await shot(page, '70-settings-verifactu')
    await downloadYear(page, 'es')
    // The records as sent: one XML document for the demo clinic's year (a single part).
    const year = (await page.locator('#vf-from').inputValue()).slice(0, 4)
    const xml = page.waitForEvent('download')
    await page.getByRole('button', { name: /Descargar XML/ }).click()
    const file = await xml
    expect(file.suggestedFilename()).toBe(`registros-verifactu-${year}.xml`)
    const body = readFileSync((await file.path())!, 'utf8')
    expect(body).toMatch(/^<\?xml /)
    expect(body).toContain('RegFactuSistemaFacturacion')
    expect(body).toContain(chain.nif)
    await expect(page.getByTestId('vf-book-done')).toContainText(`registros-verifactu-${year}.xml`)
    await axe(page, 'ledger verified, book downloaded')
    await shot(page, '71-settings-verifactu-book')
  })

  test('admin, in English, from the keyboard', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    await english(page)
    await openTab(page, 'en')
    const chain = await demoChain(page)
    await checkStatus(page, 'en', chain)
    await verify(page, 'en', chain, true)
    await downloadYear(page, 'en', true)
    // The period is checked before asking: an end before the start is refused on its field.
    await page.locator('#vf-from').fill('2026-12-31')
    await page.locator('#vf-to').fill('2026-01-01')
    await page.getByRole('button', { name: T.en.csv }).click()
    await expect(page.locator('#vf-to-err')).toHaveText(/The end date cannot be before the start date/)
    await expect(page.locator('#vf-to')).toBeFocused()
    await axe(page, 'period refused')
    await shot(page, '72-settings-verifactu-en')
  })

  test('receptionist: the ledger’s state without the certificate, the check and the book', async ({ page }) => {
    await signIn(page, 'reception@demo.clinic')
    await openTab(page, 'es')
    await expect(page.getByTestId('vf-book')).toBeVisible()
    await expect(page.getByTestId('vf-verify')).toBeVisible()
    // GET /verifactu/status: the chain and the alerts, in Spanish; the certificate is the admin's
    await expect(page.getByTestId('vf-status').getByTestId('vf-chain')).not.toHaveCount(0)
    await expect(page.getByTestId('vf-alerts')).toContainText('certificado')
    await expect(page.getByTestId('vf-certificate')).toHaveCount(0)
    await expect(page.getByRole('alert')).toHaveCount(0) // and nothing it may not read was asked for
    await verify(page, 'es', await demoChain(page))
  })
})

test.describe('phone (375×812)', () => {
  test.use({ viewport: { width: 375, height: 812 }, hasTouch: true, isMobile: true })

  for (const lang of ['es', 'en'] as const) {
    test(`status, verify and the CSV book on a phone (${lang})`, async ({ page }) => {
      await signIn(page, 'admin@demo.clinic')
      if (lang === 'en') await english(page)
      await openTab(page, lang)
      const chain = await demoChain(page)
      await checkStatus(page, lang, chain)
      await verify(page, lang, chain)
      await downloadYear(page, lang)
      // Nothing wider than the screen: no sideways scrolling of the page.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
      await axe(page, 'ledger verified, book downloaded')
      await page.getByTestId('vf-status').scrollIntoViewIfNeeded()
      await shot(page, `73-phone-verifactu-${lang}`)
      await page.getByTestId('vf-book').scrollIntoViewIfNeeded()
      await shot(page, `74-phone-verifactu-book-${lang}`)
    })
  }
})
