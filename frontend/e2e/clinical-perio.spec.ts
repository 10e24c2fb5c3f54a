// The periodontal chart of the patient record, as the demo hygienist: a seeded patient with
// two completed exams (the latest shown, compared with the one before), a new exam (its missing
// teeth and implant carried over) entered by keyboard alone along the dictation path (a digit per site, B for bleeding on the site just
// entered), the indices live, the draft autosaved, then completed and locked. axe-core at a
// desktop and a phone width; on the phone the grid scrolls sideways inside its own box.
import { test, expect, type Page } from './test'
import { apiGet, base, expectAccessible, setLanguage, shot, signIn } from './helpers'

interface PatientHit { patient_id: string; first_name: string }
interface ExamSummary { exam_id: string; status: string; exam_date: string; indices: { sites_examined: number; bop_sites: number } }

async function accessible(page: Page, label: string, name: string) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width > 500 ? 800 : 844 })
    await expectAccessible(page, label)
    await shot(page, `${name}-${width > 500 ? 'desktop' : 'phone'}`)
    if (width < 500) {
      const tab = page.getByTestId('perio-tab')
      const [scroll, client] = await tab.evaluate((el) => [el.scrollWidth, el.clientWidth])
      expect(scroll, 'the perio tab itself does not scroll sideways on a phone').toBeLessThanOrEqual(client + 1)
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 })
}

test('the hygienist enters a periodontal exam by keyboard, sees the indices and completes it', async ({ page }) => {
  test.setTimeout(300_000)
  await signIn(page, 'hygienist@demo.clinic')
  await setLanguage(page, 'es')
  const hits = await apiGet<{ items: PatientHit[] }>(page, '/patients?q=Antonio%20Rodr%C3%ADguez')
  const pid = hits.items[0].patient_id
  await page.goto(`${base()}/patients/${pid}/perio`)
  await expect(page.getByTestId('perio-tab')).toBeVisible()
  // The seeded latest exam, completed, with the one before it alongside.
  await expect(page.getByTestId('perio-status')).toHaveText('Completado')
  await expect(page.getByText(/comparado con el del/)).toBeVisible()
  await accessible(page, 'perio: a completed exam', 'perio-completed')

  // ---- a new exam, by keyboard ----
  await page.getByTestId('perio-new').click()
  await expect(page.getByTestId('perio-status')).toHaveText('Borrador')
  // The wisdom teeth and the implant on 36 carry over from the last exam: 18 is skipped.
  await expect(page.getByTestId('pd-18-DB')).toHaveCount(0)
  await expect(page.getByTestId('pd-36-MB')).toHaveCount(0)
  const first = page.getByTestId('pd-17-DB')
  await expect(first).toBeFocused()
  await expect(first).toHaveAttribute('aria-label', /^Diente 17, distovestibular, profundidad/)
  for (const key of ['3', '2', '3', 'b', '4', '3', '5', 'b', '2', '2', '3']) await page.keyboard.press(key)
  // 17: 3 2 3 (bleeding on the last), 16: 4 3 5 (bleeding), 15: 2 2 3; the cursor is on 14.
  await expect(page.getByTestId('pd-14-DB')).toBeFocused()
  await expect(page.getByTestId('pd-14-DB')).toHaveAttribute('aria-label', /^Diente 14, distovestibular, profundidad/)
  await expect(page.getByTestId('pd-16-MB')).toHaveValue('5')
  await expect(page.getByTestId('bop-16-MB')).toHaveAttribute('aria-pressed', 'true')
  await expect(page.getByTestId('bop-17-MB')).toHaveAttribute('aria-pressed', 'true')
  await expect(page.getByTestId('bop-17-B')).toHaveAttribute('aria-pressed', 'false')
  // Indices, live: 9 sites, 2 bleeding (22,2 %), 2 sites ≥ 4 mm, mean depth 3 mm.
  await expect(page.getByTestId('perio-index-sites')).toHaveText('9')
  await expect(page.getByTestId('perio-index-bop_percent')).toContainText('22,2%')
  await expect(page.getByTestId('perio-index-sites_pd_ge4')).toContainText('2')
  await expect(page.getByTestId('perio-index-mean_pd')).toContainText('3 mm')
  // The previous exam's depths are shown beside the new ones.
  await expect(page.locator('.prev-row').first()).toBeVisible()
  // The draft is saved as it goes.
  await expect(page.getByTestId('perio-save-state')).toHaveText('Guardado', { timeout: 30_000 })
  await accessible(page, 'perio: a draft being entered', 'perio-draft')

  // ---- complete: locked ----
  await page.getByTestId('perio-complete').click()
  await expect(page.getByTestId('perio-status')).toHaveText('Completado')
  await expect(page.getByTestId('pd-16-MB')).toHaveAttribute('readonly', '')
  const list = await apiGet<{ items: ExamSummary[] }>(page, `/patients/${pid}/perio-exams`)
  const done = list.items.find((x) => x.status === 'completed' && x.indices.sites_examined === 9)
  expect(done, JSON.stringify(list.items.map((x) => [x.exam_date, x.status, x.indices.sites_examined]))).toBeTruthy()
  expect(done!.indices.bop_sites).toBe(2)
  await accessible(page, 'perio: the new exam completed', 'perio-done')
})
