// Settings → Agenda against the real local stack: an admin creates a cabinet (it gets its column
// in the agenda), edits it and deactivates it (the column goes); opens Saturdays with two ranges
// that overlap (the API's 422 shown under the range it names), fixes them and sees Saturday
// open in the agenda's week; closes a day and a range of days and reopens them. In English, a
// cabinet is created and deactivated with the keyboard only. Every state passes axe-core in
// Spanish and English, on a desktop and on a phone. What it changes is put back at the end
// (other specs share the demo clinic): Saturdays closed, no closed days added, the cabinets
// it created inactive.
import { test, expect, type APIRequestContext, type Page } from './test'
import { apiGet, base, expectAccessible, isoDate, PASSWORD, setLanguage, shot } from './helpers'

const stamp = Date.now().toString(36).slice(-5)
const T = {
  es: {
    tab: 'Agenda', add: 'Añadir gabinete', saved: 'Gabinete guardado', none: 'No tiene citas pendientes.', inactive: 'Inactivo', required: 'Este campo es obligatorio',
    overlap: 'se solapa con 10:00-13:00 el sábado', notSaved: 'no se ha guardado nada', hoursSaved: 'Horario guardado', closeDays: 'Cerrar 2 días', closeDay: 'Cerrar ese día',
  },
  en: {
    tab: 'Agenda', add: 'Add cabinet', saved: 'Cabinet saved', none: 'It has no upcoming appointments.', inactive: 'Inactive', required: 'This field is required',
    overlap: 'overlaps 10:00-13:00 on saturday', notSaved: 'nothing was saved', hoursSaved: 'Opening hours saved', closeDays: 'Close 2 days', closeDay: 'Close that day',
  },
}
type Lang = keyof typeof T

const inDays = (n: number) => {
  const d = new Date()
  d.setDate(d.getDate() + n)
  return isoDate(d)
}

/** `n` days in a row from about `from` days ahead that are not closed yet (the seed closes the
 * national holidays of this year and the next). */
async function freeDays(page: Page, from: number, n: number): Promise<string[]> {
  const closed = new Set((await apiGet<{ date: string }[]>(page, '/agenda/holidays')).map((h) => h.date))
  for (let start = from; start < from + 60; start++) {
    const days = Array.from({ length: n }, (_, i) => inDays(start + i))
    if (days.every((d) => !closed.has(d))) return days
  }
  throw new Error('no free days to close')
}

// Sign-in hashes with Argon2id, which takes most of a minute on a busy machine (the sign-in
// screen has its own spec): sign in once through the API with time to spare, then each test
// starts from the session the one before it left (its refresh token may have rotated).
let session: string | null = null
async function signedIn(page: Page, request: APIRequestContext) {
  if (!session) {
    const r = await request.post(`${base()}/api/v1/auth/login`, { data: { email: 'admin@demo.clinic', password: PASSWORD }, timeout: 180_000 })
    expect(r.ok(), await r.text()).toBe(true)
    const out = (await r.json()).data as { access_token: string; expires_in: number; refresh_token: string; refresh_expires_in: number }
    const now = Date.now()
    session = JSON.stringify({ accessToken: out.access_token, accessExpiresAt: now + out.expires_in * 1000, refreshToken: out.refresh_token, refreshExpiresAt: now + out.refresh_expires_in * 1000 })
  }
  await page.addInitScript((s) => localStorage.getItem('cuspide.session') || localStorage.setItem('cuspide.session', s), session)
  await page.goto(`${base()}/`)
  await expect(page.getByTestId('user-menu')).toBeVisible({ timeout: 90_000 })
}

async function openAgendaSettings(page: Page) {
  await page.getByTestId('nav-settings').click()
  await page.getByTestId('settings-tab-agenda').click()
  await expect(page).toHaveURL(/\/settings\/agenda$/)
  await expect(page.getByTestId('as-cabinet-list')).toBeVisible()
  await expect(page.getByTestId('as-hours-form')).toBeVisible()
}

const cabinetRow = (page: Page, name: string) => page.getByTestId('as-cabinet').filter({ has: page.locator('.name', { hasText: new RegExp(`^${name}$`) }) })

