import { test, expect, type Page } from './test'
import { fileURLToPath } from 'node:url'
import { apiGet, base, busyDay, expectAccessible, freeOpenDay, setLanguage, shot, signIn } from './helpers'

const FIXTURE = fileURLToPath(new URL('./fixtures/intraoral.jpg', import.meta.url))
const stamp = Date.now().toString(36).slice(-5)
const FIRST = 'Lucía'
const LAST = `Prueba${stamp}`

async function book(page: Page, name: string, checkA11y = false) {
  await page.getByTestId('appointment-new').click()
  const form = page.getByTestId('appointment-form')
  if (checkA11y) await expectAccessible(page, 'booking dialog')
  await form.locator('#ap-patient').fill(LAST)
  if (checkA11y) {
    await expect(page.getByRole('option', { name: new RegExp(name) }).first()).toBeVisible()
    await expectAccessible(page, 'booking dialog, patient suggestions')
  }
  await page.getByRole('option', { name: new RegExp(name) }).first().click()
  await form.locator('#ap-time').fill('10:00')
  await form.locator('#ap-reason').fill('Revisión')
  await page.getByTestId('appointment-save').click()
}

/** The demo patient whose photos and X-rays the seed uploaded (the first ones it lists). */
async function patientWithImages(page: Page): Promise<string> {
  // The imaging seed gives images to the first patients of the list as it was then; the year of
  // history added later interleaves its newcomers by name, so look further than the first few.
  const list = await apiGet<{ items: { patient_id: string }[] }>(page, '/patients?limit=100')
  for (const p of list.items) {
    const imgs = await apiGet<{ items: { status: string; kind: string }[] }>(page, `/patients/${p.patient_id}/images`)
    if (imgs.items.filter((i) => i.status === 'ready').length >= 4 && imgs.items.some((i) => i.kind !== 'photo')) return p.patient_id
  }
  throw new Error('the demo seed has no patient with processed images')
}

/** The open patient record's summary, medical history, appointments and timeline, each checked with axe-core. */
async function recordTabs(page: Page) {
  await expect(page.getByTestId('patient-name')).toBeVisible()
  await expectAccessible(page, 'patient: summary')
  await page.getByTestId('ptab-medical').click()
  await expect(page.getByTestId('medical-history')).toBeVisible()
  await expectAccessible(page, 'patient: medical history')
  await page.getByTestId('ptab-appointments').click()
  await expect(page.getByTestId('patient-appointments').or(page.locator('[role=tabpanel][data-p-active=true] .empty'))).toBeVisible()
  await expectAccessible(page, 'patient: appointments')
  await page.getByTestId('ptab-timeline').click()
  await expect(page.getByTestId('timeline')).toBeVisible()
  await expectAccessible(page, 'patient: timeline')
}

