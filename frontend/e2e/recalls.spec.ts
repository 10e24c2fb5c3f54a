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

    const link = await mailedBookingLink(request, email)
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
