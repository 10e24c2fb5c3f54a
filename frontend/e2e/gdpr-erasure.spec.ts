import { test, expect } from './test'
import { base, apiGet, expectAccessible, setLanguage, signIn } from './helpers'

// GDPR erasure (ADR 1405): the admin opens the demo patient seeded for it ("Paciente Supresión
// Demo": a photo, a note, a message, an invoice), previews what is erased and what the law
// keeps, confirms with the name, follows the progress to the report, and the patient is gone
// from patient search and shows the blocked banner. At phone width: the preview of another
// patient (not confirmed) and the retention settings (clinical below the law, messages out of
// range, then no limit), from the keyboard, axe-clean.
const DONE_MS = 180_000

interface PatientRow { patient_id: string; full_name: string }

test.describe('GDPR erasure of a patient', () => {
  test('desktop, Spanish: preview, confirm, report, and the patient leaves search', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    const found = await apiGet<{ items: PatientRow[] }>(page, '/patients?q=Supresion')
    const p = found.items.find((x) => x.full_name === 'Paciente Supresión Demo')
    expect(p, 'the seed step made the demo patient to erase').toBeTruthy()
    await page.goto(`${base()}/patients/${p!.patient_id}`)
    await page.getByTestId('patient-gdpr-erase').click()
    const dialog = page.getByRole('dialog', { name: 'Derecho de supresión (RGPD)' })
    await expect(dialog).toBeVisible()
    await expect(dialog.getByTestId('erasure-gone')).toContainText('Mensajes y conversaciones')
    await expect(dialog.getByTestId('erasure-kept')).toContainText('Fotos y radiografías')
    await expect(dialog.getByTestId('erasure-kept')).toContainText('Ley 41/2002')
    await expect(dialog.getByTestId('erasure-row-invoices')).toContainText('Código de Comercio')
    await expectAccessible(page, 'gdpr erasure: preview')
    await dialog.getByTestId('erasure-next').click()
    await expect(dialog.getByTestId('erasure-submit')).toBeDisabled()
    await dialog.getByTestId('erasure-name').fill('Paciente Supresión Demo')
    await dialog.getByTestId('erasure-submit').click()
    await expect(dialog.getByTestId('erasure-finished')).toHaveText('Supresión realizada', { timeout: DONE_MS })
    await expect(dialog.getByTestId('erasure-row-messages')).toBeVisible()
    await expect(dialog.getByTestId('erasure-kept')).toContainText('hasta el')
    await expectAccessible(page, 'gdpr erasure: report')
    await page.keyboard.press('Escape')
    await expect(page.getByTestId('patient-blocked')).toContainText('Bloqueado por solicitud de supresión')
    // Gone from patient search, by name and from the plain list.
    const after = await apiGet<{ items: PatientRow[] }>(page, '/patients?q=Supresion')
    expect(after.items.map((x) => x.patient_id)).not.toContain(p!.patient_id)
    await page.reload()
    await expect(page.getByTestId('patient-blocked-kept')).toContainText('Facturas')
    const audit = await apiGet<{ items: { action: string }[] }>(page, `/audit?entity_type=patient&entity_id=${p!.patient_id}`)
    expect(audit.items.map((a) => a.action)).toEqual(expect.arrayContaining(['gdpr.erasure_requested', 'gdpr.erasure_completed']))
  })

  test.describe('at phone width', () => {
    test.use({ viewport: { width: 390, height: 844 }, hasTouch: true })

    test('English, from the keyboard: a preview (not confirmed) and the retention settings pass axe', async ({ page }) => {
      await signIn(page, 'admin@demo.clinic')
      await setLanguage(page, 'en')
      const list = await apiGet<{ items: PatientRow[] }>(page, '/patients?limit=5')
      const p = list.items[0]
      await page.goto(`${base()}/patients/${p.patient_id}`)
      const open = page.getByTestId('patient-gdpr-erase')
      await open.focus()
      await page.keyboard.press('Enter')
      const dialog = page.getByRole('dialog', { name: 'Right to erasure (GDPR)' })
      await expect(dialog.getByTestId('erasure-kept')).toContainText('Clinical record')
      await expectAccessible(page, 'gdpr erasure dialog (phone)')
      const [scroll, client] = await dialog.evaluate((el) => [el.scrollWidth, el.clientWidth])
      expect(scroll, 'the dialog scrolls sideways').toBeLessThanOrEqual(client)
      await page.keyboard.press('Escape')
      await expect(dialog).toBeHidden()

      await page.goto(`${base()}/settings/data-protection`)
      const clinical = page.getByTestId('retention-clinical')
      await expect(clinical).toHaveValue(/\d+/)
      await clinical.fill('4')
      await clinical.press('Enter')
      await expect(page.getByTestId('retention-error')).toContainText('at least 5 years (Ley 41/2002')
      // messages: 1 to 20 years, or no limit when empty
      await clinical.fill('5')
      const messages = page.getByTestId('retention-messages')
      await messages.fill('21')
      await messages.press('Enter')
      await expect(page.getByTestId('retention-error')).toContainText('between 1 and 20')
      await messages.fill('')
      await expect(page.getByTestId('retention-messages-none')).toHaveText('No limit')
      await expectAccessible(page, 'retention settings (phone)')
    })
  })
})
