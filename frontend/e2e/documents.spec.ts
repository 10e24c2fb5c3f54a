import { test, expect, type Page } from './test'
import { fileURLToPath } from 'node:url'
import { base, expectAccessible, setLanguage, shot, signIn } from './helpers'

// The Documents tab of the patient record: upload a PDF and an image, view each inside the
// record, edit a title, delete; Spanish at desktop width, English at phone width from the keyboard.
// An upload is three calls (start, storage, complete) on a stack that shares two cores: wait generously.
const UPLOAD_MS = 120_000
const PDF = fileURLToPath(new URL('./fixtures/consent.pdf', import.meta.url))
const PNG = fileURLToPath(new URL('./fixtures/id-card.png', import.meta.url))
const stamp = Date.now().toString(36).slice(-5)

/** A patient of its own for each test (the API, as the signed-in admin). */
async function newPatient(page: Page, first: string): Promise<string> {
  return page.evaluate(async (body) => {
    const s = JSON.parse(localStorage.getItem('cuspide.session') ?? 'null') as { accessToken: string }
    const res = await fetch('/api/v1/patients', { method: 'POST', headers: { Authorization: `Bearer ${s.accessToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    const out = await res.json()
    if (!res.ok) throw new Error(`POST /patients: ${res.status} ${JSON.stringify(out)}`)
    return out.data.patient_id as string
  }, { first_name: first, last_name: `Documentos${stamp}`, date_of_birth: '1984-03-07', gender: 'female' })
}

/** The frame's document is the PDF itself, served inline (what the browser's viewer shows). */
async function expectPdfFrame(page: Page) {
  const frame = page.getByTestId('doc-pdf')
  await expect(frame).toBeVisible()
  const src = (await frame.getAttribute('src'))!
  const res = await page.request.get(src)
  expect(res.status()).toBe(200)
  expect(res.headers()['content-type']).toBe('application/pdf')
  expect(res.headers()['content-disposition']).toMatch(/^inline/)
  expect((await res.body()).subarray(0, 5).toString()).toBe('%PDF-')
}

/** Nothing in the tab is wider than the tab (a phone never scrolls it sideways). */
async function fitsWidth(page: Page) {
  const tab = page.getByTestId('documents-tab')
  const [scroll, client] = await tab.evaluate((el) => [el.scrollWidth, el.clientWidth])
  expect(scroll, 'the documents tab scrolls sideways').toBeLessThanOrEqual(client)
}

test.describe('documents on the patient record', () => {
  test('desktop, Spanish: a PDF and an image uploaded, each viewed inside the record, a title edited, one deleted', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    const pid = await newPatient(page, 'Elena')
    await page.goto(`${base()}/patients/${pid}`)
    await page.getByTestId('ptab-documents').click()
    await expect(page).toHaveURL(/\/documents$/)
    await expect(page.getByText('Aún no hay documentos')).toBeVisible()
    await expectAccessible(page, 'documents: none yet')

    // A file the API would refuse is refused at once, in words, and nothing is sent.
    const input = page.getByTestId('doc-file-input')
    await input.setInputFiles({ name: 'notas.txt', mimeType: 'text/plain', buffer: Buffer.from('hola') })
    await expect(page.getByTestId('doc-file-error')).toContainText('«notas.txt» no es un PDF, JPEG ni PNG')
    await expectAccessible(page, 'documents: a file refused')

    // Uploading without a type asks for it.
    await input.setInputFiles(PDF)
    await expect(page.getByTestId('doc-chosen')).toContainText('consent.pdf')
    await expect(page.getByTestId('doc-title')).toHaveValue('consent')
    await page.getByTestId('doc-submit').click()
    await expect(page.getByText('Elige el tipo de documento')).toBeVisible()
    await page.getByTestId('doc-type').click()
    await page.getByRole('option', { name: 'Consentimiento informado' }).click()
    await page.getByTestId('doc-title').fill('Consentimiento implante')
    await page.getByTestId('doc-submit').click()
    const rows = page.getByTestId('doc-row')
    await expect(rows).toHaveCount(1, { timeout: UPLOAD_MS })
    const pdfRow = rows.filter({ hasText: 'Consentimiento implante' })
    await expect(pdfRow).toContainText('Consentimiento informado')
    await expect(pdfRow).toContainText('Tú')
    await expect(pdfRow).toContainText('608 B')

    // The image, with the title the file name gives.
    await input.setInputFiles(PNG)
    await page.getByTestId('doc-type').click()
    await page.getByRole('option', { name: 'DNI / documento de identidad' }).click()
    await page.getByTestId('doc-submit').click()
    await expect(rows).toHaveCount(2, { timeout: UPLOAD_MS })
    const pngRow = rows.filter({ hasText: 'id-card' })
    await expect(pngRow).toContainText('DNI / documento de identidad')
    await expect(rows.first()).toContainText('id-card') // newest first
    await shot(page, '60-documents-list')
    await expectAccessible(page, 'documents: a PDF and an image')

    // The PDF inside the record, in the browser's viewer.
    await pdfRow.getByTestId('doc-view').click()
    await expect(page.getByTestId('doc-viewer')).toContainText('Consentimiento implante')
    await expectPdfFrame(page)
    await expect(page.getByTestId('doc-viewer-download')).toHaveAttribute('href', /^http/)
    await shot(page, '61-documents-pdf-viewer')
    await expectAccessible(page, 'documents: PDF viewer')
    await page.keyboard.press('Escape')
    await expect(page.getByTestId('doc-viewer')).toHaveCount(0)

    // The image, as an image.
    await pngRow.getByTestId('doc-view').click()
    const img = page.getByTestId('doc-image')
    await expect(img).toBeVisible()
    await expect(img).toHaveJSProperty('complete', true)
    expect(await img.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(64)
    await expectAccessible(page, 'documents: image viewer')
    await page.keyboard.press('Escape')

    // The download link saves the file under its name.
    const download = page.waitForEvent('download')
    await pdfRow.getByTestId('doc-download').click()
    expect((await download).suggestedFilename()).toBe('consent.pdf')

    // Edit the title and the type.
    await pdfRow.getByTestId('doc-edit').click()
    const dialog = page.getByTestId('doc-edit-dialog')
    await expect(dialog).toBeVisible()
    await expectAccessible(page, 'documents: edit dialog')
    await page.getByTestId('doc-edit-title').fill('Consentimiento implante 36')
    await page.getByTestId('doc-edit-save').click()
    await expect(dialog).toHaveCount(0)
    await expect(rows.filter({ hasText: 'Consentimiento implante 36' })).toHaveCount(1)

    // Delete, after a confirmation.
    await pngRow.getByTestId('doc-delete').click()
    await expect(page.getByTestId('doc-delete-dialog')).toContainText('«id-card» dejará de verse en la ficha')
    await expectAccessible(page, 'documents: delete confirmation')
    await page.getByTestId('doc-delete-confirm').click()
    await expect(rows).toHaveCount(1)
    await expect(rows.first()).toContainText('Consentimiento implante 36')
    // And after a reload, the list is the API's.
    await page.reload()
    await expect(page.getByTestId('doc-row')).toHaveCount(1)
  })

  test.describe('phone', () => {
    test.use({ viewport: { width: 390, height: 844 }, hasTouch: true })

    test('phone, English, keyboard only: upload a PDF, view it, edit its title, delete it', async ({ page }) => {
      await signIn(page, 'admin@demo.clinic')
      await setLanguage(page, 'en')
      const pid = await newPatient(page, 'Nora')
      await page.goto(`${base()}/patients/${pid}/documents`)
      await expect(page.getByText('No documents yet')).toBeVisible()
      await fitsWidth(page)
      await shot(page, '62-documents-phone-empty')
      await expectAccessible(page, 'documents on a phone: none yet')

      // Choose the file from the keyboard (the system's file dialog answers for the user).
      await page.getByTestId('doc-choose').focus()
      const chooser = page.waitForEvent('filechooser')
      await page.keyboard.press('Enter')
      await (await chooser).setFiles(PDF)
      await expect(page.getByTestId('doc-chosen')).toContainText('consent.pdf')
      await expect(page.getByTestId('doc-choose')).toBeFocused()
      await page.keyboard.press('Tab') // the button that clears the choice
      await page.keyboard.press('Tab')
      await expect(page.locator('#doc-type')).toBeFocused()
      await page.keyboard.type('P') // type-ahead: Prescription
      await page.keyboard.press('Enter')
      await expect(page.getByTestId('doc-type')).toContainText('Prescription')
      // The list closes with a transition that gives the focus back to the select when it
      // ends: move on only once it has ended, or the keys typed next land in the select.
      await expect(page.getByRole('listbox')).toHaveCount(0)
      await expect(page.locator('#doc-type')).toBeFocused()
      await page.keyboard.press('Tab')
      await expect(page.getByTestId('doc-title')).toBeFocused()
      await page.keyboard.press('ControlOrMeta+A')
      await page.keyboard.type('Amoxicillin prescription')
      await expect(page.getByTestId('doc-title')).toHaveValue('Amoxicillin prescription')
      await page.keyboard.press('Enter') // submits the form
      const row = page.getByTestId('doc-row')
      await expect(row).toHaveCount(1, { timeout: UPLOAD_MS })
      await expect(row).toContainText('Amoxicillin prescription')
      await expect(row).toContainText('You')
      await fitsWidth(page)
      await shot(page, '63-documents-phone-list')
      await expectAccessible(page, 'documents on a phone: one PDF')

      // View it.
      await row.getByTestId('doc-view').focus()
      await page.keyboard.press('Enter')
      await expectPdfFrame(page)
      await expect(page.getByTestId('doc-open-tab')).toBeVisible()
      await shot(page, '64-documents-phone-viewer')
      await expectAccessible(page, 'documents on a phone: PDF viewer')
      await page.keyboard.press('Escape')
      await expect(page.getByTestId('doc-viewer')).toHaveCount(0)

      // Edit its title: the field has the focus when the dialog opens; Enter saves.
      await row.getByTestId('doc-edit').focus()
      await page.keyboard.press('Enter')
      await expect(page.getByTestId('doc-edit-title')).toBeFocused()
      await page.keyboard.press('ControlOrMeta+A')
      await page.keyboard.type('Amoxicillin 500 mg')
      await expectAccessible(page, 'documents on a phone: edit dialog')
      await page.keyboard.press('Enter')
      await expect(page.getByTestId('doc-edit-dialog')).toHaveCount(0)
      await expect(row).toContainText('Amoxicillin 500 mg')

      // Delete it: Cancel has the focus first (the safe choice); Tab, then Enter, deletes.
      await row.getByTestId('doc-delete').focus()
      await page.keyboard.press('Enter')
      await expect(page.getByTestId('doc-delete-dialog')).toContainText('“Amoxicillin 500 mg” will no longer show on the record')
      await expect(page.getByRole('button', { name: 'Cancel' })).toBeFocused()
      await expectAccessible(page, 'documents on a phone: delete confirmation')
      await page.keyboard.press('Tab')
      await expect(page.getByTestId('doc-delete-confirm')).toBeFocused()
      await page.keyboard.press('Enter')
      await expect(page.getByTestId('doc-row')).toHaveCount(0)
      await expect(page.getByText('No documents yet')).toBeVisible()
    })
  })
})
