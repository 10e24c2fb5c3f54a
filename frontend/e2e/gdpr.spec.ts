import { test, expect } from './test'
import { execFileSync } from 'node:child_process'
import { base, apiGet, expectAccessible, setLanguage, signIn } from './helpers'

// GDPR access and portability (ADR 1401): the admin exports a demo patient's data from the
// record, waits for it to be ready, downloads the ZIP and opens it; at phone width the dialog
// is used from the keyboard and passes axe. The worker runs on the local stack's queue pump,
// which shares two cores with the rest: wait generously.
const READY_MS = 180_000

interface PatientRow { patient_id: string; full_name: string }

/** A demo patient (the first the list gives), so the ZIP has real data of several modules. */
async function demoPatient(page: import('@playwright/test').Page): Promise<PatientRow> {
  const list = await apiGet<{ items: PatientRow[] }>(page, '/patients?limit=5')
  expect(list.items.length).toBeGreaterThan(0)
  return list.items[0]
}

/** The ZIP's entry names (Python's zipfile module, as any user's unzip would read it). */
function entries(path: string): string[] {
  const out = execFileSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', path])
  return out.toString().split('\n').filter(Boolean)
}

test.describe('GDPR export of a patient', () => {
  test('desktop, Spanish: export a demo patient, wait for it, download and open the ZIP', async ({ page }) => {
    await signIn(page, 'admin@demo.clinic')
    const p = await demoPatient(page)
    await page.goto(`${base()}/patients/${p.patient_id}`)
    await page.getByTestId('patient-gdpr-export').click()
    const dialog = page.getByRole('dialog', { name: 'Exportar los datos del paciente (RGPD)' })
    await expect(dialog).toBeVisible()
    await dialog.getByTestId('gdpr-start').click()
    await expect(dialog.getByTestId('gdpr-progress')).toBeVisible()
    const download = dialog.getByTestId('gdpr-download').first()
    await expect(download).toBeVisible({ timeout: READY_MS })
    await expectAccessible(page, 'gdpr export: ready')
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()])
    expect(file.suggestedFilename()).toMatch(/^datos-paciente-.*\.zip$/)
    const names = entries(await file.path())
    expect(names).toContain('index.html')
    expect(names).toContain('index.json')
    expect(names).toContain('patient.json')
    expect(names).toContain('medical-history.json')
    expect(names.some((n) => n.startsWith('appointments/'))).toBe(true)
    // The admin sees the export and its download in the audit log.
    const audit = await apiGet<{ items: { action: string }[] }>(page, `/audit?entity_type=patient&entity_id=${p.patient_id}`)
    const actions = audit.items.map((a) => a.action)
    expect(actions).toContain('gdpr.export.requested')
    expect(actions).toContain('gdpr.export.downloaded')
  })

  test.describe('at phone width', () => {
    test.use({ viewport: { width: 390, height: 844 }, hasTouch: true })

    test('English, from the keyboard: the dialog lists earlier exports and passes axe', async ({ page }) => {
      await signIn(page, 'admin@demo.clinic')
      await setLanguage(page, 'en')
      const p = await demoPatient(page)
      await page.goto(`${base()}/patients/${p.patient_id}`)
      const open = page.getByTestId('patient-gdpr-export')
      await open.focus()
      await page.keyboard.press('Enter')
      const dialog = page.getByRole('dialog', { name: "Export the patient's data (GDPR)" })
      await expect(dialog).toBeVisible()
      await expect(dialog.getByTestId('gdpr-list').or(dialog.getByTestId('gdpr-empty'))).toBeVisible()
      await expectAccessible(page, 'gdpr export dialog (phone)')
      const [scroll, client] = await dialog.evaluate((el) => [el.scrollWidth, el.clientWidth])
      expect(scroll, 'the dialog scrolls sideways').toBeLessThanOrEqual(client)
      await page.keyboard.press('Escape')
      await expect(dialog).toBeHidden()
    })

    test('a dentist sees no export', async ({ page }) => {
      await signIn(page, 'dentist@demo.clinic')
      const p = await demoPatient(page)
      await page.goto(`${base()}/patients/${p.patient_id}`)
      await expect(page.getByTestId('patient-name')).toBeVisible()
      await expect(page.getByTestId('patient-gdpr-export')).toHaveCount(0)
    })
  })
})
