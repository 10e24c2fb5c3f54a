import { test, expect, type APIRequestContext } from './test'
import { apiCall, base, expectAccessible, shot, signIn } from './helpers'

// Lab cases: a case created on its full-page form, sent to the lab (the email lands in the
// developer outbox), opened by the lab through that link in a second browser context (no
// account), moved to in progress and shipped there; the clinic's open case screen and the
// dashboard update at once, without a reload. Axe at desktop and phone widths.
const stamp = Date.now().toString(36).slice(-5)
const labEmail = `lab-e2e-${stamp}@example.com`

async function mailedLabLink(request: APIRequestContext, to: string): Promise<string> {
  const outbox = process.env.E2E_OUTBOX_URL
  expect(outbox, 'the local stack printed no developer outbox URL (test-artifacts/stack.log)').toBeTruthy()
  const key = new URL(outbox!).searchParams.get('key')
  let link = ''
  await expect(async () => {
    const list = await (await request.get(`${base()}/_local/outbox/messages.json?key=${key}`)).json()
    const mail = (list.mail as { id: string; to: string[] }[]).find((m) => m.to.some((x) => x.includes(to)))
    expect(mail, `no mail to ${to} yet`).toBeTruthy()
    let found: RegExpMatchArray | null = null
    for (const part of ['text', 'html']) {
      const r = await request.get(`${base()}/_local/outbox/mail/${mail!.id}/${part}?key=${key}`)
      found = r.ok() ? (await r.text()).replace(/=\r?\n/g, '').match(/https?:\/\/[^\s"'<>]*\/api\/v1\/public\/lab-cases\/[\w.~-]+/) : null
      if (found) break
    }
    expect(found, 'the mail carries no lab link').toBeTruthy()
    link = found![0]
  }).toPass({ timeout: 60_000 })
  return `${base()}${new URL(link).pathname}`
}

test('a lab case sent to the lab, moved to shipped through its link, seen live by the clinic', async ({ page, browser, request }) => {
  await signIn(page, 'admin@demo.clinic')
  const lab = await apiCall<{ lab_id: string }>(page, 'POST', '/labs', { name: `Lab E2E ${stamp}`, email: labEmail })
  const p = await apiCall<{ patient_id: string }>(page, 'POST', '/patients', {
    first_name: 'Rocío', last_name: `Laboratorio${stamp}`, date_of_birth: '1981-02-03', gender: 'female', language: 'es',
  })

  // The full-page form, from the patient's labs tab.
  await page.goto(`${base()}/patients/${p.patient_id}/labs`)
  await expect(page.getByTestId('patient-labs-tab')).toBeVisible()
  await page.getByTestId('patient-lab-new').click()
  await expect(page.getByTestId('lab-case-form')).toBeVisible()
  await page.getByTestId('lc-lab').click()
  await page.getByRole('option', { name: `Lab E2E ${stamp}` }).click()
  // A tooth that is not FDI is refused before anything is sent.
  await page.getByTestId('lc-teeth').fill('19')
  await page.getByTestId('lc-due').fill('2030-06-01')
  await page.getByTestId('lc-save').click()
  await expect(page.getByText('Escribe números FDI válidos')).toBeVisible()
  await page.getByTestId('lc-teeth').fill('36, 37')
  await page.getByTestId('lc-shade').fill('A2')
  await page.getByTestId('lc-material').fill('Zirconio')
  await page.getByTestId('lc-instructions').fill('Puente de dos piezas, margen yuxtagingival.')
  await expectAccessible(page, 'new lab case form')
  await page.getByTestId('lc-save').click()
  await expect(page.getByTestId('lab-case-status')).toHaveText('Borrador')
  await expect(page).toHaveURL(/\/labs\/cases\/[0-9A-Z]{26}$/)

  await page.getByTestId('lc-send').click()
  await expect(page.getByText(`Enlace enviado a ${labEmail}`).first()).toBeVisible()
  await expect(page.getByTestId('lab-case-status')).toHaveText('Enviado')
  await expectAccessible(page, 'lab case sent')
  await shot(page, 'labs-case-sent-es-desktop')

  // The lab, in a browser of its own with no account, opens the link from the email.
  const link = await mailedLabLink(request, labEmail)
  const labContext = await browser.newContext()
  const labPage = await labContext.newPage()
  await labPage.goto(link)
  await expect(labPage.getByRole('heading', { level: 1 })).toContainText('Caso de laboratorio')
  await expect(labPage.locator('main')).toContainText('36, 37')
  await expect(labPage.locator('main')).toContainText('R. L.') // initials only
  await expect(labPage.locator('main')).not.toContainText('Rocío')
  await expectAccessible(labPage, 'the lab page')
  await labPage.getByRole('button', { name: 'Marcar en fabricación' }).click()
  await expect(labPage.locator('main')).toContainText('En fabricación')
  // The clinic's open screen follows, without a reload.
  await expect(page.getByTestId('lab-case-status')).toHaveText('En fabricación', { timeout: 20_000 })
  await labPage.getByLabel('Fecha de entrega prevista').fill('2030-05-28')
  await labPage.getByRole('button', { name: 'Guardar fecha' }).click()
  // The lab uploads its STL through the page's presigned upload; the clinic sees the file live.
  await labPage.getByLabel('Subir un archivo').setInputFiles({ name: 'puente-36-37.stl', mimeType: 'model/stl', buffer: Buffer.from('solid puente\nendsolid puente\n') })
  await labPage.getByRole('button', { name: 'Subir', exact: true }).click()
  await expect(labPage.getByRole('link', { name: 'puente-36-37.stl' })).toBeVisible({ timeout: 20_000 })
  await expect(page.getByTestId('lc-file').filter({ hasText: 'puente-36-37.stl' })).toContainText('el laboratorio', { timeout: 20_000 })
  await labPage.getByRole('button', { name: 'Marcar como enviado' }).click()
  await expect(labPage.locator('main')).toContainText('Enviado por el laboratorio')
  await shot(labPage, 'labs-lab-page-shipped')

  await expect(page.getByTestId('lab-case-status')).toHaveText('Enviado por el laboratorio', { timeout: 20_000 })
  await expect(page.getByTestId('lc-expected')).toBeVisible()
  await expect(page.getByTestId('lc-history').locator('[data-by="lab"]')).toHaveCount(2)

  // Revoking ends the lab's access: its page now says so.
  await page.getByTestId('lc-revoke').click()
  await expect(page.getByTestId('lc-link-state')).toContainText('Sin enlace activo')
  await labPage.reload()
  await expect(labPage.locator('main')).toContainText('ya no es válido')
  await labContext.close()

  // The dashboard, desktop then phone.
  await page.goto(`${base()}/labs`)
  await expect(page.getByTestId('labs-alerts')).toBeVisible()
  await expect(page.locator('[data-testid="lab-case-row"][data-status="shipped"]').filter({ hasText: `Rocío Laboratorio${stamp}` })).toBeVisible()
  await expectAccessible(page, 'labs dashboard')
  await shot(page, 'labs-dashboard-es-desktop')
  await page.getByTestId('labs-tab-labs').click()
  await expect(page.getByTestId('labs-directory')).toContainText(`Lab E2E ${stamp}`)
  await expectAccessible(page, 'labs directory')
  await page.setViewportSize({ width: 390, height: 844 })
  await page.getByTestId('labs-tab-cases').click()
  await expectAccessible(page, 'labs dashboard phone')
  await shot(page, 'labs-dashboard-es-phone')
  await page.goto(`${base()}/patients/${p.patient_id}/labs`)
  await expect(page.getByTestId('lab-case-row')).toHaveCount(1)
  await expectAccessible(page, 'patient labs tab phone')
})
