// Communications. A patient's WhatsApp message arrives the way Meta delivers it (a signed
// webhook POST to the running stack), shows in the clinic's inbox, unread, and is answered from
// the keyboard alone; outside the 24-hour window only a template can go, about one of the
// patient's appointments; consents are granted and withdrawn with their history on the record;
// the reminders, the end-of-day email and the WhatsApp connection change in Settings. The local
// stack never reaches Meta: what it "sent" is read from the developer outbox (its stand-in for
// the Graph API). Spanish and English, desktop and phone, axe-core on every screen and dialog.
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { test, expect, type APIRequestContext, type Page } from './test'
import { apiGet, base, expectAccessible, setLanguage, shot, signIn } from './helpers'

// The demo clinic's WhatsApp app secret is set by the seed (fake, local only): read it from
// there, so the two never drift apart.
const SEED = readFileSync(fileURLToPath(new URL('../../infra/local/seed/comms.py', import.meta.url)), 'utf8')
const SEED_SECRET = /APP_SECRET = "([^"]+)"/.exec(SEED)![1]!
// What the settings screen connects with later in this file (also fake).
const NEW = { token: 'EAAG-e2e-access-token-0123456789', secret: 'e2e-app-secret-0123456789abcdef', verify: 'e2e-verify-token-0123456789' }
const stamp = Date.now().toString(36).slice(-5)

interface Conv { patient_id: string; patient_name: string | null; unread: number; window_open: boolean }
interface Patient { patient_id: string; full_name: string; whatsapp: string | null }
interface Consent { channel: string; granted: boolean; history: unknown[] }
interface Me { clinic: { clinic_id: string } }
interface Wa { connected: boolean; phone_number_id: string | null }

