// The Bridge and live notifications against the real local stack: an admin registers a device
// and sees its key once, a capture sent with that key through the device API (as the Bridge
// client does: request, presigned POST, report) arrives as a live toast and in the inbox
// without reloading, is assigned to a patient and shows on the patient's images (live, in a
// second tab); the key is rotated (the old one keeps working for the grace period) and the
// device revoked (both keys refused). Appointment changes reach the agenda of another tab.
// A receptionist sees neither the Bridge tab nor the inbox. Every state passes axe-core, in
// Spanish and English, on a desktop and on a phone.
import { test, expect, type APIRequestContext, type Page } from './test'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { apiGet, base, expectAccessible, freeOpenDay, setLanguage, shot, signIn } from './helpers'

const JPEG = readFileSync(fileURLToPath(new URL('./fixtures/intraoral.jpg', import.meta.url)))
const stamp = Date.now().toString(36).slice(-5)
const KEY_RE = /^cbk_[a-z2-7]{12}\.[A-Za-z0-9_-]{20,}$/

const T = {
  es: {
    tab: 'Bridge', register: 'Registrar dispositivo', never: 'Nunca conectado', online: 'Conectado', once: 'no la volverás a ver',
    inboxToast: 'Nueva captura pendiente de asignar', openInbox: 'Abrir la bandeja', refresh: 'Actualizar', assigned: 'Captura asignada a',
    revoked: 'Revocado', ready: 'Lista', grace: '1 día', required: 'Este campo es obligatorio', newAppt: 'Nueva cita',
  },
  en: {
    tab: 'Bridge', register: 'Register device', never: 'Never connected', online: 'Connected', once: 'you will not see it again',
    inboxToast: 'New capture waiting to be assigned', openInbox: 'Open the inbox', refresh: 'Refresh', assigned: 'Capture assigned to',
    revoked: 'Revoked', ready: 'Ready', grace: '1 day', required: 'This field is required', newAppt: 'New appointment',
  },
}
type Lang = keyof typeof T

/** The same picture with a few random bytes after its end: new bytes, new SHA-256, no duplicate. */
const uniqueJpeg = () => Buffer.concat([JPEG, randomBytes(16)])

const device = (key: string) => ({ Authorization: `Bearer ${key}` })

async function heartbeat(request: APIRequestContext, key: string): Promise<{ status: number; code?: string }> {
  const r = await request.post(`${base()}/api/v1/bridge/device/heartbeat`, { headers: device(key), data: { client_version: '0.9.0-e2e', hostname: 'SENSOR-PC' } })
  const body = await r.json().catch(() => ({}))
  return { status: r.status(), code: body?.code ?? body?.error?.code }
}

/** What the Bridge client does for one file: ask for an upload, POST it to S3, report it. */
async function sendCapture(request: APIRequestContext, key: string, filename: string): Promise<string> {
  const bytes = uniqueJpeg()
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const r = await request.post(`${base()}/api/v1/bridge/device/captures`, {
    headers: device(key),
    data: { filename, size: bytes.length, sha256, content_type: 'image/jpeg', kind: 'xray', xray_type: 'periapical' },
  })
  expect(r.status(), await r.text()).toBe(201)
  const { data } = (await r.json()) as { data: { image_id: string; duplicate: boolean; upload: { url: string; fields: Record<string, string> }; match: { patient_id: string | null; reason: string | null } } }
  expect(data.duplicate).toBe(false)
  expect(data.match.patient_id).toBeNull() // nothing to match it with: the inbox
  const up = await request.post(data.upload.url, { multipart: { ...data.upload.fields, file: { name: filename, mimeType: 'image/jpeg', buffer: bytes } } })
  expect(up.ok(), `presigned POST: ${up.status()} ${await up.text()}`).toBe(true)
  const done = await request.post(`${base()}/api/v1/bridge/device/captures/${data.image_id}/uploaded`, { headers: device(key), data: { ok: true } })
  expect(done.ok(), await done.text()).toBe(true)
  return data.image_id
}

