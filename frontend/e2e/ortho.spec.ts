// Orthodontic case tracking against the real local stack: the admin starts an aligner case on
// a new patient (started two months ago, from the record's Ortodoncia tab), records a tray
// change a month back, so the next change is overdue; /ortho shows the overdue alert on top of
// the figures and active cases; the reminder is sent from there (the patient consented to
// email), lands in the developer outbox, and a second one the same day is refused with words.
// Axe-core at desktop and phone widths on the tab, its dialogs and /ortho.
import { test, expect, type APIRequestContext, type Page } from './test'
import { apiCall, apiStatus, base, expectAccessible, isoDate, setLanguage, shot, signIn } from './helpers'

const stamp = Date.now().toString(36).slice(-5)
const EMAIL = `orto-${stamp}@example.com`
const daysAgo = (n: number) => isoDate(new Date(Date.now() - n * 86_400_000))

async function accessible(page: Page, label: string, name: string) {
  await page.addStyleTag({ content: '[data-testid="live-toast"] { display: none !important; }' })
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width > 500 ? 800 : 844 })
    await expectAccessible(page, label)
    await shot(page, `${name}-${width > 500 ? 'desktop' : 'phone'}`)
  }
  await page.setViewportSize({ width: 1280, height: 800 })
}

async function mailedTo(request: APIRequestContext, to: string): Promise<{ subject: string }> {
  const outbox = process.env.E2E_OUTBOX_URL
  expect(outbox, 'the local stack printed no developer outbox URL (test-artifacts/stack.log)').toBeTruthy()
  const key = new URL(outbox!).searchParams.get('key')
  let found: { subject: string } | undefined
  await expect(async () => {
    const list = await (await request.get(`${base()}/_local/outbox/messages.json?key=${key}`)).json()
    found = (list.mail as { to: string[]; subject: string }[]).find((m) => m.to.some((x) => x.includes(to)))
    expect(found, `no mail to ${to} yet`).toBeTruthy()
  }).toPass({ timeout: 60_000 })
  return found!
}

test('an aligner case: start, change tray, overdue alert on /ortho, reminder in the outbox', async ({ page, request }) => {
  test.setTimeout(420_000)
  await signIn(page, 'admin@demo.clinic')
  await setLanguage(page, 'es')
  const p = await apiCall<{ patient_id: string }>(page, 'POST', '/patients', {
    first_name: 'Olivia', last_name: `Orto${stamp}`, date_of_birth: '1995-05-06', gender: 'female', language: 'es', email: EMAIL,
  })
  await apiCall(page, 'PUT', `/comms/patients/${p.patient_id}/consents/email`, { granted: true, source: 'paper_form' })

  // ---- the record tab: no case yet; start one ----
  await page.goto(`${base()}/patients/${p.patient_id}/ortho`)
  await expect(page.getByText('Este paciente no tiene ningún caso de ortodoncia.')).toBeVisible()
  await accessible(page, 'ortodoncia (sin caso)', 'ortho-empty')
  await page.getByTestId('ortho-start').focus()
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('ortho-appliance')).toBeVisible()
  await page.getByTestId('ortho-appliance').selectOption('aligners')
  await page.getByTestId('ortho-trays').fill('20')
  await page.getByTestId('ortho-start-date').fill(daysAgo(60))
  await accessible(page, 'nuevo caso de ortodoncia', 'ortho-start')
  await page.getByTestId('ortho-start-submit').click()
  const counter = page.getByTestId('ortho-tray')
  await expect(counter).toHaveText('Férula 1 de 20')
  await expect(page.getByTestId('ortho-case')).toContainText('Alineación y nivelación')
  await accessible(page, 'caso de ortodoncia', 'ortho-case')

  // ---- a tray change a month ago: the next change (14 days per tray) is overdue ----
  await page.getByTestId('ortho-change-tray').click()
  await expect(page.getByTestId('ortho-tray-number')).toHaveValue('2')
  await page.locator('#ortho-tray-form input[type="date"]').fill(daysAgo(30))
  await accessible(page, 'cambio de férula', 'ortho-tray')
  await page.getByTestId('ortho-tray-submit').click()
  await expect(counter).toHaveText('Férula 2 de 20')

  // a tray beyond the total is refused with words
  const cases = await apiCall<{ items: { case_id: string }[] }>(page, 'GET', `/patients/${p.patient_id}/ortho/cases`)
  const caseId = cases.items[0]!.case_id
  expect(await apiStatus(page, 'POST', `/patients/${p.patient_id}/ortho/cases/${caseId}/tray-changes`, { tray: 21, date: daysAgo(0) })).toBe(422)

  // ---- /ortho: the overdue alert, the reminder ----
  await page.goto(`${base()}/ortho`)
  await expect(page.getByTestId('ortho-figures')).toBeVisible()
  const alert = page.getByTestId('ortho-alert-tray').filter({ hasText: `Orto${stamp}` })
  await expect(alert).toContainText('Cambio de férula atrasado')
  await expect(alert).toContainText(/Vencido hace 1[67] días/) // the clinic's day (Madrid) may be a day ahead of UTC
  await expect(page.getByTestId('ortho-active')).toContainText(`Orto${stamp}`)
  await accessible(page, '/ortho', 'ortho-list')
  await alert.getByRole('button', { name: /Enviar recordatorio/ }).click()
  await expect(page.getByText('Recordatorio enviado por email')).toBeVisible()
  await expect(alert).toContainText('Recordatorio enviado hoy')
  const mail = await mailedTo(request, EMAIL)
  expect(mail.subject).toBe('Toca cambiar de férula')

  // a second reminder for the same alert the same day is refused
  const again = await page.evaluate(async ({ pid, cid }) => {
    const s = JSON.parse(localStorage.getItem('cuspide.session')!) as { accessToken: string }
    const r = await fetch(`/api/v1/patients/${pid}/ortho/cases/${cid}/reminders`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.accessToken}`, 'Accept-Language': 'es' },
      body: JSON.stringify({ kind: 'tray' }),
    })
    return { status: r.status, body: await r.json() }
  }, { pid: p.patient_id, cid: caseId })
  expect(again.status).toBe(409)
  expect(again.body.message).toContain('Ya se envió hoy')

  // ---- the home dashboard card ----
  await page.goto(`${base()}/`)
  await expect(page.getByTestId('dashboard-ortho')).toBeVisible()
})