/** Meta's notification of one text message from `from`, signed with `secret` and POSTed to the clinic's webhook. */
async function deliver(request: APIRequestContext, clinicId: string, pnid: string, from: string, text: string, secret: string) {
  const doc = {
    object: 'whatsapp_business_account',
    entry: [{
      id: '209000000000001',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { phone_number_id: pnid },
          messages: [{ from: from.replace(/^\+/, ''), id: `wamid.E2E${stamp}${Math.random().toString(36).slice(2, 10)}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
        },
      }],
    }],
  }
  const raw = Buffer.from(JSON.stringify(doc))
  const sig = 'sha256=' + createHmac('sha256', secret).update(raw).digest('hex')
  return request.post(`${base()}/api/v1/public/whatsapp/${clinicId}/webhook`, { data: raw, headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': sig } })
}

/** What the local Graph API stand-in received (the developer outbox), newest first. */
async function outboxWhatsApp(request: APIRequestContext): Promise<{ to: string; type: string; summary: string }[]> {
  const outbox = process.env.E2E_OUTBOX_URL
  expect(outbox, 'the local stack printed no developer outbox URL (test-artifacts/stack.log)').toBeTruthy()
  const key = new URL(outbox!).searchParams.get('key')
  const list = await (await request.get(`${base()}/_local/outbox/messages.json?key=${key}`)).json()
  return list.whatsapp
}

/** Press Tab until `target` has the focus (the keyboard-only way to reach it). */
async function tabTo(page: Page, target: ReturnType<Page['locator']>, max = 60) {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement || el.contains(document.activeElement)).catch(() => false)) return
    await page.keyboard.press('Tab')
  }
  throw new Error('Tab never reached the element')
}

async function setup(page: Page) {
  const me = await apiGet<Me>(page, '/auth/me')
  const wa = await apiGet<Wa>(page, '/comms/whatsapp')
  expect(wa.connected, 'the demo clinic has WhatsApp connected (infra/local/seed/comms.py)').toBe(true)
  return { clinicId: me.clinic.clinic_id, pnid: wa.phone_number_id! }
}

test.describe.serial('communications', () => {
  test('a WhatsApp message through the webhook, unread in the inbox, answered with the keyboard only (es, desktop)', async ({ page, request }) => {
    await signIn(page, 'admin@demo.clinic')
    const { clinicId, pnid } = await setup(page)
    // A seeded conversation: the patient has a WhatsApp number and consented to it.
    const convs = (await apiGet<{ items: Conv[] }>(page, '/comms/conversations')).items
    const conv = convs[convs.length - 1]!
    const patient = await apiGet<Patient>(page, `/patients/${conv.patient_id}`)
    expect(patient.whatsapp).toBeTruthy()

    await page.getByTestId('nav-messages').click()
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mensajes')
    await expect(page.getByTestId('conversation').first()).toBeVisible()
    await expectAccessible(page, 'inbox')

    // Signed with another secret, nothing is stored; with the clinic's, the message arrives.
    expect((await deliver(request, clinicId, pnid, patient.whatsapp!, 'falso', 'not-the-secret-0000')).status()).toBe(401)
    const text = `¿Puedo cambiar la cita al jueves? ${stamp}`
    const r = await deliver(request, clinicId, pnid, patient.whatsapp!, text, SEED_SECRET)
    expect(r.status(), await r.text()).toBe(200)
    // The live connection (or, without it, the next poll) brings it to the top of the list, unread.
    const row = page.locator(`[data-testid="conversation"][data-patient="${patient.patient_id}"]`)
    await expect(page.getByTestId('conversation').first()).toHaveAttribute('data-patient', patient.patient_id)
    await expect(row).toContainText(text)
    await expect(row.getByTestId('unread-badge')).toBeVisible()
    await shot(page, 'comms-10-inbox-unread')

    // Keyboard only: Tab to the conversation, Enter opens it; Tab to the reply, Enter sends.
    await page.goto(`${base()}/messages`) // from the top of the page
    await expect(row.getByTestId('unread-badge')).toBeVisible()
    await tabTo(page, row)
    await page.keyboard.press('Enter')
    await expect(page).toHaveURL(new RegExp(`/messages\\?patient=${patient.patient_id}`))
    const thread = page.getByTestId('thread')
    await expect(thread.getByTestId('bubble').last()).toContainText(text)
    await expect(page.getByTestId('window-open')).toContainText(/durante \d+ h \d+ min más|durante \d+ min más/)
    await expect(row.getByTestId('unread-badge')).toHaveCount(0) // read now
    await expectAccessible(page, 'inbox: a conversation')
    await tabTo(page, page.getByTestId('reply-text'))
    const reply = `Sí, el jueves a las 17:00 le va bien ${stamp}`
    await page.keyboard.type(reply)
    await page.keyboard.press('Enter')
    await expect(thread.locator('[data-direction="out"]').last()).toContainText(reply)
    await expect(page.getByTestId('reply-text')).toHaveValue('')
    await shot(page, 'comms-11-thread-replied')
    // The stand-in for Meta got it, to the patient's number; the list shows it as the last message.
    await expect.poll(async () => (await outboxWhatsApp(request)).find((w) => w.summary === reply)?.to).toBe(patient.whatsapp!.replace(/^\+/, ''))
    await expect(row).toContainText(`Tú: ${reply}`)
    // The server agrees: read, the window open.
    const after = (await apiGet<{ items: Conv[] }>(page, '/comms/conversations')).items.find((c) => c.patient_id === patient.patient_id)!
    expect(after.unread).toBe(0)
    expect(after.window_open).toBe(true)
  })

  test('consent granted and withdrawn with its history; outside the window, a template (en, phone)', async ({ page, request }) => {
    await page.setViewportSize({ width: 390, height: 844 })
    await signIn(page, 'admin@demo.clinic')
    await setLanguage(page, 'en')
    // A patient with a WhatsApp number, an appointment to come, no WhatsApp consent yet and no conversation.
    const inConv = new Set((await apiGet<{ items: Conv[] }>(page, '/comms/conversations')).items.map((c) => c.patient_id))
    const list = await apiGet<{ items: { patient_id: string }[] }>(page, '/patients?limit=100')
    let patient: Patient | null = null
    for (const p of list.items) {
      if (inConv.has(p.patient_id)) continue
      const full = await apiGet<Patient>(page, `/patients/${p.patient_id}`)
      if (!full.whatsapp) continue
      const consents = await apiGet<Consent[]>(page, `/comms/patients/${p.patient_id}/consents`)
      if (consents.find((c) => c.channel === 'whatsapp')?.granted) continue
      // "upcoming" starts at the beginning of today; the template needs one still to come.
      const appts = await apiGet<{ items: { status: string; start: string }[] }>(page, `/patients/${p.patient_id}/appointments?when=upcoming`)
      if (!appts.items.some((a) => (a.status === 'scheduled' || a.status === 'confirmed') && Date.parse(a.start) > Date.now())) continue
      patient = full
      break
    }
    expect(patient, 'the demo seed has a WhatsApp patient with an appointment to come and no WhatsApp consent').toBeTruthy()
    const pid = patient!.patient_id

    await page.goto(`${base()}/patients/${pid}/messages`)
    const wa = page.getByTestId('consent-whatsapp')
    await expect(wa).toHaveAttribute('data-state', /never|withdrawn/)
    await expectAccessible(page, 'patient: messages and consents')
    // Nothing on the phone's width scrolls sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)

    // Grant: how the patient said so is required.
    await page.getByTestId('consent-change-whatsapp').click()
    const dialog = page.getByRole('dialog')
    await expect(dialog).toContainText('Consent for WhatsApp')
    await page.getByTestId('consent-save').click()
    await expect(dialog.locator('.field-error')).toContainText(/required/i)
    await expectAccessible(page, 'consent dialog, inline error')
    await dialog.locator('#consent-source').click()
    await page.getByRole('option', { name: 'In person, verbally' }).click()
    await page.getByTestId('consent-save').click()
    await expect(dialog).toBeHidden()
    await expect(wa).toHaveAttribute('data-state', 'granted')
    await expect(wa).toContainText('In person, verbally')
    await expect(wa).toContainText('by ') // who recorded it

    // Outside the window (the patient never wrote): the conversation offers templates and says why.
    await page.getByRole('link', { name: 'Open the WhatsApp conversation' }).click()
    await expect(page.getByTestId('thread-name')).toHaveText(patient!.full_name)
    await expect(page.getByTestId('window-closed')).toContainText('only lets you send them a template approved by Meta')
    await expect(page.getByTestId('reply-text')).toHaveCount(0)
    await expect(page.getByTestId('template-appointment')).toBeVisible()
    await expectAccessible(page, 'inbox: window closed, templates')
    await shot(page, 'comms-20-phone-template')
    const before = (await outboxWhatsApp(request)).length
    await page.getByTestId('template-send').click()
    await expect(page.getByTestId('thread').locator('[data-direction="out"]').last()).toContainText('Reminder (cuspide_appointment_reminder)')
    await expect.poll(async () => (await outboxWhatsApp(request)).length).toBeGreaterThan(before)
    const sent = (await outboxWhatsApp(request))[0]!
    expect(sent.type).toBe('template')
    expect(sent.summary).toContain('cuspide_appointment_reminder')
    expect(sent.to).toBe(patient!.whatsapp!.replace(/^\+/, ''))

    // Withdraw: the history keeps both, newest first.
    await page.goto(`${base()}/patients/${pid}/messages`)
    await expect(page.getByTestId('patient-message').first()).toContainText('Reminder')
    await page.getByTestId('consent-change-whatsapp').click()
    await expect(dialog).toContainText('Withdraw consent for WhatsApp')
    await dialog.locator('#consent-source').click()
    await page.getByRole('option', { name: 'By phone' }).click()
    await page.getByTestId('consent-save').click()
    await expect(dialog).toBeHidden()
    await expect(wa).toHaveAttribute('data-state', 'withdrawn')
    await wa.locator('summary').click()
    const history = page.getByTestId('consent-history-whatsapp').locator('li')
    await expect(history).toHaveCount(2)
    await expect(history.first()).toContainText('Withdrawn')
    await expect(history.first()).toContainText('By phone')
    await expect(history.last()).toContainText('Granted')
    await expectAccessible(page, 'patient: consent history')
    // Without consent nothing more can be sent: the API says so, in words.
    await page.goto(`${base()}/messages?patient=${pid}`)
    await page.getByTestId('template-send').click()
    await expect(page.getByTestId('send-error')).toContainText('has not consented to WhatsApp')
  })

  test('settings: reminders, end-of-day email, WhatsApp test, new credentials and disconnect (es desktop, en phone)', async ({ page, request }) => {
    await signIn(page, 'admin@demo.clinic')
    const { clinicId, pnid } = await setup(page)
    await page.goto(`${base()}/settings/comms`)
    const s = page.getByTestId('comms-settings')
    await expect(s.getByTestId('lead')).toHaveCount(2) // the seed: 24 h and 2 h
    await expect(page.getByTestId('whatsapp-status')).toHaveAttribute('data-status', /connected|unverified/)
    // Secrets are never shown back, not even masked.
    await expect(page.getByTestId('whatsapp-facts')).not.toContainText('••••')
    await expect(page.getByTestId('whatsapp-facts')).toContainText('Guardado')
    await expectAccessible(page, 'settings: communications')
    await shot(page, 'comms-30-settings')

    // Reminders: a third lead time (3 days), by email only; end of day at 18:30 to two people.
    await page.getByTestId('lead-add').click()
    const amount = page.getByTestId('lead-value-2').locator('input')
    await amount.click()
    await amount.press('Control+a')
    await amount.pressSequentially('3')
    await amount.press('Tab')
    await page.getByTestId('lead-unit-2').click()
    await page.getByRole('option', { name: 'días' }).click()
    await page.getByTestId('reminder-channel-whatsapp').click()
    await page.getByTestId('eod-time').fill('18:30')
    await page.getByTestId('eod-recipients').fill('direccion@demo.clinic, no-es-un-correo')
    await page.getByTestId('comms-save').click()
    await expect(s.locator('.field-error')).toContainText('no-es-un-correo')
    await expectAccessible(page, 'settings: communications, inline errors')
    await page.getByTestId('eod-recipients').fill('direccion@demo.clinic, gerencia@demo.clinic')
    await page.getByTestId('comms-save').click()
    await expect(page.getByText('Comunicaciones guardadas')).toBeVisible()
    const saved = await apiGet<{ reminder_leads_min: number[]; reminder_channels: string[]; eod_time: string; eod_recipients: string[] }>(page, '/comms/settings')
    expect(saved).toMatchObject({ reminder_leads_min: [4320, 1440, 120], reminder_channels: ['email'], eod_time: '18:30', eod_recipients: ['direccion@demo.clinic', 'gerencia@demo.clinic'] })
    await page.reload()
    await expect(s.getByTestId('lead')).toHaveCount(3)
    await expect(page.getByTestId('eod-time')).toHaveValue('18:30')

    // WhatsApp: test against the stand-in, then new credentials: only the new secret signs now.
    await page.getByTestId('whatsapp-test').click()
    await expect(page.getByText('La conexión funciona')).toBeVisible()
    await expect(page.getByTestId('whatsapp-status')).toHaveAttribute('data-status', 'connected')
    await page.getByTestId('whatsapp-edit').click()
    const form = page.getByTestId('whatsapp-form')
    await expect(form.locator('#wa-pnid')).toHaveValue(pnid)
    await form.locator('#wa-access_token').fill('short')
    await page.getByTestId('whatsapp-connect').click()
    await expect(form.locator('.field-error').first()).toBeVisible()
    await expectAccessible(page, 'settings: WhatsApp credentials, inline errors')
    await form.locator('#wa-access_token').fill(NEW.token)
    await form.locator('#wa-app_secret').fill(NEW.secret)
    await form.locator('#wa-verify_token').fill(NEW.verify)
    await page.getByTestId('whatsapp-connect').click()
    await expect(page.getByText('WhatsApp conectado')).toBeVisible()
    await expect(page.getByTestId('whatsapp-form')).toHaveCount(0)
    await expect(page.locator('body')).not.toContainText(NEW.secret)
    const someone = (await apiGet<{ items: Conv[] }>(page, '/comms/conversations')).items[0]!
    const number = (await apiGet<Patient>(page, `/patients/${someone.patient_id}`)).whatsapp!
    expect((await deliver(request, clinicId, pnid, number, 'vieja', SEED_SECRET)).status()).toBe(401)
    expect((await deliver(request, clinicId, pnid, number, `nueva ${stamp}`, NEW.secret)).status()).toBe(200)

    // Disconnect asks first; then nothing is connected until it is connected again.
    await page.getByTestId('whatsapp-disconnect').click()
    const confirm = page.getByRole('alertdialog').or(page.getByRole('dialog'))
    await expect(confirm).toContainText('¿Desconectar WhatsApp?')
    await expectAccessible(page, 'settings: disconnect WhatsApp, confirmation')
    await confirm.getByRole('button', { name: 'Desconectar' }).click()
    await expect(page.getByTestId('whatsapp-status')).toHaveAttribute('data-status', 'disconnected')
    expect((await deliver(request, clinicId, pnid, number, 'nada', NEW.secret)).status()).toBe(404)

    // In English on a phone: connect again (the rest of the suite finds WhatsApp as it was).
    await page.setViewportSize({ width: 390, height: 844 })
    await setLanguage(page, 'en')
    await expect(page.getByTestId('whatsapp-status')).toHaveText('Not connected')
    await expectAccessible(page, 'settings: WhatsApp disconnected (en, phone)')
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await shot(page, 'comms-31-phone-settings-en')
    await form.locator('#wa-pnid').fill(pnid)
    await form.locator('#wa-waba').fill('209000000000001')
    await form.locator('#wa-access_token').fill(NEW.token)
    await form.locator('#wa-app_secret').fill(SEED_SECRET)
    await form.locator('#wa-verify_token').fill(NEW.verify)
    await page.getByTestId('whatsapp-connect').click()
    await expect(page.getByText('WhatsApp connected')).toBeVisible()
    expect((await deliver(request, clinicId, pnid, number, `otra vez ${stamp}`, SEED_SECRET)).status()).toBe(200)
  })
})