/** POST as the signed-in user of `page` (its stored access token). */
async function apiPost<T>(page: Page, path: string, body: unknown): Promise<T> {
  return page.evaluate(async ([p, b]) => {
    const s = JSON.parse(localStorage.getItem('cuspide.session') ?? 'null') as { accessToken: string } | null
    const res = await fetch(`/api/v1${p}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(s ? { Authorization: `Bearer ${s.accessToken}` } : {}) }, body: JSON.stringify(b) })
    const json = await res.json()
    if (!res.ok) throw new Error(`POST ${p}: ${res.status} ${JSON.stringify(json)}`)
    return json.data
  }, [path, body] as const) as Promise<T>
}

const liveOpen = (page: Page) => expect(page.getByTestId('live-state')).toHaveAttribute('data-state', 'open', { timeout: 60_000 })

async function openBridge(page: Page, lang: Lang) {
  await page.getByTestId('nav-settings').click()
  await page.getByTestId('settings-tab-bridge').click()
  await expect(page.getByTestId('settings-tab-bridge')).toHaveAttribute('aria-selected', 'true')
  await expect(page.getByRole('tab', { name: T[lang].tab })).toBeVisible()
  await expect(page).toHaveURL(/\/settings\/bridge$/)
  await expect(page.getByTestId('bridge-register')).toBeVisible()
}

/** Register a device from the dialog; returns its key as the one-time dialog shows it. */
async function register(page: Page, lang: Lang, name: string, axe: (label: string) => Promise<void>): Promise<string> {
  await page.getByTestId('bridge-register').click()
  const form = page.getByTestId('device-form')
  await expect(form).toBeVisible()
  await page.getByTestId('device-save').click() // nothing typed: the name is required, said inline
  await expect(form.locator('#dev-name-err')).toHaveText(T[lang].required)
  await expect(form.locator('#dev-name')).toBeFocused()
  await axe('register dialog, name missing')
  await form.locator('#dev-name').fill(name)
  await form.locator('summary').click() // folders and patterns
  await form.locator('#dev-patterns').fill('*.jpg\n*.dcm')
  await page.getByTestId('device-save').click()
  const dialog = page.getByTestId('key-dialog')
  await expect(dialog).toBeVisible()
  await expect(dialog).toContainText(T[lang].once)
  const key = (await page.getByTestId('api-key').textContent())!.trim()
  expect(key).toMatch(KEY_RE)
  await expect(page.getByTestId('command-0')).toHaveText(`cuspide-bridge configure --api-url ${base()}/api/v1 --key ${key}`)
  await expect(page.getByTestId('command-1')).toHaveText('cuspide-bridge run')
  await axe('the key, shown once')
  return key
}

async function closeKey(page: Page, key: string) {
  await page.getByTestId('key-done').click()
  await expect(page.getByTestId('key-dialog')).toHaveCount(0)
  await expect(page.getByText(key)).toHaveCount(0) // shown once: not on the page any more
}

test.describe.serial('the Bridge and live notifications', () => {
  test('admin: register, a capture arrives live, assign it, rotate, revoke', async ({ page, request }) => {
    const axe = (label: string) => expectAccessible(page, `Bridge: ${label}`)
    await signIn(page, 'admin@demo.clinic')
    await liveOpen(page)
    await openBridge(page, 'es')
    await axe('devices')
    const name = `Sensor gabinete ${stamp}`
    const key = await register(page, 'es', name, axe)
    await shot(page, '90-bridge-key-once')
    await closeKey(page, key)
    const row = page.getByTestId('bridge-device').filter({ hasText: name })
    await expect(row).toContainText(T.es.never)
    await axe('devices, one registered')

    // The client on the sensor's PC says hello with the key: the device page shows it.
    expect((await heartbeat(request, key)).status).toBe(200)
    await row.getByRole('button', { name: new RegExp(`Gestionar ${name}`) }).click()
    await expect(page.getByTestId('device-name')).toHaveText(name)
    await expect(page.getByTestId('device-status')).toHaveText(T.es.online)
    await expect(page.getByTestId('device-detail')).toContainText('Bridge 0.9.0-e2e')
    await expect(page.getByTestId('key-prefix')).toHaveText(`${key.split('.')[0]}.••••••••`)
    await axe('device, connected')

    // A capture nobody can be matched with, sent while the staff look at the inbox: a toast
    // (that leaves the focus where it was) and a new row, without reloading.
    await page.getByTestId('nav-inbox').click()
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Capturas sin asignar')
    const refresh = page.getByRole('button', { name: T.es.refresh })
    await expect(refresh).toBeEnabled() // loaded
    await refresh.focus()
    await expect(refresh).toBeFocused()
    const badgeBefore = Number((await page.getByTestId('inbox-badge').getAttribute('data-count', { timeout: 1000 }).catch(() => null)) ?? 0)
    const filename = `RVG_${stamp}.jpg`
    const imageId = await sendCapture(request, key, filename)
    const toast = page.getByTestId('live-toast').filter({ hasText: T.es.inboxToast })
    await expect(toast).toBeVisible({ timeout: 60_000 })
    await expect(toast.getByRole('link', { name: T.es.openInbox })).toHaveAttribute('href', '/inbox')
    await expect(refresh).toBeFocused()
    const item = page.locator(`[data-testid="inbox-item"][data-image="${imageId}"]`)
    await expect(item).toBeVisible()
    await expect(page.getByTestId('inbox-badge')).toHaveAttribute('data-count', String(badgeBefore + 1))
    await axe('inbox, a capture and its toast')
    // The toast closes from the keyboard, and the focus goes back where it was.
    await toast.getByRole('button', { name: 'Cerrar' }).focus()
    await page.keyboard.press('Escape')
    await expect(toast).toHaveCount(0)
    await expect(refresh).toBeFocused()
    await expect(item).toContainText(filename)
    await expect(item).toContainText(name) // the device
    await expect(item.getByTestId('inbox-reason')).toHaveText('Sin coincidencia')
    await expect(item.getByTestId('inbox-thumb')).toBeVisible({ timeout: 60_000 }) // the worker made its renditions
    await shot(page, '91-bridge-inbox-live')

    // A second tab has the patient's images open; assigning here updates it there.
    const patient = (await apiGet<{ items: { patient_id: string; full_name: string; last_name: string }[] }>(page, '/patients?limit=1')).items[0]!
    const other = await page.context().newPage()
    await other.goto(`${base()}/patients/${patient.patient_id}/images`)
    await expect(other.getByTestId('patient-name')).toBeVisible()
    await expect(other.locator('.p-skeleton')).toHaveCount(0)
    await liveOpen(other)
    // The tile is named by date and type, not by file name: find it by the capture's id.
    const tile = other.locator(`figure[data-image-id="${imageId}"]`)
    await expect(tile).toHaveCount(0)

    const search = item.locator(`#assign-${imageId}`)
    await search.fill(patient.last_name)
    await expect(page.getByRole('option', { name: new RegExp(patient.full_name) }).first()).toBeVisible()
    await axe('inbox, patient suggestions')
    await page.getByRole('option', { name: new RegExp(patient.full_name) }).first().click()
    await item.getByTestId('assign-submit').click()
    await expect(item).toHaveCount(0)
    await expect(page.getByTestId('toast').filter({ hasText: `${T.es.assigned} ${patient.full_name}` })).toBeVisible()
    if (badgeBefore === 0) await expect(page.getByTestId('inbox-badge')).toHaveCount(0)
    await axe('inbox after assigning')

    await expect(tile.getByRole('button', { name: /Periapical/ }).first()).toBeVisible({ timeout: 60_000 })
    await expect(tile.getByTestId('thumb')).toBeVisible({ timeout: 60_000 })
    await expectAccessible(other, 'Bridge: patient images, the assigned capture')
    await shot(other, '92-bridge-assigned-on-patient')

    // Appointment changes from another desk reach this tab's agenda, and say so.
    const day = await freeOpenDay(page)
    await other.goto(`${base()}/agenda?date=${day}`)
    await expect(other.getByTestId('agenda-grid')).toBeVisible()
    await liveOpen(other)
    const [cab] = await apiGet<{ cabinet_id: string }[]>(page, '/agenda/cabinets')
    const [pro] = await apiGet<{ user_id: string }[]>(page, '/agenda/professionals')
    await apiPost(page, '/appointments', { patient_id: patient.patient_id, professional_id: pro!.user_id, cabinet_id: cab!.cabinet_id, start: `${day}T10:00`, duration_min: 30, reason: 'Revisión e2e' })
    // (The agenda and the toast name the patient as the appointment does: first name and surname.)
    await expect(other.getByTestId('agenda-grid').locator('.appt').filter({ hasText: patient.last_name })).toBeVisible({ timeout: 60_000 })
    await expect(other.getByTestId('live-toast').filter({ hasText: `${T.es.newAppt}: ` }).filter({ hasText: patient.last_name })).toBeVisible()
    await expectAccessible(other, 'Bridge: agenda, appointment from another desk')
    await other.close()

    // The device's recent uploads: the capture, ready, on the patient's record.
    await page.goto(`${base()}/settings/bridge`)
    await page.getByTestId('bridge-device').filter({ hasText: name }).getByRole('button', { name: new RegExp(`Gestionar ${name}`) }).click()
    const upload = page.getByTestId('recent-upload').filter({ hasText: filename })
    await expect(upload).toContainText(T.es.ready)
    await expect(upload.getByRole('link', { name: patient.full_name })).toHaveAttribute('href', `/patients/${patient.patient_id}/images`)

    // Rotate with a day's grace: a new key; both work until the old one's grace ends.
    await page.getByTestId('device-rotate').click()
    await expect(page.getByTestId('rotate-form')).toBeVisible()
    await expect(page.getByTestId('rotate-grace')).toContainText(T.es.grace)
    await axe('rotate dialog')
    await page.getByTestId('rotate-submit').click()
    await expect(page.getByTestId('key-dialog')).toBeVisible()
    const newKey = (await page.getByTestId('api-key').textContent())!.trim()
    expect(newKey).toMatch(KEY_RE)
    expect(newKey).not.toBe(key)
    await expect(page.getByTestId('grace-note')).toContainText(T.es.grace)
    await axe('the rotated key')
    await closeKey(page, newKey)
    await expect(page.getByTestId('previous-key')).toContainText(key.split('.')[0]!)
    expect((await heartbeat(request, key)).status).toBe(200)
    expect((await heartbeat(request, newKey)).status).toBe(200)

    // Revoke, after a confirmation: both keys stop working.
    await page.getByTestId('device-revoke').click()
    const confirm = page.getByRole('alertdialog').or(page.getByRole('dialog')).filter({ hasText: `¿Revocar ${name}?` })
    await expect(confirm).toBeVisible()
    await axe('revoke confirmation')
    await page.getByTestId('revoke-confirm').click()
    await expect(page.getByTestId('device-status')).toHaveText(T.es.revoked)
    await expect(page.getByTestId('revoked-note')).toBeVisible()
    await expect(page.getByTestId('device-rotate')).toHaveCount(0)
    for (const k of [newKey, key]) expect(await heartbeat(request, k)).toEqual({ status: 401, code: 'DEVICE_KEY_INVALID' })
    await axe('device revoked')
    await shot(page, '93-bridge-device-revoked')
    await page.getByTestId('device-back').click()
    await expect(page.getByTestId('bridge-device').filter({ hasText: name })).toHaveAttribute('data-status', 'revoked')
  })

  test('admin, in English, from the keyboard: register, the key once, a capture assigned', async ({ page, request }) => {
    const axe = (label: string) => expectAccessible(page, `Bridge: ${label}`)
    await signIn(page, 'admin@demo.clinic')
    await setLanguage(page, 'en')
    await liveOpen(page)
    await openBridge(page, 'en')
    await axe('devices')
    await page.getByTestId('bridge-register').focus()
    await page.keyboard.press('Enter')
    await expect(page.locator('#dev-name')).toBeFocused()
    const name = `Panoramic ${stamp}`
    await page.keyboard.type(name)
    await page.keyboard.press('Enter') // submits the form
    await expect(page.getByTestId('key-dialog')).toContainText(T.en.once)
    const key = (await page.getByTestId('api-key').textContent())!.trim()
    expect(key).toMatch(KEY_RE)
    await axe('the key, shown once')
    await page.getByTestId('key-done').focus()
    await page.keyboard.press('Enter')
    await expect(page.getByTestId('key-dialog')).toHaveCount(0)
    await expect(page.getByTestId('bridge-device').filter({ hasText: name })).toContainText(T.en.never)

    // The toast's link, reached from the keyboard, opens the inbox.
    const filename = `PAN_${stamp}.jpg`
    const imageId = await sendCapture(request, key, filename)
    const toast = page.getByTestId('live-toast').filter({ hasText: T.en.inboxToast })
    await expect(toast).toBeVisible({ timeout: 60_000 })
    await axe('devices, with a toast')
    await toast.getByRole('link', { name: T.en.openInbox }).focus()
    await page.keyboard.press('Enter')
    await expect(page).toHaveURL(/\/inbox$/)
    const item = page.locator(`[data-testid="inbox-item"][data-image="${imageId}"]`)
    await expect(item).toBeVisible()
    await expect(item.getByTestId('inbox-reason')).toHaveText('No match')
    await axe('inbox')
    const patient = (await apiGet<{ items: { full_name: string; last_name: string }[] }>(page, '/patients?limit=2')).items[1]!
    await item.locator(`#assign-${imageId}`).focus()
    await page.keyboard.type(patient.last_name)
    await expect(page.getByRole('option', { name: new RegExp(patient.full_name) }).first()).toBeVisible()
    // Namesakes may come first: arrow down to this patient's suggestion.
    const names = await page.getByRole('option').allInnerTexts()
    const at = names.findIndex((n) => n.includes(patient.full_name))
    for (let i = 0; i <= at; i++) await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter') // picks the suggestion
    await expect(item.locator(`#assign-${imageId}`)).toHaveValue(patient.full_name)
    await page.keyboard.press('Tab')
    await expect(item.getByTestId('assign-submit')).toBeFocused()
    await page.keyboard.press('Enter')
    await expect(item).toHaveCount(0)
    await expect(page.getByTestId('toast').filter({ hasText: `${T.en.assigned} ${patient.full_name}` })).toBeVisible()
    await axe('inbox after assigning')
  })

  test('a receptionist sees neither the Bridge tab nor the inbox', async ({ page }) => {
    await signIn(page, 'reception@demo.clinic')
    await expect(page.getByTestId('nav-patients')).toBeVisible()
    await expect(page.getByTestId('nav-inbox')).toHaveCount(0)
    await page.getByTestId('nav-settings').click()
    await expect(page.getByTestId('settings-tab-clinic')).toBeVisible()
    await expect(page.getByTestId('settings-tab-bridge')).toHaveCount(0)
    await page.goto(`${base()}/settings/bridge`)
    await expect(page.getByTestId('settings-tab-clinic')).toHaveAttribute('aria-selected', 'true')
    await expect(page.getByTestId('bridge-settings')).toHaveCount(0)
    await page.goto(`${base()}/inbox`)
    await expect(page).toHaveURL(`${base()}/`)
    await liveOpen(page) // the live connection is for every staff member
  })
})

