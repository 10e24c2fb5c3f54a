import { test, expect, type Page } from './test'
import { apiGet, base, busyDay, expectAccessible, freeOpenDay, setLanguage, shot, signIn } from './helpers'

// Issue 15: the front desk books with the keyboard alone, and the phone width fits the screen.
const PATIENT = 'Etxeberria' // a seeded patient (Íñigo Etxeberria Zubizarreta), unique by surname

/** Press Tab until `target` has the focus (the way a keyboard user gets there), at most `max` times. */
async function tabTo(page: Page, target: ReturnType<Page['locator']>, max = 40) {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement || el.contains(document.activeElement)).catch(() => false)) return
    await page.keyboard.press('Tab')
  }
  await expect(target).toBeFocused()
}

/** The label a PrimeVue Select shows for its value (its `input-id` is that combobox span). */
const selectLabel = (page: Page, id: string) => page.locator(`#${id}`)

/** Choose the option `n` places below the current one of a focused PrimeVue Select, by keyboard. */
async function chooseBelow(page: Page, id: string, n: number) {
  await tabTo(page, page.locator(`#${id}`))
  await page.keyboard.press('Enter') // opens the list on the selected option
  await expect(page.getByRole('listbox')).toBeVisible()
  for (let i = 0; i < n; i++) await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Enter')
  await expect(page.getByRole('listbox')).toHaveCount(0)
}

test.describe('booking with the keyboard only', () => {
  test('from the agenda: patient, professional, cabinet, time, saved and shown (es, then the dialog in en)', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    const day = await freeOpenDay(page)
    const pros = await apiGet<{ user_id: string; name: string }[]>(page, '/agenda/professionals')
    const cabs = (await apiGet<{ cabinet_id: string; name: string; active: boolean }[]>(page, '/agenda/cabinets')).filter((c) => c.active)
    expect(pros.length).toBeGreaterThan(1)
    expect(cabs.length).toBeGreaterThan(1)
    await page.goto(`${base()}/agenda?date=${day}`)
    await expect(page.getByTestId('agenda-grid')).toBeVisible()

    // From the top of the page, Tab to "Nueva cita" and open it with Enter.
    await page.locator('body').focus()
    const newButton = page.getByTestId('appointment-new')
    await tabTo(page, newButton)
    await page.keyboard.press('Enter')
    const form = page.getByTestId('appointment-form')
    await expect(form).toBeVisible()
    // The dialog takes the focus: first the patient search.
    await expect(page.locator('#ap-patient')).toBeFocused()
    await expectAccessible(page, 'booking dialog (keyboard)')

    // Patient: type, arrow down to the suggestion, Enter.
    await page.keyboard.type(PATIENT, { delay: 30 })
    await expect(page.getByRole('option', { name: new RegExp(PATIENT) }).first()).toBeVisible()
    await expectAccessible(page, 'booking dialog, suggestions (keyboard)')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    await expect(page.locator('#ap-patient')).toHaveValue(new RegExp(PATIENT))

    // Time: the hours then the minutes of the time field.
    await tabTo(page, page.locator('#ap-time'))
    await page.keyboard.type('1130')
    await expect(page.locator('#ap-time')).toHaveValue('11:30')

    // Professional and cabinet: the second of each, with the arrow keys.
    await chooseBelow(page, 'ap-prof', 1)
    await expect(selectLabel(page, 'ap-prof')).toHaveText(pros[1]!.name)
    await chooseBelow(page, 'ap-cab', 1)
    await expect(selectLabel(page, 'ap-cab')).toHaveText(cabs[1]!.name)

    await tabTo(page, page.locator('#ap-reason'))
    await page.keyboard.type('Revisión (teclado)')
    await page.keyboard.press('Enter') // submits the form
    await expect(form).toHaveCount(0)

    // The appointment is on the agenda, in its cabinet's column, and the focus is back on the page.
    const appt = page.locator(`[data-testid=agenda-column][data-cabinet="${cabs[1]!.cabinet_id}"] .appt`, { hasText: 'Etxeberria' })
    await expect(appt).toBeVisible()
    await expect(appt).toContainText('11:30')
    await expect(newButton).toBeFocused()
    const booked = await apiGet<{ appointments: { professional_id: string; cabinet_id: string; start: string; patient_name: string }[] }>(page, `/agenda/day?date=${day}`)
    const mine = booked.appointments.find((a) => a.patient_name.includes('Etxeberria'))
    expect(mine).toMatchObject({ professional_id: pros[1]!.user_id, cabinet_id: cabs[1]!.cabinet_id })
    expect(mine!.start.slice(0, 16)).toBe(`${day}T11:30`)

    // In English: the dialog opens from the keyboard, passes axe, Escape closes it and gives the focus back.
    await setLanguage(page, 'en')
    await page.locator('body').focus()
    await tabTo(page, newButton)
    await page.keyboard.press('Enter')
    await expect(form).toBeVisible()
    await expect(page.locator('#ap-patient')).toBeFocused()
    await expect(page.getByRole('dialog')).toContainText('Patient')
    await expectAccessible(page, 'booking dialog (keyboard, en)')
    await page.keyboard.press('Escape')
    await expect(form).toHaveCount(0)
    await expect(newButton).toBeFocused()
    await setLanguage(page, 'es')
  })
})

