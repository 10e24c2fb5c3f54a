import { test, expect, type Page, type APIRequestContext } from './test'
import { apiCall, base, expectAccessible, setLanguage, shot, signIn } from './helpers'

// Budgets: from a patient's record, a budget built from the catalog with the tooth picked on the
// chart, sent (the email lands in the local outbox), accepted in part by the patient through the
// link with a drawn signature (a blank one refused), seen accepted in the staff app with its
// signed PDF; a role that may read budgets but not write them sees no write action; axe in
// Spanish and English, desktop and phone.
const stamp = Date.now().toString(36).slice(-5)
const email = `budget-e2e-${stamp}@example.com`

/** A patient with an email address and consent to email (the API, as the signed-in admin). */
async function newPatient(page: Page): Promise<string> {
  const p = await apiCall<{ patient_id: string }>(page, 'POST', '/patients', {
    first_name: 'Begoña', last_name: `Presupuesto${stamp}`, date_of_birth: '1979-05-11', gender: 'female', email, language: 'es',
  })
  await apiCall(page, 'PUT', `/comms/patients/${p.patient_id}/consents/email`, { granted: true, source: 'paper_form' })
  return p.patient_id
}

/** The budget link in the newest mail to `to` in the developer outbox. */
async function mailedBudgetLink(request: APIRequestContext, to: string): Promise<string> {
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
      found = r.ok() ? (await r.text()).replace(/=\r?\n/g, '').match(/https?:\/\/[^\s"'<>]*\/api\/v1\/public\/budgets\/[\w.~-]+/) : null
      if (found) break
    }
    expect(found, 'the mail carries no budget link').toBeTruthy()
    link = found![0]
  }).toPass({ timeout: 60_000 })
  return `${base()}${new URL(link).pathname}` // the stack's own address
}

/** Pick an option of a PrimeVue Select with a filter. */
async function pickTreatment(page: Page, index: number, text: string) {
  await page.getByTestId(`budget-line-${index}-treatment`).click()
  await page.locator('.p-select-overlay input').fill(text)
  await page.locator('.p-select-overlay [role="option"]').filter({ hasText: text }).first().click()
}

