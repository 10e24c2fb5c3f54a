// Getting in. A new member of staff: the admin invites from Settings → Team, the invitation
// email's link opens /accept-invitation, the newcomer chooses a name and a password (the policy
// shown as they type) and lands signed in, in Spanish and in English, on a desktop and a phone.
// A forgotten password: the link by email, a new password, every session closed.
import { test, expect, type APIRequestContext, type Page } from './test'
import { base, expectAccessible, setLanguage, signIn, signOut } from './helpers'

async function invite(page: Page, email: string) {
  await signIn(page, 'admin@demo.clinic')
  await page.goto(`${base()}/settings/staff`)
  await page.getByTestId('invite-open').click()
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel('Correo').fill(email)
  await dialog.locator('#inv-role').click()
  await page.getByRole('option', { name: 'Higienista' }).click()
  await dialog.getByRole('button', { name: 'Enviar invitación' }).click()
  await expect(dialog).toBeHidden()
  await signOut(page)
}

/** The link to `path` in the newest mail to `email` the local stack "sent" (its developer outbox). */
async function mailedLink(request: APIRequestContext, email: string, path: string, after = ''): Promise<string> {
  const outbox = process.env.E2E_OUTBOX_URL
  expect(outbox, 'the local stack printed no developer outbox URL (test-artifacts/stack.log)').toBeTruthy()
  const key = new URL(outbox!).searchParams.get('key')
  let link = ''
  await expect(async () => {
    const list = await (await request.get(`${base()}/_local/outbox/messages.json?key=${key}`)).json()
    const mail = (list.mail as { id: string; to: string[]; at: string }[]).find((m) => m.to.includes(email) && m.at > after)
    expect(mail, `no mail to ${email} yet`).toBeTruthy()
    // The plain-text part when the mail has one (SES keeps only the HTML of a simple send).
    let found: RegExpMatchArray | null = null
    for (const part of ['text', 'html']) {
      const r = await request.get(`${base()}/_local/outbox/mail/${mail!.id}/${part}?key=${key}`)
      found = r.ok() ? (await r.text()).match(new RegExp(`https?://[^\\s"'<>]*${path}\\?token=[\\w.~-]+`)) : null
      if (found) break
    }
    expect(found, `the mail carries no ${path} link`).toBeTruthy()
    link = found![0]
  }).toPass({ timeout: 60_000 })
  return new URL(link).pathname + new URL(link).search
}

test.describe('invitations', () => {
  test('a newcomer accepts, chooses a password meeting the policy, and is signed in (es, desktop)', async ({ page, request }) => {
    const email = `nuria.${Date.now()}@demo.clinic`
    await invite(page, email)
    const link = await mailedLink(request, email, '/accept-invitation')
    await page.goto(`${base()}${link}`)
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Únete a tu clínica')
    await expect(page.getByTestId('invite-facts')).toContainText('Clínica Demo')
    await expect(page.getByTestId('invite-facts')).toContainText('Higienista')
    await expect(page.getByTestId('invite-facts')).toContainText(email)
    await expectAccessible(page, 'accept an invitation')
    await page.getByLabel('Tu nombre y apellidos').fill('Nuria Vidal')
    await page.locator('#password').fill('corta')
    await expect(page.getByTestId('password-policy').locator('li').first()).toHaveAttribute('data-ok', 'false')
    await page.locator('#password').fill('Sonrisa-Blanca-42')
    await expect(page.getByTestId('password-policy').locator('li[data-ok="true"]')).toHaveCount(3)
    await page.locator('#confirm').fill('Sonrisa-Blanca-42')
    await page.getByTestId('invite-submit').click()
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hola, Nuria', { timeout: 60_000 })
    // The link is single-use.
    await signOut(page)
    await page.goto(`${base()}${link}`)
    await expect(page.getByTestId('invite-problem')).toContainText('ya se usó')
    await expectAccessible(page, 'an invitation already used')
    // And the new password works at the sign-in page.
    await page.goto(`${base()}/login`)
    await page.getByLabel('Correo electrónico').fill(email)
    await page.locator('#password').fill('Sonrisa-Blanca-42')
    await page.getByTestId('login-submit').click()
    await expect(page.getByTestId('user-menu')).toBeVisible({ timeout: 60_000 })
  })

  test.describe('phone (375×812)', () => {
    test.use({ viewport: { width: 375, height: 812 } })
    test('in English, from the keyboard', async ({ page, request }) => {
      const email = `leo.${Date.now()}@demo.clinic`
      await invite(page, email)
      const link = await mailedLink(request, email, '/accept-invitation')
      await page.goto(`${base()}${link}`)
      await page.getByTestId('auth-language').click()
      await expect(page.locator('html')).toHaveAttribute('lang', 'en')
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Join your clinic')
      await expectAccessible(page, 'accept an invitation (phone)')
      await page.getByLabel('Your full name').focus()
      await page.keyboard.type('Leo Martín')
      await page.keyboard.press('Tab')
      await expect(page.locator('#password')).toBeFocused()
      await page.keyboard.type('Sonrisa-Blanca-42')
      await page.keyboard.press('Tab') // the show-password button
      await page.keyboard.press('Tab')
      await expect(page.locator('#confirm')).toBeFocused()
      await page.keyboard.type('Sonrisa-Blanca-41')
      await page.keyboard.press('Enter')
      await expect(page.locator('#confirm-err')).toHaveText('The two passwords do not match')
      await expectAccessible(page, 'accept an invitation, passwords differ (phone)')
      await page.locator('#confirm').fill('Sonrisa-Blanca-42')
      await page.keyboard.press('Enter')
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hello, Leo', { timeout: 60_000 })
      await setLanguage(page, 'es')
    })
  })
})

