// Images on the patient record: edit an image's teeth and date, delete one (after a
// confirmation), save a before/after pair and see it listed (then unpair it), and the X-ray
// viewer: titled by date and type, invert, rotate, a window/level preset, a length in mm on a
// DICOM that gives its pixel spacing (the demo's intraoral DICOMs do), previous/next with the
// keyboard only. On a desktop in Spanish and on a phone in Spanish and English, with axe-core.
import { test, expect, type Page } from './test'
import { apiGet, base, expectAccessible, setLanguage, shot, signIn } from './helpers'

const stamp = Date.now().toString(36).slice(-5)

interface Img { image_id: string; status: string; kind: string; category: string | null; dicom?: { pixel_spacing?: number[] | null } | null }

/** The demo patient with the full series: photos, and DICOMs that carry their pixel spacing. */
async function showcasePatient(page: Page): Promise<string> {
  // Among the first hundred by name: the year of demo history's newcomers sort in between.
  const list = await apiGet<{ items: { patient_id: string }[] }>(page, '/patients?limit=100')
  for (const p of list.items) {
    const imgs = await apiGet<{ items: Img[] }>(page, `/patients/${p.patient_id}/images`)
    const ready = imgs.items.filter((i) => i.status === 'ready')
    if (ready.filter((i) => i.kind === 'photo').length >= 8 && ready.some((i) => i.dicom?.pixel_spacing)) return p.patient_id
  }
  throw new Error('the demo seed has no patient with processed photos and a calibrated DICOM')
}

async function openImages(page: Page, pid: string) {
  await page.goto(`${base()}/patients/${pid}/images`)
  await expect(page.getByTestId('gallery').locator('figure').first()).toBeVisible({ timeout: 120_000 })
}