// The same screens on a phone, in Spanish and then English.
test.describe('phone (375×812)', () => {
  test.use({ viewport: { width: 375, height: 812 }, hasTouch: true })

  test('every Bridge and inbox state passes axe-core in Spanish and English', async ({ page, request }) => {
    await signIn(page, 'admin@demo.clinic')
    await liveOpen(page)
    for (const lang of ['es', 'en'] as const) {
      const axe = (label: string) => expectAccessible(page, `Bridge (phone): ${label}`)
      await setLanguage(page, lang)
      await openBridge(page, lang)
      await axe('devices')
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
      const name = `Sensor ${lang} ${stamp}`
      const key = await register(page, lang, name, axe)
      if (lang === 'es') await shot(page, '95-phone-bridge-key')
      await closeKey(page, key)
      await axe('devices, one more')
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
      await page.getByTestId('bridge-device').filter({ hasText: name }).getByRole('button', { name: new RegExp(name) }).last().click()
      await expect(page.getByTestId('device-name')).toHaveText(name)
      await axe('device')
      await page.getByTestId('device-edit').click()
      await expect(page.getByTestId('device-form')).toBeVisible()
      await axe('edit device')
      await page.keyboard.press('Escape')
      await expect(page.getByTestId('device-form')).toHaveCount(0)
      await page.getByTestId('device-rotate').click()
      await expect(page.getByTestId('rotate-form')).toBeVisible()
      await axe('rotate dialog')
      await page.keyboard.press('Escape')
      await page.getByTestId('device-revoke').click()
      await expect(page.getByTestId('revoke-confirm')).toBeVisible()
      await axe('revoke confirmation')
      await page.keyboard.press('Escape')
      await expect(page.getByTestId('revoke-confirm')).toHaveCount(0)

      const filename = `phone_${lang}_${stamp}.jpg`
      await page.getByTestId('nav-inbox').click()
      await expect(page.locator('.page h1')).toBeVisible()
      const imageId = await sendCapture(request, key, filename)
      await expect(page.getByTestId('live-toast').filter({ hasText: T[lang].inboxToast })).toBeVisible({ timeout: 60_000 })
      const item = page.locator(`[data-testid="inbox-item"][data-image="${imageId}"]`)
      await expect(item).toBeVisible()
      await axe('inbox with a capture and a toast')
      await expect(item.getByTestId('inbox-thumb')).toBeVisible({ timeout: 60_000 })
      if (lang === 'es') await shot(page, '96-phone-inbox')
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
      await item.getByTestId('discard').click()
      await expect(page.getByTestId('discard-confirm')).toBeVisible()
      await axe('discard confirmation')
      await page.getByTestId('discard-confirm').click()
      await expect(item).toHaveCount(0)
    }
  })
})