test.describe.serial('budgets', () => {
  let pid = ''
  let number = ''
  let link = ''

  test('desktop, Spanish: a budget from the catalog with the tooth on the chart, sent by email', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    pid = await newPatient(page)
    await page.goto(`${base()}/patients/${pid}/budgets`)
    await expect(page.getByText('No hay presupuestos')).toBeVisible()
    await page.getByTestId('budget-new').click()
    const form = page.getByTestId('budget-form')
    await expect(form).toBeVisible()
    // Saving with nothing picked says what is missing, and nothing is created.
    await page.getByTestId('budget-save').click()
    await expect(form.getByText('Elige un tratamiento del catálogo.')).toBeVisible()

    await pickTreatment(page, 0, 'OBT1')
    // A per-surface filling: the tooth on the chart (the keyboard moves on it too), a surface.
    await page.getByTestId('budget-line-0-tooth-36').click()
    await expect(page.getByTestId('budget-line-0-tooth')).toHaveValue('36')
    await expect(page.getByTestId('budget-line-0-tooth-36')).toHaveAttribute('aria-pressed', 'true')
    await page.getByTestId('budget-line-0-surface-O').click()
    await page.getByTestId('budget-add-line').click()
    await pickTreatment(page, 1, 'LIMP')
    await page.locator('#bl-1-disc').fill('10')
    await expectAccessible(page, 'budget editor')
    await shot(page, 'budgets-editor-es-desktop')
    await page.getByTestId('budget-save').click()

    const detail = page.getByTestId('budget-detail')
    await expect(detail).toBeVisible()
    await expect(page.getByTestId('budget-status')).toHaveText('Borrador')
    // 55,00 + 60,00 − 10 % = 109,00 € (exempt): the server's total.
    await expect(page.getByTestId('budget-total')).toHaveText(/109,00\s€/)
    await expect(page.getByTestId('budget-detail-line-0')).toContainText('36 O')
    number = (await detail.locator('h2').innerText()).split('·')[0]!.trim()

    await page.getByTestId('budget-send').click()
    await expect(page.getByText(`Enviado por email a ${email}`).first()).toBeVisible()
    await expect(page.getByTestId('budget-status')).toHaveText('Enviado')
    await expect(page.getByTestId('budget-sent-to')).toContainText(email)
    await expect(page.getByTestId('budget-history')).toContainText('Enviado')
    await expectAccessible(page, 'budget detail sent')
    await shot(page, 'budgets-detail-sent-es-desktop')
  })

  test('the patient refuses a blank signature and accepts part of it with a drawn one', async ({ page, request }) => {
    link = await mailedBudgetLink(request, email)
    // The server refuses a blank drawing even without the page's script: 422, nothing written.
    const lineId = (await (await page.request.get(link)).text()).match(/name='line_ids' value='([^']+)'/)![1]!
    const blank = await page.request.post(link, {
      form: { signer_name: 'Begoña Presupuesto', relationship: 'El propio paciente', signature: BLANK_PNG, line_ids: lineId },
    })
    expect(blank.status()).toBe(422)
    expect(await blank.text()).toContain('La firma está en blanco')
    // Nothing ticked accepts nothing (a browser leaves unticked boxes out of the form).
    const none = await page.request.post(link, { form: { signer_name: 'Begoña Presupuesto', signature: BLANK_PNG } })
    expect(none.status()).toBe(422)
    expect(await none.text()).toContain('Marque al menos un tratamiento')

    await page.goto(link)
    await expect(page.getByRole('heading', { level: 1 })).toContainText(number)
    await expectAccessible(page, 'patient budget page')
    await page.getByLabel('Nombre y apellidos de quien firma').fill('Begoña Presupuesto')
    // Submitted without drawing: the page says so and stays.
    await page.getByRole('button', { name: 'Acepto el presupuesto' }).click()
    await expect(page.getByText('La firma está en blanco')).toBeVisible()
    // The cleaning is not accepted; the filling is, signed with the mouse.
    const boxes = page.locator('input[name="line_ids"]')
    await boxes.nth(1).uncheck()
    const canvas = page.locator('canvas')
    const r = (await canvas.boundingBox())!
    await page.mouse.move(r.x + 30, r.y + r.height * 0.7)
    await page.mouse.down()
    for (const [fx, fy] of [[0.15, 0.3], [0.25, 0.75], [0.35, 0.25], [0.45, 0.7], [0.6, 0.4]] as const) await page.mouse.move(r.x + r.width * fx, r.y + r.height * fy, { steps: 5 })
    await page.mouse.up()
    await shot(page, 'budgets-patient-page-signed')
    await page.getByRole('button', { name: 'Acepto el presupuesto' }).click()
    await expect(page.getByRole('heading', { name: 'Presupuesto aceptado. Gracias.' })).toBeVisible()
    await shot(page, 'budgets-patient-page-done')
  })

  test('the desk sees it accepted with those lines and opens the signed PDF; English at phone width', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    await page.goto(`${base()}/patients/${pid}/budgets`)
    await page.getByTestId(`budget-row-${number}`).click()
    await expect(page.getByTestId('budget-status')).toHaveText('Aceptado en parte')
    await expect(page.getByTestId('budget-detail-line-0')).toContainText('Aceptado')
    await expect(page.getByTestId('budget-detail-line-1')).toContainText('No aceptado')
    await expect(page.getByTestId('budget-accepted-by')).toContainText('Begoña Presupuesto')
    await expect(page.getByTestId('budget-accepted-total')).toHaveText(/55,00\s€/)
    await expect(page.getByTestId('budget-invoice')).toHaveAttribute('href', new RegExp(`/patients/${pid}/invoices\\?from_budget=`))
    await expectAccessible(page, 'budget accepted')
    await shot(page, 'budgets-detail-accepted-es-desktop')
    const popup = page.waitForEvent('popup')
    await page.getByTestId('budget-accepted-pdf').click()
    expect((await popup).url()).toMatch(/^blob:/)
    const bid = await page.evaluate(() => new URL((document.querySelector('[data-testid="budget-invoice"]') as HTMLAnchorElement).href).searchParams.get('from_budget'))
    const head = await page.evaluate(async (id) => {
      const s = JSON.parse(localStorage.getItem('cuspide.session')!) as { accessToken: string }
      const res = await fetch(`/api/v1/billing/budgets/${id}/accepted-pdf`, { headers: { Authorization: `Bearer ${s.accessToken}`, Accept: 'application/pdf' } })
      return [res.status, res.headers.get('content-type'), new TextDecoder().decode((await res.arrayBuffer()).slice(0, 5))]
    }, bid)
    expect(head).toEqual([200, 'application/pdf', '%PDF-'])

    // English, phone width: the tab, the budget, the editor.
    await page.keyboard.press('Escape')
    await setLanguage(page, 'en')
    await page.setViewportSize({ width: 375, height: 812 })
    await page.goto(`${base()}/patients/${pid}/budgets`)
    await page.getByTestId(`budget-row-${number}`).click()
    await expect(page.getByTestId('budget-status')).toHaveText('Partly accepted')
    await expectAccessible(page, 'budget accepted, phone, en')
    await shot(page, 'budgets-detail-accepted-en-phone')
    await page.keyboard.press('Escape')
    await page.getByTestId('budget-new').click()
    await pickTreatment(page, 0, 'ENDO3')
    await page.getByTestId('budget-line-0-tooth-16').focus()
    await page.keyboard.press('ArrowRight') // 15
    await page.keyboard.press('Enter')
    await expect(page.getByTestId('budget-line-0-tooth')).toHaveValue('15')
    await expectAccessible(page, 'budget editor, phone, en')
    await shot(page, 'budgets-editor-en-phone')
    await page.keyboard.press('Escape')

    // The clinic's list: by state, at both widths.
    await page.goto(`${base()}/billing/budgets`)
    await expect(page.getByTestId('budget-list')).toBeVisible()
    await expectAccessible(page, 'budgets list, phone, en')
    await shot(page, 'budgets-list-en-phone')
    await setLanguage(page, 'es')
    await page.setViewportSize({ width: 1280, height: 800 })
    await page.getByTestId('budget-status-filter').click()
    await page.getByRole('option', { name: 'Aceptado', exact: true }).click()
    await expect(page.getByTestId(`budget-row-${number}`)).toBeVisible()
    await expect(page.getByTestId(`budget-row-${number}`)).toContainText(`Begoña Presupuesto${stamp}`)
    await expectAccessible(page, 'budgets list, desktop, es')
    await shot(page, 'budgets-list-es-desktop')
  })

  test('a role that may read budgets but not write them sees no write action', async ({ page, browser }) => {
    test.setTimeout(480_000) // two sign-ins (Argon2id) on a stack that shares two cores
    await signIn(page, 'admin@demo.clinic')
    const roles = await apiCall<{ role: string; grants: string[] }[]>(page, 'GET', '/roles')
    const assistant = roles.find((r) => r.role === 'assistant')!
    await apiCall(page, 'PUT', '/roles/assistant', { grants: [...assistant.grants, 'billing.budgets.read'] })
    // The assistant in a browser of their own; the admin's page stays signed in to put the role back.
    const context = await browser.newContext()
    const other = await context.newPage()
    try {
      await signIn(other, 'assistant@demo.clinic')
      await other.goto(`${base()}/patients/${pid}/budgets`)
      await other.getByTestId(`budget-row-${number}`).click()
      await expect(other.getByTestId('budget-status')).toHaveText('Aceptado en parte')
      await expect(other.getByTestId('budget-pdf')).toBeVisible()
      await expect(other.getByTestId('budget-accepted-pdf')).toBeVisible()
      for (const id of ['budget-new', 'budget-send', 'budget-accept', 'budget-cancel', 'budget-revise', 'budget-edit', 'budget-reject', 'budget-invoice'])
        await expect(other.getByTestId(id)).toHaveCount(0)
      await shot(other, 'budgets-read-only-es-desktop')
      // and the server refuses a write anyway
      const status = await other.evaluate(async () => {
        const s = JSON.parse(localStorage.getItem('cuspide.session')!) as { accessToken: string }
        return (await fetch('/api/v1/billing/budgets', { method: 'POST', headers: { Authorization: `Bearer ${s.accessToken}`, 'Content-Type': 'application/json' }, body: '{"patient_id":"x","lines":[{"treatment_id":"x"}]}' })).status
      })
      expect(status).toBe(403)
    } finally {
      await context.close()
      await apiCall(page, 'DELETE', '/roles/assistant')
    }
  })
})

