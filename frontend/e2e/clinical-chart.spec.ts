import { test, expect, type Page } from './test'
import { apiCall, apiGet, base, expectAccessible, setLanguage, shot, signIn } from './helpers'

// The dental chart, as the demo dentist: on a new patient's odontogram, reach tooth 36 with the
// arrow keys and open it with Enter, chart a caries on its occlusal surface (surface picked by
// keyboard), plan a one-surface filling from the catalog on it, make it an estimate in one
// step, complete it (the caries becomes a filling on the chart, and the treatment waits on the
// front desk's not-invoiced list). axe at a desktop and a phone width, Spanish and English.
const stamp = Date.now().toString(36).slice(-5)

async function newPatient(page: Page): Promise<string> {
  const p = await apiCall<{ patient_id: string }>(page, 'POST', '/patients', {
    first_name: 'Odón', last_name: `Tograma${stamp}`, date_of_birth: '1985-02-17', gender: 'male', language: 'es',
  })
  return p.patient_id
}

async function accessible(page: Page, label: string, name: string) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width > 500 ? 800 : 844 })
    await expectAccessible(page, label)
    await shot(page, `${name}-${width > 500 ? 'desktop' : 'phone'}`)
  }
  await page.setViewportSize({ width: 1280, height: 800 })
}

const surface = (page: Page, tooth: number, s: string) => page.locator(`[data-tooth="${tooth}"] [data-surface="${s}"]`)

test('the dentist charts a caries on 36 O, plans a filling, makes it an estimate and completes it', async ({ page }) => {
  test.setTimeout(480_000)
  await signIn(page, 'dentist@demo.clinic')
  await setLanguage(page, 'es')
  const pid = await newPatient(page)
  await page.goto(`${base()}/patients/${pid}/chart`)
  await expect(page.getByTestId('odontogram')).toBeVisible({ timeout: 60_000 })
  await accessible(page, 'odontograma vacío', 'chart-empty')

  // ---- reach 36 with the keyboard: the chart is one tab stop (18), down to 48, End (38), left twice
  const first = page.getByTestId('tooth-18')
  await first.focus()
  await page.keyboard.press('ArrowDown')
  await expect(page.getByTestId('tooth-48')).toBeFocused()
  await page.keyboard.press('End')
  await page.keyboard.press('ArrowLeft')
  await page.keyboard.press('ArrowLeft')
  await expect(page.getByTestId('tooth-36')).toBeFocused()
  await page.keyboard.press('Enter')
  const dialog = page.getByTestId('tooth-dialog')
  await expect(dialog).toBeVisible()
  await expect(dialog).toContainText('Pieza 36')

  // ---- a caries on the occlusal surface
  await page.getByTestId('finding-code').click()
  await page.getByRole('option', { name: 'Caries', exact: true }).click()
  await page.getByTestId('surface-O').focus()
  await page.keyboard.press('Space')
  await expect(page.getByTestId('surface-O')).toHaveAttribute('aria-pressed', 'true')
  await page.getByTestId('finding-save').click()
  await expect(dialog.getByTestId('finding-caries')).toContainText('O')
  await accessible(page, 'pieza 36 abierta', 'chart-tooth')

  // ---- plan a one-surface filling from the catalog on 36 O
  await page.getByTestId('plan-treatment').click()
  await page.getByRole('option', { name: /OBT1/ }).click()
  await page.getByTestId('plan-surface-O').click()
  await page.getByTestId('plan-save').click()
  await expect(dialog.getByTestId('tooth-plan-OBT1')).toContainText('Planificado')
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
  await expect(surface(page, 36, 'O')).toHaveClass(/condition/) // the caries shows over the plan
  const row = page.getByTestId('plan-OBT1-36')
  await expect(row).toContainText('Planificado')

  // ---- make it an estimate in one step
  await row.getByTestId('plan-select').click()
  await page.getByTestId('make-budget').click()
  await expect(row).toContainText(/PRES-\d{4}-\d{4}/)
  await accessible(page, 'plan con presupuesto', 'chart-plan')

  // ---- complete it: a filling on 36 O, the caries treated, on the not-invoiced list
  await row.getByTestId('plan-complete').click()
  await expect(row).toContainText('Hecho')
  await expect(row).toContainText('sin facturar')
  await expect(surface(page, 36, 'O')).toHaveClass(/existing/)
  const chart = await apiGet<{ findings: { code: string; tooth: number; surfaces: string[] }[] }>(page, `/patients/${pid}/chart`)
  expect(chart.findings.map((f) => `${f.code} ${f.tooth} ${f.surfaces.join('')}`)).toEqual(['filling 36 O'])
  const listed = await apiGet<{ items: { patient_id: string; treatment_code: string }[] }>(page, '/charting/uninvoiced?limit=200')
  expect(listed.items.some((x) => x.patient_id === pid && x.treatment_code === 'OBT1')).toBe(true)

  // ---- the front desk's list (Billing › Por facturar) names the patient and the treatment
  await page.goto(`${base()}/billing/uninvoiced`)
  await expect(page.getByTestId('uninvoiced-item').filter({ hasText: `Tograma${stamp}` })).toContainText('OBT1')
  await accessible(page, 'por facturar', 'uninvoiced')
  await page.goto(`${base()}/patients/${pid}/chart`)
  await expect(page.getByTestId('odontogram')).toBeVisible({ timeout: 60_000 })

  // ---- the chart as of the day before shows none of it; English
  await setLanguage(page, 'en')
  await expect(page.getByTestId('tooth-36')).toHaveAttribute('aria-label', /Tooth 36/)
  await accessible(page, 'chart done (en)', 'chart-done-en')
})
