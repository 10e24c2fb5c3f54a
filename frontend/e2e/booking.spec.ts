import { test, expect, type APIRequestContext, type Browser } from './test'
import { apiGet, base, expectAccessible, signIn } from './helpers'

// Online booking (ADRs 1402, 1403): on a phone, a new patient opens Clínica Demo's public
// booking page, picks a type and a free slot, proves the page's proof of work, gets the code
// from the developer outbox, registers with consent to the privacy notice and books; then the
// admin sees the appointment on that day in the agenda, marked online. axe on every step of the
// public page, and a desktop check of Settings → Online booking.
const stamp = Date.now().toString(36).slice(-5)
const email = `online-e2e-${stamp}@example.com`
const lastName = `Reserva${stamp}`

/** The 6-digit code in the newest mail to `to` in the developer outbox. */
async function mailedCode(request: APIRequestContext, to: string): Promise<string> {
  const outbox = process.env.E2E_OUTBOX_URL
  expect(outbox, 'the local stack printed no developer outbox URL (test-artifacts/stack.log)').toBeTruthy()
  const key = new URL(outbox!).searchParams.get('key')
  let code = ''
  await expect(async () => {
    const list = await (await request.get(`${base()}/_local/outbox/messages.json?key=${key}`)).json()
    const mail = (list.mail as { id: string; to: string[] }[]).find((m) => m.to.some((x) => x.includes(to)))
    expect(mail, `no mail to ${to} yet`).toBeTruthy()
    let found: RegExpMatchArray | null = null
    for (const part of ['text', 'html']) {
      const r = await request.get(`${base()}/_local/outbox/mail/${mail!.id}/${part}?key=${key}`)
      found = r.ok() ? (await r.text()).match(/\b(\d{6})\b/) : null
      if (found) break
    }
    expect(found, 'the mail carries no code').toBeTruthy()
    code = found![1]!
  }).toPass({ timeout: 60_000 })
  return code
}

async function staffPage(browser: Browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await ctx.newPage()
  await signIn(page, 'admin@demo.clinic')
  return page
}

test.describe.serial('online booking', () => {
  test('phone: a new patient books online, and the admin sees it in the agenda marked online', async ({ browser, request }) => {
    const staff = await staffPage(browser)
    const settings = await apiGet<{ public_url: string; enabled: boolean }>(staff, '/booking/settings')
    expect(settings.enabled).toBe(true)
    const url = `${base()}${new URL(settings.public_url).pathname}`

    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'es-ES', hasTouch: true, isMobile: true })
    const page = await ctx.newPage()
    await page.goto(url)
    await expect(page.getByRole('heading', { name: 'Pedir cita' })).toBeVisible()
    await expectAccessible(page, 'booking: types (phone)')
    await page.getByRole('link', { name: /Revisión · 30 min/ }).click()
    await expect(page.getByRole('heading', { name: /Elija día y hora/ })).toBeVisible()
    await expectAccessible(page, 'booking: slots (phone)')
    const slot = page.locator('.slots a').first()
    const href = (await slot.getAttribute('href'))!
    const start = decodeURIComponent(new URL(href, base()).searchParams.get('start')!) // 2026-12-09T10:30
    await slot.click()
    await expect(page.getByRole('heading', { name: 'Identifíquese' })).toBeVisible()
    await expectAccessible(page, 'booking: identify (phone)')
    await page.getByLabel('Correo electrónico').fill(email)
    await page.getByRole('button', { name: 'Enviar código' }).click()
    // the page's script solves the proof of work, then posts the form
    await expect(page.getByLabel('Código de 6 dígitos')).toBeVisible({ timeout: 90_000 })
    await expectAccessible(page, 'booking: code (phone)')
    await page.getByLabel('Código de 6 dígitos').fill(await mailedCode(request, email))
    await page.getByRole('button', { name: 'Continuar' }).click()
    await expect(page.getByRole('heading', { name: 'Sus datos' })).toBeVisible()
    await expect(page.getByText('DNI')).toHaveCount(0)
    await page.getByLabel('Nombre', { exact: true }).fill('Marina')
    await page.getByLabel('Apellidos').fill(lastName)
    await page.getByLabel('Fecha de nacimiento').fill('1988-06-15')
    await page.getByLabel('Teléfono').fill('+34600123456')
    await expectAccessible(page, 'booking: new patient (phone)')
    // the privacy notice is required
    await page.getByRole('button', { name: 'Reservar cita' }).click()
    await expect(page.getByRole('heading', { name: 'Sus datos' })).toBeVisible()
    await page.getByLabel(/aviso de privacidad/).check()
    await page.getByRole('button', { name: 'Reservar cita' }).click()
    await expect(page.getByRole('heading', { name: '¡Cita reservada!' })).toBeVisible()
    await expectAccessible(page, 'booking: done (phone)')
    await ctx.close()

    // Staff: the appointment is on that day, marked online
    const day = start.slice(0, 10)
    await staff.goto(`${base()}/agenda?date=${day}`)
    await expect(staff.getByTestId('agenda-grid')).toBeVisible()
    const appt = staff.locator('.appt', { hasText: `Marina ${lastName}` })
    await expect(appt).toBeVisible({ timeout: 30_000 })
    await expect(appt.getByTestId('appt-online')).toBeAttached()
    await expect(appt).toContainText(start.slice(11, 16))
    await expect(appt.locator('.sr-only', { hasText: 'Reserva online' })).toBeAttached()
    await staff.context().close()
  })

  test('desktop: Settings → Online booking shows the link, the widget and the types', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    await page.goto(`${base()}/settings/booking`)
    await expect(page.getByTestId('booking-settings')).toBeVisible()
    await expect(page.getByTestId('booking-public-url')).toContainText('/api/v1/public/booking/')
    await expect(page.getByTestId('booking-snippet')).toHaveValue(/widget\.js/)
    await expect(page.getByTestId('booking-type')).toHaveCount(3)
    // The demo Bridge device's captures arrive as live toasts meanwhile (fading in while axe
    // looks): close them from their own button first, so axe sees this screen.
    await expect(async () => {
      for (const close of await page.getByTestId('live-toast').getByRole('button', { name: 'Cerrar' }).all()) await close.click().catch(() => {})
      await expect(page.getByTestId('live-toast')).toHaveCount(0, { timeout: 2_000 })
    }).toPass({ timeout: 30_000 })
    await expectAccessible(page, 'settings: online booking (desktop)')
    await page.getByTestId('booking-save').click()
    await expect(page.getByText('Reserva online guardada')).toBeVisible()
  })
})