test.describe.serial('clinic day', () => {
  let patientUrl = ''

  test('admin creates a patient with inline validation', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    await page.getByTestId('nav-patients').click()
    await expect(page.getByTestId('patient-list').locator('li').first()).toBeVisible()
    await shot(page, '20-patients')
    await expectAccessible(page, 'patients')
    await page.getByTestId('patient-new').click()
    const form = page.getByTestId('patient-form')
    await expectAccessible(page, 'new patient dialog')
    // Inline validation: submit empty, errors appear on the fields.
    await page.getByTestId('patient-save').click()
    await expect(form.getByText('Este campo es obligatorio').first()).toBeVisible()
    await form.locator('#p-idnum').fill('12345678A')
    await form.locator('#p-idnum').blur()
    await expect(form.getByText('La letra de control no coincide')).toBeVisible()
    await shot(page, '21-patient-form-errors')
    await expectAccessible(page, 'new patient dialog, inline errors')
    await form.locator('#p-first').fill(FIRST)
    await form.locator('#p-last').fill(LAST)
    await form.locator('#p-dob').fill('1985-04-12')
    await form.locator('#p-idnum').fill('')
    await form.locator('#p-phone').fill('+34 600 111 222')
    await form.locator('#p-email').fill(`lucia.${stamp}@example.com`)
    await form.locator('#p-email').press('Enter') // submits from the keyboard
    await expect(page.getByTestId('patient-name')).toContainText(LAST)
    await expect(page.getByTestId('alerts-banner')).toBeVisible()
    patientUrl = page.url()
    await expectAccessible(page, 'new patient: summary')
    // A severe allergy becomes an alert in the banner.
    await page.getByTestId('ptab-medical').click()
    await expect(page.getByTestId('medical-history')).toBeVisible()
    await expectAccessible(page, 'new patient: no medical history yet')
    await page.getByRole('button', { name: 'Editar historia' }).click()
    await page.getByRole('button', { name: 'Añadir' }).first().click()
    await page.getByLabel('Sustancia').fill('Penicilina')
    await expectAccessible(page, 'medical history form')
    await page.getByLabel('Gravedad').click()
    await page.getByRole('option', { name: 'Grave' }).click()
    await page.getByRole('button', { name: 'Guardar' }).click()
    await expect(page.getByTestId('medical-history')).toContainText('Penicilina')
    await expect(page.getByTestId('alerts-banner')).toContainText('Alergia grave: Penicilina')
    await shot(page, '22-patient-detail-medical')
    await expectAccessible(page, 'patient: medical history with an alert')
    // Search as you type finds her.
    await page.getByTestId('nav-patients').click()
    await page.getByTestId('patient-search').fill(LAST.slice(0, 6))
    await expect(page.getByTestId('patient-list')).toContainText(LAST)
    await expectAccessible(page, 'patients: search results')
    await page.getByTestId('patient-search').fill(`zz${stamp}`)
    await expect(page.getByTestId('patient-list')).toHaveCount(0)
    await expectAccessible(page, 'patients: no results')
    // Archive her record (asked first), then bring it back.
    await page.goto(patientUrl)
    await page.getByTestId('patient-archive').click()
    const confirmDialog = page.locator('.p-confirmdialog')
    await expect(confirmDialog).toContainText('dejará de aparecer en búsquedas')
    await expectAccessible(page, 'patient: archive confirmation')
    await confirmDialog.getByRole('button', { name: 'Archivar' }).click()
    await expect(page.getByTestId('patient-archive')).toHaveText('Recuperar del archivo')
    await page.getByTestId('patient-archive').click()
    await page.locator('.p-confirmdialog').getByRole('button', { name: 'Recuperar del archivo' }).click()
    await expect(page.getByTestId('patient-archive')).toHaveText('Archivar')
  })

  test('book an appointment; a second one in the same slot is refused (409)', async ({ page }) => {
    expect(patientUrl, 'the patient the first test created').not.toBe('')
    await signIn(page, 'admin@demo.clinic')
    const day = await freeOpenDay(page)
    await page.goto(`${base()}/agenda?date=${day}`)
    await expect(page.getByTestId('agenda-colhead')).toHaveCount(3) // the seeded cabinets
    await expectAccessible(page, 'agenda: an empty day')
    await book(page, LAST, true)
    await expect(page.getByTestId('appointment-form')).toHaveCount(0)
    const appt = page.locator('.appt', { hasText: LAST })
    await expect(appt).toBeVisible()
    await book(page, LAST)
    await expect(page.getByTestId('appointment-conflict')).toContainText(/(ya está ocupado|ya tiene cita) de 10:00 a 10:30/)
    await shot(page, '31-agenda-conflict')
    await expectAccessible(page, 'booking dialog, slot taken')
    await page.getByRole('button', { name: 'Cancelar' }).click()
    await expect(page.getByTestId('appointment-form')).toHaveCount(0)
    // Status action from the keyboard: focus the appointment, open its menu, confirm.
    await appt.focus()
    await page.keyboard.press('Enter')
    await expect(page.getByRole('menuitem', { name: 'Confirmar' })).toBeVisible()
    await expectAccessible(page, 'agenda: appointment menu')
    await page.getByRole('menuitem', { name: 'Confirmar' }).click()
    await expect(appt).toHaveAttribute('data-status', 'confirmed')
    await expect(appt).toContainText('Confirmada')
    // Reschedule from the keyboard too: the same menu opens the edit form.
    await appt.focus()
    await page.keyboard.press('Enter')
    await page.getByRole('menuitem', { name: 'Reprogramar…' }).click()
    await expect(page.getByTestId('appointment-patient')).toContainText(LAST)
    // The dialog has opened once it has put the focus on its first field (never its close button).
    await expect(page.locator('#ap-date')).toBeFocused()
    await expectAccessible(page, 'reschedule dialog')
    await page.locator('#ap-time').fill('11:00')
    await page.locator('#ap-change').fill('Llamó para retrasarla')
    await page.locator('#ap-change').press('Enter')
    await expect(page.getByTestId('appointment-form')).toHaveCount(0)
    await expect(appt).toContainText('11:00–11:30')
    await expect(appt).toHaveAttribute('data-status', 'confirmed')
    // Cancel asks first, with a reason; it stays on the agenda, struck through; undo books it again.
    await appt.focus()
    await page.keyboard.press('Enter')
    await page.getByRole('menuitem', { name: 'Cancelar cita' }).click()
    const release = page.getByTestId('release-form')
    await expect(release).toContainText('se anulará')
    await expect(page.locator('#release-reason')).toBeFocused()
    await expectAccessible(page, 'cancel an appointment: reason')
    await page.locator('#release-reason').fill('Llamó para anularla')
    await page.getByTestId('release-confirm').click()
    await expect(appt).toHaveAttribute('data-status', 'cancelled')
    await expect(page.getByTestId('undo-bar')).toBeVisible()
    await expectAccessible(page, 'agenda: a cancelled appointment and its undo')
    await page.getByTestId('undo').click()
    await expect(appt).toHaveAttribute('data-status', 'scheduled')
    await expect(page.getByTestId('undo-bar')).toHaveCount(0)
  })

  test('agenda day and week views of the seeded clinic', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    const day = await busyDay(page)
    await page.goto(`${base()}/agenda?date=${day}`)
    const grid = page.getByTestId('agenda-grid')
    await expect(grid).toHaveAttribute('data-view', 'day')
    await expect(grid.locator('.appt').first()).toBeVisible()
    await shot(page, '30-agenda-day')
    await expectAccessible(page, 'agenda: day')
    await page.getByTestId('agenda-view').getByText('Semana').click()
    await expect(grid).toHaveAttribute('data-view', 'week')
    await expect(page.getByTestId('agenda-colhead')).toHaveCount(5) // Monday to Friday: the closed weekend takes no room
    await expect(page.getByTestId('agenda-resource')).toContainText('Gabinete 1')
    await expect(grid.locator('.appt').first()).toBeVisible()
    await shot(page, '32-agenda-week')
    await expectAccessible(page, 'agenda: week')
  })

  test('upload an image and see its thumbnail when processing finishes', async ({ page }) => {
    expect(patientUrl, 'the patient the first test created').not.toBe('')
    await signIn(page, 'admin@demo.clinic')
    await page.goto(`${patientUrl.replace(/\/(medical|images)$/, '')}/images`)
    await expect(page.getByTestId('dropzone')).toBeVisible()
    await expect(page.getByText('Aún no hay imágenes')).toBeVisible()
    await expectAccessible(page, 'patient: no images yet')
    await page.getByTestId('file-input').setInputFiles(FIXTURE)
    await expect(page.getByTestId('upload-row')).toBeVisible()
    // The worker renders the thumbnail; the tile shows it once the record is ready.
    const thumb = page.getByTestId('gallery').getByTestId('thumb')
    await expect(thumb).toHaveCount(1, { timeout: 120_000 })
    await expect(thumb).toHaveJSProperty('complete', true)
    expect(await thumb.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBeGreaterThan(0)
    await expectAccessible(page, 'patient: images, one just uploaded')
  })

  test('a seeded patient’s record tab by tab; gallery, viewer and before/after', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    const pid = await patientWithImages(page)
    await page.goto(`${base()}/patients/${pid}`)
    await recordTabs(page)
    await page.getByTestId('ptab-images').click()
    const tiles = page.getByTestId('gallery').locator('figure')
    await expect(tiles.first()).toBeVisible()
    await shot(page, '40-images-gallery')
    await expectAccessible(page, 'patient: images')
    // An X-ray in the viewer, with zoom and brightness.
    await page.getByTestId('gallery').locator('figure[data-kind="xray"], figure[data-kind="dicom"]').first().locator('button.thumb').click()
    const img = page.getByTestId('viewer-image')
    await expect(img).toBeVisible()
    await expect(img).toHaveAttribute('data-level', 'preview')
    await page.getByRole('button', { name: 'Zoom +' }).click()
    await page.getByRole('button', { name: 'Zoom +' }).click()
    await expect(img).toHaveAttribute('data-level', 'full') // full resolution only on zoom
    await shot(page, '41-image-viewer')
    await expectAccessible(page, 'image viewer')
    await page.keyboard.press('Escape')
    // Before / after: tick two photos.
    const photos = page.getByTestId('gallery').locator('figure[data-kind="photo"]')
    await photos.nth(0).getByRole('checkbox').check()
    await photos.nth(1).getByRole('checkbox').check()
    await page.getByTestId('compare-open').click()
    await expect(page.getByTestId('before-after')).toBeVisible()
    await shot(page, '42-images-before-after')
    await expectAccessible(page, 'before / after')
  })

  test('a receptionist does not see the medical history', async ({ page }) => {
    expect(patientUrl, 'the patient the first test created').not.toBe('')
    await signIn(page, 'reception@demo.clinic')
    await page.goto(patientUrl.replace(/\/(medical|images)$/, ''))
    await expect(page.getByTestId('patient-name')).toContainText(LAST)
    await expect(page.getByTestId('alerts-banner')).toContainText('Penicilina') // alerts are for everyone
    await expect(page.getByTestId('ptab-medical')).toHaveCount(0)
    await expect(page.getByTestId('ptab-images')).toHaveCount(0)
    await page.goto(`${patientUrl.replace(/\/(medical|images)$/, '')}/medical`)
    await expect(page.getByTestId('patient-name')).toContainText(LAST)
    await expect(page.getByTestId('medical-history')).toHaveCount(0)
    await expect(page.getByTestId('ptab-summary')).toHaveAttribute('aria-selected', 'true')
    await shot(page, '50-receptionist-patient')
    await expectAccessible(page, 'patient, as a receptionist')
  })
})