// A 700×160 transparent PNG: what an untouched canvas gives.
const BLANK_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAArwAAACgCAYAAADuMb+KAAACq0lEQVR42u3WMREAAAjEMMC/50cDK5dI6NROUgAA8NVIAACA4QUAAMMLAACGFwAADC8AABheAAAwvAAAGF4AADC8AABgeAEAwPACAIDhBQAAwwsAAIYXAADDCwAAhhcAAAwvAAAYXgAAMLwAAGB4AQDA8AIAYHgBAMDwAgCA4QUAAMMLAACGFwAADC8AABheAAAMLwAAGF4AADC8AABgeAEAwPACAIDhBQAAwwsAgOEFAADDCwAAhhcAAAwvAAAYXgAAMLwAAGB4AQAwvAAAYHgBAMDwAgCA4QUAAMMLAACGFwAADC8AAIYXAAAMLwAAGF4AADC8AABgeAEAwPACAIDhBQDA8AIAgOEFAADDCwAAhhcAAAwvAAAYXgAAMLwAABheAAAwvAAAYHgBAMDwAgCA4QUAAMMLAACGFwAAwwsAAIYXAAAMLwAAGF4AADC8AABgeAEAwPACAGB4AQDA8AIAgOEFAADDCwAAhhcAAAwvAAAYXgAADC8AABheAAAwvAAAYHgBAMDwAgCA4QUAAMMLAIDhBQAAwwsAAIYXAAAMLwAAGF4AADC8AABgeAEAMLwAAGB4AQDA8AIAgOEFAADDCwAAhhcAAAwvAACGFwAADC8AABheAAAwvAAAYHgBAMDwAgCA4QUAwPACAIDhBQAAwwsAAIYXAAAMLwAAGF4AADC8AAAYXgAAMLwAAGB4AQDA8AIAgOEFAADDCwAAhhcAAMMLAACGFwAADC8AABheAAAwvAAAYHgBAMDwAgBgeAEAwPACAIDhBQAAwwsAAIYXAAAMLwAAGF4AAAwvAAAYXgAAMLwAAGB4AQDA8AIAgOEFAADDCwCA4QUAAMMLAACGFwAADC8AABheAAAwvAAAYHgBADC8AABgeAEAwPACAIDhBQAAwwsAAHcLw9kEPUtzZTYAAAAASUVORK5CYII='
