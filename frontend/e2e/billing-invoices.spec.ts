import { test, expect, type Page } from './test'
import { apiCall, base, expectAccessible, setLanguage, shot, signIn, signOut } from './helpers'

// Invoices (issue 13): invoice the accepted lines of a budget from the patient record, issue,
// see its VERI*FACTU state, open the PDF, email it, rectify it in plain words (an F2 gives an
// R5), annul the rectifying invoice; a draft by hand, deleted; the clinic-wide list with its
// filters at phone width from the keyboard, Spanish and English; and roles without
// `billing.invoices.issue` or `verifactu.admin` do not see those actions.
const stamp = Date.now().toString(36).slice(-5)

/** A patient without a national id (so an invoice under 400 € is simplified, F2) and a budget
 *  of three lines, sent and accepted at the desk for two of them. */
async function acceptedBudget(page: Page): Promise<{ pid: string; bid: string }> {
  const pid = (await apiCall<{ patient_id: string }>(page, 'POST', '/patients', {
    first_name: 'Nuria', last_name: `Facturas${stamp}`, date_of_birth: '1979-05-11', gender: 'female', email: `nuria.${stamp}@example.com`,
  })).patient_id
  const catalog = await apiCall<{ items: { treatment_id: string; code: string }[] }>(page, 'GET', '/billing/treatments?limit=500')
  const id = (code: string) => catalog.items.find((x) => x.code === code)!.treatment_id
  const b = await apiCall<{ budget_id: string; lines: { line_id: string }[] }>(page, 'POST', '/billing/budgets', {
    patient_id: pid, title: 'Limpieza y revisión',
    lines: [{ treatment_id: id('LIMP') }, { treatment_id: id('REV') }, { treatment_id: id('OBT1'), tooth: 26, surfaces: ['O'] }],
  })
  await apiCall(page, 'POST', `/billing/budgets/${b.budget_id}/send`, { valid_days: 15 })
  await apiCall(page, 'POST', `/billing/budgets/${b.budget_id}/accept`, { signer_name: 'Nuria Facturas', line_ids: [b.lines[0]!.line_id, b.lines[1]!.line_id] })
  return { pid, bid: b.budget_id }
}

async function confirmIn(page: Page, label: string) {
  await page.locator('.p-confirmdialog').getByRole('button', { name: label, exact: true }).click()
}