test.describe('forgotten password', () => {
  test('ask for the link, choose a new password, the old one and the old session stop working', async ({ page, request, browser }) => {
    // A member of staff of their own (the demo users keep the demo password for other tests).
    const email = `olvido.${Date.now()}@demo.clinic`
    await invite(page, email)
    const accept = new URL(`${base()}${await mailedLink(request, email, '/accept-invitation')}`).searchParams.get('token')
    const joined = await request.post(`${base()}/api/v1/invitations/accept`, { data: { token: accept, name: 'Olga Vidal', password: 'Primera-Clave-17' } })
    expect(joined.status()).toBe(200)
    // Signed in elsewhere with the old password: that session must end with the reset.
    const other = await browser.newContext()
    const elsewhere = await other.newPage()
    await elsewhere.goto(`${base()}/login`)
    await elsewhere.getByLabel('Correo electrónico').fill(email)
    await elsewhere.locator('#password').fill('Primera-Clave-17')
    await elsewhere.getByTestId('login-submit').click()
    await expect(elsewhere.getByTestId('user-menu')).toBeVisible({ timeout: 60_000 })

    const asked = new Date().toISOString()
    await page.goto(`${base()}/login`)
    await page.getByTestId('forgot-link').click()
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('¿Has olvidado tu contraseña?')
    await expectAccessible(page, 'forgot password')
    await page.getByLabel('Correo electrónico').fill(email)
    await page.getByTestId('reset-submit').click()
    await expect(page.getByTestId('reset-sent')).toContainText(email)
    await expectAccessible(page, 'forgot password, link sent')
    const link = await mailedLink(request, email, '/reset-password', asked)
    await page.goto(`${base()}${link}`)
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Elige una contraseña nueva')
    await expectAccessible(page, 'reset password')
    await page.locator('#password').fill('Segunda-Clave-28')
    await page.locator('#confirm').fill('Segunda-Clave-28')
    await page.getByTestId('reset-save').click()
    await expect(page.getByTestId('session-notice')).toContainText('Contraseña cambiada')
    await expectAccessible(page, 'sign-in after a password reset')
    // The link is single-use; the old password fails, the new one works.
    await page.goto(`${base()}${link}`)
    await expect(page.getByTestId('reset-problem')).toContainText('ya no es válido')
    await page.goto(`${base()}/login`)
    await page.getByLabel('Correo electrónico').fill(email)
    await page.locator('#password').fill('Primera-Clave-17')
    await page.getByTestId('login-submit').click()
    await expect(page.getByTestId('login-error')).toHaveText('Correo o contraseña incorrectos.')
    await page.locator('#password').fill('Segunda-Clave-28')
    await page.getByTestId('login-submit').click()
    await expect(page.getByTestId('user-menu')).toBeVisible({ timeout: 60_000 })
    // The other browser's session was closed by the reset.
    await elsewhere.reload()
    await expect(elsewhere.getByTestId('login-submit')).toBeVisible({ timeout: 60_000 })
    await other.close()
  })
})
