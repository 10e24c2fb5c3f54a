import { test, expect } from './test'
import { base, apiCall, apiGet, expectAccessible, setLanguage, signIn } from './helpers'
import { mailedBookingLink } from './outbox'

// Recalls and follow-ups (ADR 1404): the admin opens Follow-up from the sidebar, sees the
// recalls due, sends a reminder now to a patient who consented to email; the mail reaches the
// developer outbox with a booking invitation for that patient, and the record shows what was
// sent. At phone width, in English, the follow-up lists and the settings are used from the
// keyboard and pass axe.
const stamp = Date.now().toString(36)
const email = `recall-e2e-${stamp}@example.com`

interface Rule { rule_id: string; codes: string[] }

test.describe.serial('recalls and follow-ups', () => {
  let pid = ''
  let link = ''
  let ruleId = ''

  test('desktop, Spanish: a recall due is reminded now, with a booking link, and shows on the record', async ({ page, request }) => {
    await signIn(page, 'admin@demo.clinic')
    const p = await apiCall<{ patient_id: string }>(page, 'POST', '/patients', {
      first_name: 'Ramona', last_name: `Revisión${stamp}`, date_of_birth: '1968-02-14', gender: 'female', email, language: 'es',
    })
    pid = p.patient_id
    await apiCall(page, 'PUT', `/comms/patients/${pid}/consents/email`, { granted: true, source: 'paper_form' })
    const rules = await apiGet<Rule[]>(page, '/recalls/rules')
    const checkup = rules.find((r) => r.codes.includes('REV'))!
    // overdue by a year: first on the list, whatever the demo has due
    const due = new Date(Date.now() - 365 * 86400_000).toISOString().slice(0, 10)
    await apiCall(page, 'PUT', `/patients/${pid}/recalls/${checkup.rule_id}`, { due })

    await page.getByRole('link', { name: 'Seguimiento' }).first().click()
    await expect(page).toHaveURL(/\/followup/)
    await expect(page.getByRole('heading', { name: 'Seguimiento' })).toBeVisible()
    const list = page.getByTestId('recalls-due')
    await expect(list).toBeVisible()
    expect(await list.locator('li').count()).toBeGreaterThan(1) // the demo's recalls too
    const row = page.getByTestId(`recall-${pid}`)
    await expect(row).toContainText(`Ramona Revisión${stamp}`)
    await expect(row).toContainText('Vencida hace')
    await expect(row.getByTestId('last-sent')).toContainText('Nada enviado')
    await expectAccessible(page, 'follow-up: recalls due')

    await row.getByTestId('recall-send').click()
    await expect(page.getByText('Mensaje enviado')).toBeVisible()
    await expect(row.getByTestId('last-sent')).toContainText('Último envío')

    link = await mailedBookingLink(request, email)
    ruleId = checkup.rule_id
    const u = new URL(link)
    expect(u.pathname).toMatch(/^\/api\/v1\/public\/booking\/[0-9A-Z]+$/)
    expect(u.searchParams.get('invite')).toBeTruthy()
    expect(u.searchParams.get('ref')).toMatch(/^recall:[0-9A-Z]+$/)

    // the patient's record: the recall, what was sent, and the message in the messages tab
    await row.getByRole('link', { name: `Ramona Revisión${stamp}` }).click()
    await expect(page).toHaveURL(new RegExp(`/patients/${pid}/recalls`))
    const mine = page.getByTestId('patient-recalls')
    await expect(mine).toContainText('Revisión y limpieza')
    await expect(mine.getByTestId('recall-sent')).toHaveCount(1)
    await expectAccessible(page, 'patient record: recalls')
    const msgs = await apiGet<{ items: { kind: string; status: string }[] }>(page, `/comms/patients/${pid}/messages`)
    expect(msgs.items.map((m) => [m.kind, m.status])).toContainEqual(['recall', 'sent'])
    // the same day a second one is refused, with words
    await page.goto(`${base()}/followup/recalls`)
    await page.getByTestId(`recall-${pid}`).getByTestId('recall-send').click()
    await expect(page.getByText('Ya se envió un mensaje hoy')).toBeVisible()
  })

  test('phone: the patient follows the reminder\'s link and books without a code; the recall is booked', async ({ browser, page }) => {
    expect(link, 'the first test mailed the link').toBeTruthy()
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'es-ES', hasTouch: true, isMobile: true })
    const patient = await phone.newPage()
    await patient.goto(link)
    await expect(patient.getByText('Hola, Ramona. Elija su cita.')).toBeVisible()
    await expectAccessible(patient, 'booking from a recall: types (phone)')
    await patient.getByRole('link', { name: /Revisión · 30 min/ }).click()
    await expect(patient.getByRole('heading', { name: /Elija día y hora/ })).toBeVisible()
    await patient.locator('.slots a').first().click()
    // the invitation identifies her: no email, no code
    await expect(patient.getByRole('heading', { name: 'Confirme su cita' })).toBeVisible()
    await expect(patient.getByLabel('Correo electrónico')).toHaveCount(0)
    await expectAccessible(patient, 'booking from a recall: confirm (phone)')
    await patient.getByRole('button', { name: 'Reservar cita' }).click()
    await expect(patient.getByRole('heading', { name: '¡Cita reservada!' })).toBeVisible()
    await phone.close()

    await signIn(page, 'admin@demo.clinic')
    const appts = await apiGet<{ items: { source: string; booking_ref: string | null }[] }>(page, `/patients/${pid}/appointments`)
    expect(appts.items.some((a) => a.source === 'online' && (a.booking_ref ?? '').startsWith('recall:'))).toBe(true)
    // the recalls consumer hears appointment.scheduled: the reminders stop
    await expect(async () => {
      const r = await apiGet<{ recalls: { rule_id: string; status: string }[] }>(page, `/patients/${pid}/recalls`)
      expect(r.recalls.find((x) => x.rule_id === ruleId)?.status).toBe('booked')
    }).toPass({ timeout: 60_000 })
  })

  test.describe('at phone width', () => {
    test.use({ viewport: { width: 390, height: 844 }, hasTouch: true })

    test('English, from the keyboard: the follow-up lists and the settings pass axe', async ({ page }) => {
      await signIn(page, 'admin@demo.clinic')
      await setLanguage(page, 'en')
      await page.goto(`${base()}/followup/recalls`)
      await expect(page.getByTestId('recalls-due')).toBeVisible()
      const tab = page.getByTestId('followup-tab-recalls')
      await tab.focus()
      await page.keyboard.press('ArrowRight')
      await page.keyboard.press('Enter')
      await expect(page).toHaveURL(/\/followup\/budget/)
      await expect(page.getByTestId('followups-budget')).toBeVisible() // the demo's unanswered estimates
      await expectAccessible(page, 'follow-up: estimates (phone)')
      await page.goto(`${base()}/followup/noshow`)
      await expect(page.getByTestId('followups-noshow')).toBeVisible()
      const [scroll, client] = await page.locator('main').evaluate((el) => [el.scrollWidth, el.clientWidth])
      expect(scroll, 'the page scrolls sideways').toBeLessThanOrEqual(client + 1)
      await page.goto(`${base()}/settings/recalls`)
      await expect(page.getByTestId('recall-rules')).toContainText('Check-up and cleaning')
      await expect(page.getByTestId('followup-settings')).toBeVisible()
      await expectAccessible(page, 'settings: recalls (phone)')
    })

    test('reception sees Follow-up but not its settings', async ({ page }) => {
      await signIn(page, 'reception@demo.clinic')
      await page.goto(`${base()}/followup`)
      await expect(page.getByTestId('recalls-due')).toBeVisible()
      await page.goto(`${base()}/settings/recalls`)
      await expect(page.getByTestId('recall-rules')).toHaveCount(0)
    })
  })
})