test.describe('tablet (820×1180)', () => {
  test.use({ viewport: { width: 820, height: 1180 }, hasTouch: true })

  test('dashboard, agenda and a patient on a tablet', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    await expect(page.getByTestId('dashboard-agenda').locator('li').first()).toBeVisible()
    await shot(page, '60-tablet-dashboard')
    await expectAccessible(page, 'dashboard')
    const day = await busyDay(page)
    await page.goto(`${base()}/agenda?date=${day}`)
    await expect(page.getByTestId('agenda-grid').locator('.appt').first()).toBeVisible()
    await shot(page, '61-tablet-agenda-day')
    await expectAccessible(page, 'agenda: day')
    const pid = await patientWithImages(page)
    await page.goto(`${base()}/patients/${pid}`)
    await expect(page.getByTestId('patient-name')).toBeVisible()
    await expect(page.getByTestId('patient-appointments').or(page.getByText('Sin citas próximas'))).toBeVisible()
    await shot(page, '62-tablet-patient')
    await expectAccessible(page, 'patient: summary')
    // Nothing wider than the screen: no sideways scrolling of the page.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(820)
  })
})

// The flows above run at 1280×800 in Spanish; this pass walks the same screens on a phone,
// in Spanish and then in English, with one sign-in.
test.describe('phone (375×812)', () => {
  test.use({ viewport: { width: 375, height: 812 }, hasTouch: true })

  test('every screen in Spanish and English passes axe-core', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    const pid = await patientWithImages(page)
    const day = await busyDay(page)
    for (const lang of ['es', 'en'] as const) {
      await setLanguage(page, lang)
      await page.getByTestId('nav-dashboard').click()
      await expect(page.getByTestId('dashboard-agenda').locator('li').first()).toBeVisible()
      if (lang === 'es') await shot(page, '80-phone-dashboard')
      await expectAccessible(page, 'dashboard')
      // Nothing wider than the screen: no sideways scrolling of the page.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)

      await page.goto(`${base()}/agenda?date=${day}`)
      const grid = page.getByTestId('agenda-grid')
      await expect(grid.locator('.appt').first()).toBeVisible()
      if (lang === 'es') await shot(page, '81-phone-agenda-day')
      await expectAccessible(page, 'agenda: day')
      await grid.locator('.appt').first().focus()
      await page.keyboard.press('Enter')
      await expect(page.getByRole('menu')).toBeVisible()
      await expectAccessible(page, 'agenda: appointment menu')
      await page.keyboard.press('Escape')
      await expect(page.getByRole('menu')).toHaveCount(0)
      await page.getByTestId('appointment-new').click()
      await expect(page.getByTestId('appointment-form')).toBeVisible()
      if (lang === 'es') await shot(page, '82-phone-booking')
      await expectAccessible(page, 'booking dialog')
      await page.keyboard.press('Escape')
      await expect(page.getByTestId('appointment-form')).toHaveCount(0)
      await page.goto(`${base()}/agenda?date=${day}&view=week`)
      await expect(grid).toHaveAttribute('data-view', 'week')
      await expect(grid.locator('.appt').first()).toBeVisible()
      await expectAccessible(page, 'agenda: week')

      await page.getByTestId('nav-patients').click()
      await expect(page.getByTestId('patient-list').locator('li').first()).toBeVisible()
      await expectAccessible(page, 'patients')
      await page.getByTestId('patient-new').click()
      await expect(page.getByTestId('patient-form')).toBeVisible()
      await page.getByTestId('patient-save').click()
      await expect(page.getByTestId('patient-form').locator('.field-error').first()).toBeVisible()
      await expectAccessible(page, 'new patient dialog, inline errors')
      await page.keyboard.press('Escape')
      await expect(page.getByTestId('patient-form')).toHaveCount(0)

      await page.goto(`${base()}/patients/${pid}`)
      await expect(page.getByTestId('patient-name')).toBeVisible()
      if (lang === 'es') await shot(page, '83-phone-patient')
      await recordTabs(page)
      await page.getByTestId('ptab-images').click()
      await expect(page.getByTestId('gallery').locator('figure').first()).toBeVisible()
      await expectAccessible(page, 'patient: images')
      await page.getByTestId('gallery').locator('button.thumb').first().click()
      await expect(page.getByTestId('viewer-image')).toBeVisible()
      await expectAccessible(page, 'image viewer')
      await page.keyboard.press('Escape')
      await expect(page.getByTestId('viewer-image')).toHaveCount(0)

      await page.getByTestId('nav-settings').click()
      await expect(page.getByTestId('clinic-save')).toBeVisible()
      if (lang === 'es') await shot(page, '84-phone-settings-clinic')
      await expectAccessible(page, 'settings: clinic')
      await page.getByTestId('settings-tab-staff').click()
      await expect(page.getByText('reception@demo.clinic')).toBeVisible()
      await expectAccessible(page, 'settings: staff')
      await page.getByTestId('settings-tab-roles').click()
      await expect(page.locator('[data-key="patients.*"]')).toBeVisible()
      await expectAccessible(page, 'settings: roles')
      await page.getByTestId('settings-tab-audit').click()
      await expect(page.getByTestId('audit-log')).toBeVisible()
      await expectAccessible(page, 'settings: audit')
    }
  })
})