/** Saturday: open with 10:00-13:00 and 12:00-14:00 (they overlap), save, and the API's error. */
async function saturdayOverlap(page: Page, lang: Lang) {
  const sat = page.getByTestId('as-day-saturday')
  if ((await sat.locator('input[type=time]').count()) === 0) await sat.locator('label[for=as-open-saturday]').click()
  await page.getByTestId('as-saturday-0-start').fill('10:00')
  await page.getByTestId('as-saturday-0-end').fill('13:00')
  if ((await sat.locator('input[type=time]').count()) < 4) await page.getByTestId('as-add-saturday').click()
  await page.getByTestId('as-saturday-1-start').fill('12:00')
  await page.getByTestId('as-saturday-1-end').fill('14:00')
  await page.getByTestId('as-hours-save').click()
  await expect(page.getByTestId('as-err-saturday-1-start')).toHaveText(T[lang].overlap)
  await expect(page.getByTestId('as-saturday-1-start')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByTestId('as-hours-error')).toContainText(T[lang].notSaved)
}

test.describe.serial('agenda settings', () => {
  test.afterEach(async ({ page }) => {
    session = (await page.evaluate(() => localStorage.getItem('cuspide.session')).catch(() => null)) ?? session
  })

  test('a cabinet: created, edited, in the agenda, deactivated (its column goes)', async ({ page, request }) => {
    test.slow()
    const axe = (label: string) => expectAccessible(page, `agenda settings: ${label}`)
    await signedIn(page, request)
    await setLanguage(page, 'es')
    await openAgendaSettings(page)
    await shot(page, 'a1-agenda-settings')
    await axe('cabinets, hours, closed days')

    // ---- a cabinet: create (the name is required), edit, see it in the agenda, deactivate ----
    const name = `Gabinete E2E ${stamp}`
    await page.getByTestId('as-cabinet-add').click()
    const form = page.getByTestId('as-cabinet-form')
    await expect(page.locator('#cab-name')).toBeFocused()
    await page.getByTestId('as-cabinet-save').click()
    await expect(form.locator('#cab-name-err')).toHaveText(T.es.required)
    await axe('new cabinet dialog, name missing')
    await page.locator('#cab-name').fill(name)
    await form.getByLabel('Morado').check()
    await page.getByTestId('as-cabinet-save').click()
    await expect(form).toBeHidden()
    await expect(cabinetRow(page, name)).toHaveAttribute('data-active', 'true')
    await expect(cabinetRow(page, name)).toContainText('Morado')

    await cabinetRow(page, name).getByTestId('as-cabinet-edit').click()
    await expect(page.locator('#cab-name')).toHaveValue(name)
    await page.locator('#cab-name').fill(`${name} bis`)
    await form.getByLabel('Ámbar').check()
    await shot(page, 'a2-agenda-settings-edit-cabinet')
    await axe('edit cabinet dialog')
    await page.locator('#cab-name').press('Enter') // submits
    await expect(page.getByText(T.es.saved)).toBeVisible()
    await expect(cabinetRow(page, `${name} bis`)).toContainText('Ámbar')

    // The agenda has a column for it.
    await page.getByTestId('nav-agenda').click()
    await expect(page.getByTestId('agenda-colhead').filter({ hasText: `${name} bis` })).toBeVisible({ timeout: 90_000 })
    await page.goBack()
    await expect(page.getByTestId('as-cabinet-list')).toBeVisible()

    await cabinetRow(page, `${name} bis`).getByTestId('as-cabinet-deactivate').click()
    const dialog = page.getByTestId('as-deactivate-dialog')
    await expect(dialog.getByTestId('as-upcoming')).toHaveText(T.es.none)
    await shot(page, 'a3-agenda-settings-deactivate')
    await axe('deactivate dialog')
    await page.getByTestId('as-deactivate-confirm').click()
    await expect(dialog).toBeHidden()
    const row = cabinetRow(page, `${name} bis`)
    await expect(row).toHaveAttribute('data-active', 'false')
    await expect(row).toContainText(T.es.inactive)
    await expect(row.getByTestId('as-cabinet-reactivate')).toBeVisible()
    await page.getByTestId('nav-agenda').click()
    await expect(page.getByTestId('agenda-colhead').first()).toBeVisible({ timeout: 90_000 })
    await expect(page.getByTestId('agenda-colhead').filter({ hasText: `${name} bis` })).toHaveCount(0)
  })

  test('opening hours: an overlap refused naming the range, then Saturday open in the agenda, then closed again', async ({ page, request }) => {
    test.slow() // the agenda's week on a busy machine
    const axe = (label: string) => expectAccessible(page, `agenda settings: ${label}`)
    await signedIn(page, request)
    await setLanguage(page, 'es')
    await openAgendaSettings(page)
    await saturdayOverlap(page, 'es')
    await page.getByTestId('as-saturday-1-start').scrollIntoViewIfNeeded()
    await shot(page, 'a4-agenda-settings-overlap')
    await axe('hours, overlap refused')
    await page.getByRole('button', { name: 'Quitar el tramo 2 del sábado' }).click()
    await page.getByTestId('as-hours-save').click()
    await expect(page.getByText(T.es.hoursSaved)).toBeVisible()
    await expect(page.getByTestId('as-hours-error')).toHaveCount(0)
    const saved = await apiGet<{ saturday: { start: string; end: string }[] }>(page, '/agenda/hours')
    expect(saved.saturday).toEqual([{ start: '10:00', end: '13:00' }])
    // The agenda's week now has a Saturday, open (a closed weekend with nothing booked takes no room).
    const saturday = new Date()
    saturday.setDate(saturday.getDate() + 35 + ((6 - saturday.getDay() + 7) % 7))
    await page.goto(`${base()}/agenda?view=week&date=${isoDate(saturday)}`)
    const sixth = page.getByTestId('agenda-colhead').nth(5)
    await expect(sixth).toBeVisible({ timeout: 90_000 })
    await expect(sixth).not.toHaveClass(/closed/)
    // Put Saturdays back as they were (other specs book on the demo clinic's usual week).
    await page.goto(`${base()}/settings/agenda`)
    await page.getByTestId('as-day-saturday').locator('label[for=as-open-saturday]').click()
    await page.getByTestId('as-hours-save').click()
    await expect(page.getByText(T.es.hoursSaved)).toBeVisible()
    expect((await apiGet<{ saturday: unknown[] }>(page, '/agenda/hours')).saturday).toEqual([])
  })

  test('closed days: one, then two in a row, the same day twice refused, then reopened', async ({ page, request }) => {
    test.slow()
    const axe = (label: string) => expectAccessible(page, `agenda settings: ${label}`)
    await signedIn(page, request)
    await setLanguage(page, 'es')
    await openAgendaSettings(page)
    const [one] = (await freeDays(page, 200, 1)) as [string]
    const [first, second] = (await freeDays(page, 230, 2)) as [string, string]
    await page.getByTestId('as-holiday-add').click()
    await expect(page.locator('#hol-first-err')).toHaveText(T.es.required)
    await page.locator('#hol-first').fill(one)
    await page.locator('#hol-name').fill(`Fiesta local ${stamp}`)
    await expect(page.getByTestId('as-holiday-add')).toHaveText(T.es.closeDay)
    await page.getByTestId('as-holiday-add').click()
    await expect(page.getByTestId('as-holiday').filter({ hasText: `Fiesta local ${stamp}` })).toHaveAttribute('data-date', one)
    await page.locator('#hol-first').fill(first)
    await page.locator('#hol-last').fill(second)
    await page.locator('#hol-name').fill(`Vacaciones ${stamp}`)
    await expect(page.getByTestId('as-holiday-add')).toHaveText(T.es.closeDays)
    await page.getByTestId('as-holiday-add').click()
    await expect(page.getByTestId('as-holiday').filter({ hasText: `Vacaciones ${stamp}` })).toHaveCount(2)
    const day = await apiGet<{ closed: boolean; holiday: string | null }>(page, `/agenda/day?date=${second}`)
    expect(day).toMatchObject({ closed: true, holiday: `Vacaciones ${stamp}` })
    // The same day again: the API's conflict, in words.
    await page.locator('#hol-first').fill(one)
    await page.locator('#hol-name').fill('Otra vez')
    await page.getByTestId('as-holiday-add').click()
    await expect(page.getByTestId('as-holiday-form')).toContainText('Ese día ya está marcado como cerrado.')
    await page.getByTestId('as-holiday-list').scrollIntoViewIfNeeded()
    await shot(page, 'a5-agenda-settings-holidays')
    await axe('closed days')
    for (const d of [one, first, second]) {
      await page.getByTestId(`as-holiday-remove-${d}`).click()
      await expect(page.getByTestId(`as-holiday-remove-${d}`)).toHaveCount(0)
    }
    const left = await apiGet<{ date: string }[]>(page, '/agenda/holidays')
    expect(left.map((h) => h.date)).not.toContain(one)
  })

  test('in English, from the keyboard: create a cabinet and deactivate it', async ({ page, request }) => {
    test.slow()
    await signedIn(page, request)
    await setLanguage(page, 'en')
    await openAgendaSettings(page)
    const name = `Keyboard ${stamp}`
    await page.getByTestId('as-cabinet-add').focus()
    await page.keyboard.press('Enter')
    await expect(page.locator('#cab-name')).toBeFocused()
    await page.keyboard.type(name)
    await page.keyboard.press('Tab') // the colours: one stop, the arrows choose
    await expect(page.locator('input[name=cab-colour]:checked')).toBeFocused()
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('ArrowRight')
    await expect(page.getByLabel('Blue')).toBeChecked()
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Enter') // submits from the name
    await expect(page.getByTestId('as-cabinet-form')).toBeHidden()
    const row = cabinetRow(page, name)
    await expect(row).toContainText('Blue')
    // The focus is back on the page: the row's own button, then the dialog from the keyboard.
    await row.getByRole('button', { name: `Deactivate ${name}` }).focus()
    await page.keyboard.press('Enter')
    await expect(page.getByTestId('as-upcoming')).toHaveText(T.en.none)
    await expect(page.getByTestId('as-deactivate-dialog').getByRole('button', { name: 'Cancel' })).toBeFocused()
    await page.keyboard.press('Tab')
    await expect(page.getByTestId('as-deactivate-confirm')).toBeFocused()
    await page.keyboard.press('Enter')
    await expect(row).toHaveAttribute('data-active', 'false')
    // Reactivate and deactivate again, still from the keyboard.
    await row.getByRole('button', { name: `Reactivate ${name}` }).focus()
    await page.keyboard.press('Enter')
    await expect(row).toHaveAttribute('data-active', 'true')
    await row.getByRole('button', { name: `Deactivate ${name}` }).focus()
    await page.keyboard.press('Enter')
    await expect(page.getByTestId('as-upcoming')).toBeVisible()
    // As the first time: the dialog gives the focus to Cancel once it has opened; a Tab
    // pressed before that lands behind the dialog.
    await expect(page.getByTestId('as-deactivate-dialog').getByRole('button', { name: 'Cancel' })).toBeFocused()
    await page.keyboard.press('Tab')
    await expect(page.getByTestId('as-deactivate-confirm')).toBeFocused()
    await page.keyboard.press('Enter')
    await expect(row).toHaveAttribute('data-active', 'false')
  })

  for (const lang of ['es', 'en'] as const) {
    test(`every agenda settings state passes axe-core (${lang}), on a desktop and a phone`, async ({ page, request }) => {
      test.slow()
      await signedIn(page, request)
      await setLanguage(page, lang)
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: width > 500 ? 800 : 844 })
        const axe = (label: string) => expectAccessible(page, `agenda settings: ${label}`)
        await page.goto(`${base()}/settings/agenda`)
        await expect(page.getByTestId('as-cabinet-list')).toBeVisible()
        await expect(page.getByRole('tab', { name: T[lang].tab })).toHaveAttribute('aria-selected', 'true')
        // Nothing wider than the screen.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width)
        await axe('the tab')
        await shot(page, `a8-agenda-settings-${lang}-${width}`)
        await page.getByTestId('as-cabinet-add').click()
        await page.getByTestId('as-cabinet-save').click()
        await expect(page.locator('#cab-name-err')).toHaveText(T[lang].required)
        await axe('new cabinet, name missing')
        await page.keyboard.press('Escape')
        await expect(page.getByTestId('as-cabinet-form')).toBeHidden()
        const active = page.locator('[data-testid=as-cabinet][data-active=true]').first()
        await active.getByTestId('as-cabinet-deactivate').click()
        await expect(page.getByTestId('as-upcoming')).toBeVisible()
        await axe('deactivate dialog')
        if (width < 500) await shot(page, `a6-agenda-settings-deactivate-${lang}-phone`)
        await page.keyboard.press('Escape')
        await expect(page.getByTestId('as-deactivate-dialog')).toBeHidden()
        await saturdayOverlap(page, lang) // refused: nothing saved
        await axe('hours, overlap refused')
        await shot(page, `a7-agenda-settings-overlap-${lang}-${width}`)
        await page.locator('#hol-first').fill(inDays(240))
        await page.locator('#hol-last').fill(inDays(239))
        await page.getByTestId('as-holiday-add').click()
        await expect(page.locator('#hol-last-err')).toBeVisible()
        await axe('closed days, range backwards')
      }
      await page.setViewportSize({ width: 1280, height: 800 })
      expect((await apiGet<{ saturday: unknown[] }>(page, '/agenda/hours')).saturday).toEqual([])
    })
  }
})