test.describe('phone (390 px)', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true })

  const fits = async (page: Page, what: string) =>
    expect(await page.evaluate(() => document.documentElement.scrollWidth), `${what} is wider than the screen`).toBeLessThanOrEqual(390)

  test('dashboard, agenda and a patient record fit; the user menu opens and signs out', async ({ page }) => {
    // The demo dentist works at two clinics: her top bar has the clinic switcher, which used to
    // push the page to 487 px and the user menu off the screen.
    await signIn(page, 'dentist@demo.clinic')
    await expect(page.getByTestId('clinic-switcher')).toBeVisible()
    const day = await busyDay(page)
    const list = await apiGet<{ items: { patient_id: string }[] }>(page, '/patients?limit=1')
    for (const lang of ['es', 'en'] as const) {
      await setLanguage(page, lang)
      await page.getByTestId('nav-dashboard').click()
      await expect(page.getByTestId('dashboard-stats')).toBeVisible()
      await expect(page.locator('.p-skeleton')).toHaveCount(0)
      await fits(page, 'the dashboard')
      // A count opens the agenda showing exactly those.
      await page.getByTestId('stat-pending').focus()
      await page.keyboard.press('Enter')
      await expect(page.getByTestId('agenda-only')).toBeVisible()
      await expect(page).toHaveURL(/show=pending/)
      await expectAccessible(page, 'agenda: only the pending ones')

      await page.goto(`${base()}/agenda?date=${day}`)
      await expect(page.getByTestId('agenda-grid').locator('.appt').first()).toBeVisible()
      await fits(page, 'the agenda')

      await page.goto(`${base()}/patients/${list.items[0]!.patient_id}`)
      await expect(page.getByTestId('patient-name')).toBeVisible()
      await expect(page.getByTestId('patient-insurer')).toBeVisible()
      await fits(page, 'the patient record')
      if (lang === 'es') await shot(page, '90-phone-390-record')
      await expectAccessible(page, 'patient record at 390 px')
    }
    await setLanguage(page, 'es')
    // The insurer is edited on the record (the dentist may write patients) and shown there.
    await page.getByTestId('patient-edit').click()
    const form = page.getByTestId('patient-form')
    await expect(form).toBeVisible()
    await form.locator('#p-icompany').fill('DKV')
    await form.locator('#p-ipolicy').fill(`DKV-${Date.now().toString().slice(-8)}`)
    await expectAccessible(page, 'patient form with the insurer at 390 px')
    await page.getByTestId('patient-save').click()
    await expect(form).toHaveCount(0)
    await expect(page.getByTestId('patient-insurer')).toContainText(/DKV · póliza DKV-\d{8}/)
    await fits(page, 'the patient record after editing')
    await page.getByTestId('user-menu').click()
    const signOut = page.getByRole('menuitem', { name: 'Cerrar sesión' })
    await expect(signOut).toBeVisible()
    await expect(signOut).toBeInViewport({ ratio: 1 })
    await shot(page, '91-phone-390-user-menu')
    await signOut.click()
    await expect(page.getByTestId('login-submit')).toBeVisible()
  })
})