test.describe('invoices', () => {
  test('desktop, Spanish: from an accepted budget to issued, VERI*FACTU state, PDF, email, rectified (R5) and annulled; a draft by hand deleted', async ({ page }) => {
    test.slow() // one long flow of issues and rectifications on a stack that shares two cores
    await signIn(page, 'admin@demo.clinic')
    const { pid, bid } = await acceptedBudget(page)

    // The budgets screen links here: the dialog opens with the accepted lines ticked.
    await page.goto(`${base()}/patients/${pid}/invoices?from_budget=${bid}`)
    const fb = page.getByTestId('inv-from-budget')
    await expect(fb).toBeVisible()
    await expect(fb.getByTestId('fb-line')).toHaveCount(2) // the third line was not accepted
    await expect(fb).toContainText('Limpieza dental')
    await expectAccessible(page, 'invoices: from a budget')
    await shot(page, 'invoices-from-budget')
    await fb.getByTestId('fb-create').click()
    await expect(page).not.toHaveURL(/from_budget/)

    const detail = page.getByTestId('inv-detail')
    await expect(detail).toBeVisible()
    await expect(detail.getByTestId('inv-state')).toHaveText('Borrador')
    await expect(detail.getByTestId('inv-lines').locator('tbody tr')).toHaveCount(2)
    await expectAccessible(page, 'invoices: a draft')
    await shot(page, 'invoices-detail-draft')

    // Issue: it gets its number, and its VERI*FACTU record in plain words.
    await detail.getByTestId('inv-issue').click()
    await confirmIn(page, 'Emitir')
    await expect(detail.getByTestId('inv-state')).toHaveText('Emitida, sin cobrar')
    await expect(detail).toContainText('Factura simplificada')
    const header = page.locator('.p-dialog-title').filter({ hasText: /F-\d{4}-\d{6}/ })
    await expect(header).toBeVisible()
    const vf = detail.getByTestId('inv-vf-state')
    await expect(vf).toHaveAttribute('data-state', /^(waiting|sent|accepted)$/)
    await expect(vf).toHaveText(/Pendiente de envío|Enviada, esperando respuesta|Aceptada por la AEAT/)
    await expect(detail.getByTestId('inv-vf-explain')).toContainText('No hay que hacer nada')
    await expect(detail.getByTestId('invoice-payments')).toContainText('Aún no hay cobros')
    await expectAccessible(page, 'invoices: issued')
    await shot(page, 'invoices-detail-issued')

    // The PDF, from the API with the session's token, in a new tab (a blob: URL of its bytes).
    const [popup, pdf] = await Promise.all([
      page.waitForEvent('popup'),
      page.waitForResponse((r) => /\/billing\/invoices\/[^/]+\/pdf$/.test(r.url())),
      detail.getByTestId('inv-pdf').click(),
    ])
    expect(pdf.status()).toBe(200)
    expect(pdf.headers()['content-type']).toBe('application/pdf')
    await expect.poll(() => popup.url()).toMatch(/^blob:/)
    // ... and those bytes are a PDF (read again as the app does: the token, Accept: application/pdf)
    const magic = await page.evaluate(async (url) => {
      const s = JSON.parse(localStorage.getItem('cuspide.session') ?? 'null') as { accessToken: string }
      const res = await fetch(url, { headers: { Authorization: `Bearer ${s.accessToken}`, Accept: 'application/pdf' } })
      return new TextDecoder().decode((await res.arrayBuffer()).slice(0, 5))
    }, new URL(pdf.url()).pathname)
    expect(magic).toBe('%PDF-')
    await popup.close()

    // Email to the patient's address.
    await detail.getByTestId('inv-email').click()
    await page.getByTestId('inv-email-send').click()
    await expect(page.locator('.p-toast')).toContainText(`Factura enviada a nuria.${stamp}@example.com`)
    await expect(page.getByTestId('inv-email-dialog')).toBeHidden()

    // Rectify: in plain words; a simplified original makes it an R5 whatever the reason.
    await detail.getByTestId('inv-rectify').click()
    const rect = page.getByTestId('rect-dialog')
    await expect(rect.getByTestId('rect-r5')).toContainText('R5')
    await expect(rect).toContainText('Por diferencias: la nueva factura lleva solo lo que cambia')
    await rect.getByText('Corregirla por la diferencia').click()
    await rect.getByTestId('line-add-free').click()
    await rect.getByTestId('line-desc').fill('Descuento por fidelidad')
    await rect.getByTestId('line-price').fill('-10')
    await rect.getByTestId('rect-save').click()
    await expect(rect.getByText('Escribe el motivo (al menos 3 caracteres)')).toBeVisible()
    await rect.getByTestId('rect-reason').fill('Descuento aplicado después')
    await expectAccessible(page, 'invoices: rectify')
    await shot(page, 'invoices-rectify')
    await rect.getByTestId('rect-save').click()
    await expect(rect).toBeHidden()
    // The rectifying draft opens in place of the original: review and issue it.
    await expect(detail.getByTestId('inv-state')).toHaveText('Borrador')
    await expect(detail).toContainText('por diferencias · R5')
    await detail.getByTestId('inv-issue').click()
    await confirmIn(page, 'Emitir')
    await expect(detail.getByTestId('inv-state')).toHaveText('Emitida, sin cobrar')
    await expect(page.locator('.p-dialog-title').filter({ hasText: /R-\d{4}-\d{6}/ })).toBeVisible()

    // Annul the rectifying invoice (issued by mistake): its original asks the full amount again.
    await detail.getByTestId('inv-annul').click()
    const annul = page.getByTestId('inv-annul-dialog')
    await annul.getByTestId('inv-annul-reason').fill('Descuento aplicado por error')
    await annul.getByTestId('inv-annul-confirm').click()
    await expect(detail.getByTestId('inv-state')).toHaveText('Anulada')
    await expect(detail.getByTestId('inv-vf-annulled')).toBeVisible()
    await expect(detail.getByTestId('inv-annul')).toHaveCount(0)
    await expect(detail.getByTestId('inv-rectify')).toHaveCount(0)
    await expectAccessible(page, 'invoices: annulled')
    await shot(page, 'invoices-annulled')
    await page.keyboard.press('Escape')
    await expect(detail).toBeHidden()

    // The patient's list: both invoices, the annulled one says so.
    const rows = page.getByTestId('inv-row')
    await expect(rows).toHaveCount(2)
    await expect(rows.filter({ hasText: /^R-/ }).first()).toContainText('Anulada')

    // A draft by hand, from the catalog; then deleted.
    await page.getByTestId('inv-new').click()
    const ed = page.getByTestId('inv-editor')
    await ed.getByTestId('inv-ed-save').click()
    await expect(ed.getByText('Añade al menos una línea')).toBeVisible()
    await ed.getByTestId('line-add-treatment').click()
    await page.getByRole('option', { name: /^REV · / }).click()
    await expect(ed.getByTestId('line-desc')).toHaveValue('Revisión y diagnóstico')
    await expectAccessible(page, 'invoices: a draft by hand')
    await shot(page, 'invoices-new')
    await ed.getByTestId('inv-ed-save').click()
    await expect(detail.getByTestId('inv-state')).toHaveText('Borrador')
    await detail.getByTestId('inv-delete').click()
    await confirmIn(page, 'Eliminar')
    await expect(detail).toBeHidden()
    await expect(rows).toHaveCount(2)
  })

  test('phone and desktop, English and Spanish: the clinic-wide list, filtered and used from the keyboard', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    await setLanguage(page, 'en')
    await page.goto(`${base()}/billing/invoices`)
    const rows = page.getByTestId('inv-row')
    await expect(rows.first()).toBeVisible()
    await expectAccessible(page, 'invoices: clinic list (desktop, en)')
    await shot(page, 'invoices-list-desktop-en')

    // Drafts only: the seed has the crown of José's implant still as a draft.
    await page.getByTestId('inv-f-status').click()
    await page.getByRole('option', { name: 'Drafts' }).click()
    await expect(rows.first()).toContainText('Draft')
    for (const r of await rows.all()) await expect(r.locator('[data-state]')).toHaveAttribute('data-state', 'draft')
    // By number: one invoice.
    await page.getByTestId('inv-f-clear').click()
    await page.getByTestId('inv-f-number').fill('F-')
    await expect(rows.first()).toContainText(/F-\d{4}-/)
    await page.getByTestId('inv-f-number').fill('ZZZ-nothing')
    await expect(page.getByText('No invoice matches')).toBeVisible()
    await page.getByTestId('inv-f-clear').click()
    await expect(rows.first()).toBeVisible()

    for (const lang of ['en', 'es'] as const) {
      await setLanguage(page, lang)
      await page.setViewportSize({ width: 375, height: 812 })
      await page.goto(`${base()}/billing/invoices`)
      await expect(rows.first()).toBeVisible()
      const [scroll, client] = await page.getByTestId('invoice-list').evaluate((el) => [el.scrollWidth, el.clientWidth])
      expect(scroll, 'the list scrolls sideways at phone width').toBeLessThanOrEqual(client)
      // The filters fold behind one button at phone width, so the list comes first.
      await expect(page.getByTestId('inv-f-number')).toBeHidden()
      await expectAccessible(page, `invoices: clinic list (phone, ${lang})`)
      await shot(page, `invoices-list-phone-${lang}`)
      await page.getByTestId('inv-f-toggle').click()
      await expect(page.getByTestId('inv-f-toggle')).toHaveAttribute('aria-expanded', 'true')
      await expect(page.getByTestId('inv-f-number')).toBeVisible()
      await expectAccessible(page, `invoices: clinic list, filters open (phone, ${lang})`)
      await page.getByTestId('inv-f-toggle').click()

      // From the keyboard: focus a row, open it, close it, the focus comes back to it.
      await rows.first().focus()
      await page.keyboard.press('Enter')
      const detail = page.getByTestId('inv-detail')
      await expect(detail).toBeVisible()
      await expect(detail.getByTestId('inv-state')).toBeVisible()
      await expectAccessible(page, `invoices: detail (phone, ${lang})`)
      await shot(page, `invoices-detail-phone-${lang}`)
      await page.keyboard.press('Escape')
      await expect(detail).toBeHidden()
      await expect(rows.first()).toBeFocused()
      await page.setViewportSize({ width: 1280, height: 800 })
    }
  })

  test('a dentist (no billing.invoices.issue) sees no Issue or Rectify; the desk (no verifactu.admin) rectifies but does not annul', async ({ page }) => {
    await signIn(page, 'dentist@demo.clinic')
    await page.goto(`${base()}/billing/invoices`)
    const rows = page.getByTestId('inv-row')
    const detail = page.getByTestId('inv-detail')
    await page.getByTestId('inv-f-status').click()
    await page.getByRole('option', { name: 'Borradores' }).click()
    await expect(rows.first()).toContainText('Borrador')
    await rows.first().click()
    await expect(detail.getByTestId('inv-state')).toHaveText('Borrador')
    await expect(detail.getByTestId('inv-pdf')).toBeVisible()
    for (const id of ['inv-issue', 'inv-edit', 'inv-delete']) await expect(detail.getByTestId(id)).toHaveCount(0)
    await page.keyboard.press('Escape')
    await page.getByTestId('inv-f-status').click()
    await page.getByRole('option', { name: 'Cobradas', exact: true }).click()
    const paid = rows.filter({ has: page.locator('[data-state="paid"]') }).first()
    await expect(paid).toContainText('Cobrada')
    await paid.click()
    await expect(detail.getByTestId('inv-state')).toHaveText('Cobrada')
    for (const id of ['inv-rectify', 'inv-annul', 'inv-email', 'inv-new']) await expect(page.getByTestId(id)).toHaveCount(0)
    await expectAccessible(page, 'invoices: a dentist')
    await shot(page, 'invoices-dentist')
    await page.keyboard.press('Escape')
    await signOut(page)

    await signIn(page, 'reception@demo.clinic')
    // An issued invoice nobody has paid yet, of its own patient (the desk may create and issue).
    const pid = (await apiCall<{ patient_id: string }>(page, 'POST', '/patients', {
      first_name: 'Óscar', last_name: `Mostrador${stamp}`, date_of_birth: '1990-01-20', gender: 'male',
    })).patient_id
    const inv = await apiCall<{ invoice_id: string }>(page, 'POST', '/billing/invoices', {
      patient_id: pid, lines: [{ description: 'Revisión', unit_price: '40.00' }],
    })
    await apiCall(page, 'POST', `/billing/invoices/${inv.invoice_id}/issue`)
    await page.goto(`${base()}/patients/${pid}/invoices`)
    await expect(rows.first()).toContainText('Emitida, sin cobrar')
    await rows.first().click()
    await expect(detail.getByTestId('inv-rectify')).toBeVisible()
    await expect(detail.getByTestId('inv-email')).toBeVisible()
    await expect(detail.getByTestId('inv-vf-state')).toBeVisible()
    await expect(detail.getByTestId('inv-annul')).toHaveCount(0)
  })
})