/** The photo tile whose caption starts with `what` (its category; the teeth may follow). */
const photo = (page: Page, what: string) =>
  page.getByTestId('gallery').locator('figure[data-kind="photo"]').filter({ has: page.getByTestId('tile-what').filter({ hasText: new RegExp(`^${what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }) }).first()

test.describe.serial('images (desktop, Spanish)', () => {
  let pid = ''

  test('edit the teeth and date of a photo, then delete another after confirming', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    // The worker renders the seed's images in the background: wait until the showcase is ready.
    await expect(async () => {
      pid = await showcasePatient(page)
    }).toPass({ timeout: 180_000 })
    await openImages(page, pid)
    await expect(page.getByTestId('pairs').getByTestId('pair').first()).toBeVisible() // the seed's pairs
    await shot(page, '90-images-gallery-pairs')
    await expectAccessible(page, 'images: gallery with saved pairs')

    const tile = photo(page, 'Oclusal superior')
    await tile.getByTestId('tile-edit').click()
    const form = page.getByTestId('image-edit-form')
    await expect(form).toBeVisible()
    await form.getByLabel('Dientes (FDI)').fill('26, 16, 19')
    await form.getByTestId('image-edit-save').click()
    await expect(form.locator('#img-teeth-err')).toContainText('19')
    await expectAccessible(page, 'edit an image, with an error')
    await form.getByLabel('Dientes (FDI)').fill('26, 16')
    await form.getByLabel('Fecha de la toma').fill('2025-03-14')
    await form.getByTestId('image-edit-save').click()
    await expect(form).toBeHidden()
    const edited = photo(page, 'Oclusal superior')
    await expect(edited.getByTestId('tile-what')).toHaveText('Oclusal superior · 16, 26')
    await expect(edited.getByTestId('tile-date')).toHaveText('14 mar 2025')

    // A photo no other step (nor the seed's pairs) uses; a later run deletes the next one.
    let victim = photo(page, 'Oclusal inferior')
    for (const what of ['Oclusal inferior', 'Perfil derecho', 'Perfil izquierdo', 'Extraoral frontal']) {
      victim = photo(page, what)
      if (await victim.count()) break
    }
    await expect(victim).toHaveCount(1)
    const victimName = await victim.getByTestId('tile-what').innerText()
    const before = await page.getByTestId('gallery').locator('figure').count()
    await victim.getByTestId('tile-delete').click()
    const ask = page.getByRole('alertdialog').or(page.getByRole('dialog')).filter({ hasText: 'Eliminar imagen' })
    await expect(ask).toBeVisible()
    await expectAccessible(page, 'delete an image: confirmation')
    await ask.getByRole('button', { name: 'Eliminar', exact: true }).click()
    await expect(page.getByTestId('gallery').locator('figure')).toHaveCount(before - 1)
    await expect(page.getByTestId('gallery').getByTestId('tile-what').filter({ hasText: victimName })).toHaveCount(0)
  })

  test('save a before/after pair, see it listed, and unpair it', async ({ page }) => {
    expect(pid, 'the showcase patient, found by the first test').not.toBe('')
    await signIn(page, 'admin@demo.clinic')
    await openImages(page, pid)
    const listed = page.getByTestId('pairs').getByTestId('pair')
    const seeded = await listed.count()
    await photo(page, 'Intraoral lateral izq.').getByRole('checkbox').check()
    await photo(page, 'Intraoral lateral der.').getByRole('checkbox').check()
    await page.getByTestId('compare-open').click()
    await expect(page.getByTestId('before-after')).toBeVisible()
    await page.getByTestId('pair-title').fill(`Laterales ${stamp}`)
    await expectAccessible(page, 'before / after, save the pair')
    await page.getByTestId('pair-save').click()
    await expect(listed).toHaveCount(seeded + 1)
    await expect(page.getByTestId('pairs')).toContainText(`Laterales ${stamp}`)
    await page.keyboard.press('Escape')
    // Listed after a reload too (it is the API's list, not the page's memory).
    await page.reload()
    const mine = listed.filter({ hasText: `Laterales ${stamp}` })
    await expect(mine).toHaveCount(1)
    await mine.getByRole('button', { name: `Ver Laterales ${stamp}` }).click()
    await expect(page.getByTestId('before-after')).toBeVisible()
    await page.keyboard.press('Escape')
    await mine.getByTestId('pair-remove').click()
    const ask = page.getByRole('alertdialog').or(page.getByRole('dialog')).filter({ hasText: 'Deshacer par' })
    await ask.getByRole('button', { name: 'Deshacer par', exact: true }).click()
    await expect(listed).toHaveCount(seeded)
  })

  test('an X-ray in the viewer: its date and type, invert, rotate, a preset, a length in mm', async ({ page }) => {
    expect(pid, 'the showcase patient, found by the first test').not.toBe('')
    await signIn(page, 'admin@demo.clinic')
    await openImages(page, pid)
    const periapical = page.getByTestId('gallery').locator('figure[data-kind="dicom"]').filter({ hasText: 'Periapical' }).first()
    await periapical.locator('button.thumb').click()
    const title = page.getByTestId('viewer-title')
    await expect(title).toContainText('Periapical')
    await expect(title).toContainText('Diente 11')
    await expect(title).not.toContainText('.dcm')
    const img = page.getByTestId('viewer-image')
    await expect(img).toHaveAttribute('data-level', 'preview')
    await page.getByTestId('viewer-invert').click()
    await expect(img).toHaveAttribute('data-invert', 'true')
    await expect(page.getByTestId('viewer-invert')).toHaveAttribute('aria-pressed', 'true')
    await page.getByTestId('viewer-rotate-right').click()
    await expect(img).toHaveAttribute('data-rotation', '90')
    await page.getByTestId('viewer-preset').click()
    await page.getByRole('option', { name: 'Esmalte y hueso' }).click()
    await expect(img).toHaveAttribute('data-window', '170/120')
    // The window tool: dragging sideways widens the window.
    const stage = page.getByTestId('viewer-stage')
    const box = (await stage.boundingBox())!
    const cx = box.x + box.width / 2
    const cy = box.y + box.height / 2
    await page.getByTestId('viewer-tool').getByText('Ventana', { exact: true }).click()
    await page.mouse.move(cx, cy)
    await page.mouse.down()
    await page.mouse.move(cx + 40, cy, { steps: 4 })
    await page.mouse.up()
    await expect(img).toHaveAttribute('data-window', '170/160')
    // The ruler: the demo periapical is 760 × 1000 px at 0.035 mm (26.6 × 35 mm).
    await page.getByTestId('viewer-tool').getByText('Medir', { exact: true }).click()
    await page.mouse.move(cx - 60, cy)
    await page.mouse.down()
    await page.mouse.move(cx + 60, cy, { steps: 6 })
    await page.mouse.up()
    await expect(page.getByTestId('viewer-length')).toContainText(/Última medida: \d+,\d mm/)
    const mm = Number((await page.getByTestId('viewer-length').innerText()).match(/(\d+,\d) mm/)![1]!.replace(',', '.'))
    // Turned a quarter, the 1000 rows (35 mm) lie across the screen, fitted to the stage's height
    // (62vh = 496 px at 800 px): 120 px ≈ 120 / 652.6 × 35 mm ≈ 6.4 mm.
    expect(mm).toBeGreaterThan(6.0)
    expect(mm).toBeLessThan(6.9)
    await shot(page, '91-xray-viewer-tools')
    await expectAccessible(page, 'X-ray viewer, inverted, rotated, measured')
    await page.keyboard.press('Escape')
    await expect(img).toHaveCount(0)
  })

  test('previous and next with the keyboard only', async ({ page }) => {
    expect(pid, 'the showcase patient, found by the first test').not.toBe('')
    await signIn(page, 'admin@demo.clinic')
    await openImages(page, pid)
    // Tab to the second image of the gallery, open it with Enter.
    const second = page.getByTestId('gallery').locator('figure').nth(1).locator('button.thumb')
    for (let i = 0; i < 80 && !(await second.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab')
    await expect(second).toBeFocused()
    await page.keyboard.press('Enter')
    const position = page.getByTestId('viewer-position')
    const title = page.getByTestId('viewer-title')
    await expect(position).toContainText(/^2 de \d+$/)
    const first = await title.innerText()
    await page.keyboard.press('ArrowRight')
    await expect(position).toContainText(/^3 de \d+$/)
    await expect(title).not.toHaveText(first)
    await page.keyboard.press('ArrowLeft')
    await page.keyboard.press('ArrowLeft')
    await expect(position).toContainText(/^1 de \d+$/)
    await expect(page.getByTestId('viewer-prev')).toBeDisabled()
    // From a toolbar button too (Tab away from the image first).
    await page.keyboard.press('Tab')
    await page.keyboard.press('ArrowRight')
    await expect(position).toContainText(/^2 de \d+$/)
    await page.keyboard.press('Escape')
    await expect(page.getByTestId('viewer-image')).toHaveCount(0)
  })
})

test.describe('images (phone 390 px, Spanish and English)', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true })

  test('gallery, viewer and edit dialog fit and pass axe-core', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    let pid = ''
    await expect(async () => {
      pid = await showcasePatient(page)
    }).toPass({ timeout: 180_000 })
    for (const lang of ['es', 'en'] as const) {
      await setLanguage(page, lang)
      await openImages(page, pid)
      await expect(page.getByTestId('pairs')).toBeVisible()
      await expectAccessible(page, 'images: gallery')
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
      await page.getByTestId('pairs').scrollIntoViewIfNeeded()
      if (lang === 'es') await shot(page, '92-phone-images')

      await page.getByTestId('gallery').locator('figure[data-kind="dicom"]').filter({ hasText: 'Periapical' }).first().locator('button.thumb').click()
      await expect(page.getByTestId('viewer-image')).toBeVisible()
      await expect(page.getByTestId('viewer-title')).not.toContainText('.dcm')
      await expect(page.getByTestId('viewer-tool')).toContainText(lang === 'es' ? 'Medir' : 'Measure')
      await page.getByTestId('viewer-invert').click()
      await expectAccessible(page, 'X-ray viewer')
      if (lang === 'en') await shot(page, '93-phone-viewer-en')
      await page.getByTestId('viewer-edit').click()
      await expect(page.getByTestId('image-edit-form')).toBeVisible()
      await expect(page.getByTestId('image-edit-form')).toContainText(lang === 'es' ? 'Fecha de la toma' : 'Date taken')
      await expectAccessible(page, 'edit an X-ray')
      await page.keyboard.press('Escape')
      await expect(page.getByTestId('image-edit-form')).toHaveCount(0)
      await page.keyboard.press('Escape')
      await expect(page.getByTestId('viewer-image')).toHaveCount(0)
    }
  })
})
