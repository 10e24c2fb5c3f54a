// Inventory against the real local stack: the admin adds an item on its full page, receives a
// lot, consumes (a consumption larger than the stock is refused with the stock in the message),
// consumes below the reorder threshold and sees the warning, and exactly one low-stock email
// reaches the developer outbox, also after a further consumption below the threshold; the list
// filtered below threshold shows the item with its low badge. Axe in Spanish at desktop and
// phone widths on the list, the item page and the dialog.
import { test, expect, type APIRequestContext, type Page } from './test'
import { base, expectAccessible, setLanguage, shot, signIn } from './helpers'

const stamp = Date.now().toString(36).slice(-5).toUpperCase()
const NAME = `Guantes E2E ${stamp}`
const SKU = `E2E-${stamp}`

async function accessible(page: Page, label: string, name: string) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width > 500 ? 800 : 844 })
    await expectAccessible(page, label)
    await shot(page, `${name}-${width > 500 ? 'desktop' : 'phone'}`)
  }
  await page.setViewportSize({ width: 1280, height: 800 })
}

/** The mails in the developer outbox whose subject names `text`. */
async function mailsAbout(request: APIRequestContext, text: string): Promise<{ id: string; subject: string }[]> {
  const outbox = process.env.E2E_OUTBOX_URL
  expect(outbox, 'the local stack printed no developer outbox URL (test-artifacts/stack.log)').toBeTruthy()
  const key = new URL(outbox!).searchParams.get('key')
  const list = await (await request.get(`${base()}/_local/outbox/messages.json?key=${key}`)).json()
  return (list.mail as { id: string; subject: string }[]).filter((m) => m.subject.includes(text))
}

async function move(page: Page, button: string, qty: string) {
  await page.getByTestId(button).click()
  const form = page.getByTestId('inventory-move-form')
  await expect(form).toBeVisible()
  await expect(page.locator('#mv-qty')).toBeFocused()
  await page.keyboard.type(qty)
  await page.keyboard.press('Enter')
}

test('receive stock, consume below the threshold, one alert email', async ({ page, request }) => {
  test.setTimeout(360_000)
  await signIn(page, 'admin@demo.clinic')
  await setLanguage(page, 'es')

  // The seeded inventory, with items below their threshold.
  await page.goto(`${base()}/inventory`)
  await expect(page.getByTestId('inventory-table')).toBeVisible()
  await expect(page.getByTestId('inventory-level-GLV-NIT-M')).toHaveText('Stock bajo')
  await accessible(page, 'inventario', 'inventory-list')

  // ---- a new item on its full page ----
  await page.getByTestId('inventory-new').click()
  await expect(page).toHaveURL(/\/inventory\/items\/new$/)
  await expect(page.locator('#inv-name')).toBeFocused()
  await page.keyboard.type(NAME)
  await page.locator('#inv-sku').fill(SKU)
  await page.locator('#inv-unit').fill('caja')
  await page.locator('#inv-reorder_threshold').fill('5')
  await page.locator('#inv-reorder_quantity').fill('10')
  await page.locator('#inv-cost').fill('6,40')
  await page.getByTestId('inventory-save').click()
  await expect(page).toHaveURL(/\/inventory\/items\/[0-9A-Z]{26}$/)
  await expect(page.getByTestId('inventory-item-stock')).toHaveText('0 caja')

  // ---- receive a lot ----
  await page.getByTestId('inventory-receive').click()
  await expect(page.locator('#mv-qty')).toBeFocused()
  await page.keyboard.type('8')
  await page.locator('#mv-lot').fill('LOT-E2E')
  await accessible(page, 'recibir', 'inventory-receive')
  await page.getByTestId('inventory-move-save').click()
  await expect(page.getByTestId('inventory-item-stock')).toHaveText('8 caja')
  await expect(page.getByTestId('inventory-lots')).toContainText('LOT-E2E')

  // ---- more than in stock: refused, with the stock ----
  await move(page, 'inventory-consume', '9')
  await expect(page.getByTestId('inventory-move-error')).toContainText('quedan 8')
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('inventory-move-form')).toBeHidden()

  // ---- consume, still above the threshold; then below it ----
  await move(page, 'inventory-consume', '2')
  await expect(page.getByTestId('inventory-item-stock')).toHaveText('6 caja')
  await move(page, 'inventory-consume', '3')
  await expect(page.getByTestId('inventory-item-stock')).toHaveText('3 caja')
  await expect(page.getByText(`${NAME} ha bajado del umbral`)).toBeVisible()
  await expect(page.getByTestId('inventory-moves')).toContainText('quedan 3')
  await accessible(page, 'artículo', 'inventory-item')

  // ---- exactly one alert email, and no second one while it stays below ----
  await expect.poll(async () => (await mailsAbout(request, stamp)).length, { timeout: 30_000 }).toBe(1)
  await move(page, 'inventory-consume', '1')
  await expect(page.getByTestId('inventory-item-stock')).toHaveText('2 caja')
  await page.waitForTimeout(2_000)
  expect(await mailsAbout(request, stamp)).toHaveLength(1)

  // ---- the list below threshold shows it, with its badge ----
  await page.goto(`${base()}/inventory?below=1`)
  await expect(page.getByTestId(`inventory-level-${SKU}`)).toHaveText('Stock bajo')
  await expect(page.getByTestId('inventory-filter-below')).toBeChecked()
  await accessible(page, 'bajo el umbral', 'inventory-below')

  // Leave the demo clinic as it was: the item archived.
  await page.getByRole('link', { name: NAME }).click()
  await page.getByTestId('inventory-archive').click()
  await expect(page.getByText('Archivado', { exact: true }).first()).toBeVisible()
})
