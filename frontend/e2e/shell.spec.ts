import { test, expect } from './test'
import { base, expectAccessible, shot, signIn, signOut } from './helpers'

test('sign-in page, wrong password shown inline', async ({ page }) => {
  await page.goto(`${base()}/`)
  await expect(page).toHaveURL(/\/login/)
  await shot(page, '01-login')
  await expectAccessible(page, 'sign-in')
  await page.getByTestId('login-submit').click()
  await expect(page.getByText('Este campo es obligatorio').first()).toBeVisible() // validated before any request
  await expectAccessible(page, 'sign-in, empty fields')
  await page.getByLabel('Correo electrónico').fill('admin@demo.clinic')
  await page.locator('#password').fill('wrong-password')
  await page.keyboard.press('Enter') // the form works from the keyboard
  await expect(page.getByTestId('login-error')).toContainText('incorrectos', { timeout: 60_000 })
  await expectAccessible(page, 'sign-in, wrong password')
  // The same page on a phone, in both languages (the sign-in page has its own switch).
  await page.setViewportSize({ width: 375, height: 812 })
  await expectAccessible(page, 'sign-in, wrong password')
  await page.getByRole('button', { name: 'English' }).click()
  await expect(page.locator('html')).toHaveAttribute('lang', 'en')
  await expectAccessible(page, 'sign-in, wrong password')
  await page.setViewportSize({ width: 1280, height: 800 })
  await expectAccessible(page, 'sign-in, wrong password')
})

test('admin: dashboard with the seeded day, settings (clinic, staff, role tree)', async ({ page }) => {
  await signIn(page, 'admin@demo.clinic')
  // The dashboard shows today's agenda, or the next open day's when the clinic is closed today.
  await expect(page.getByTestId('dashboard-agenda').locator('li').first()).toBeVisible()
  await expect(page.getByTestId('dashboard-alerts').getByTestId('alert-chip').first()).toBeVisible()
  await shot(page, '02-dashboard')
  await expectAccessible(page, 'dashboard')
  await page.getByTestId('user-menu').click()
  await expect(page.getByRole('menuitem', { name: 'Cerrar sesión' })).toBeVisible()
  await expectAccessible(page, 'dashboard, user menu open')
  await page.keyboard.press('Escape')
  // The keyboard's first stop skips the navigation to the screen's heading.
  await page.goto(`${base()}/patients`)
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
  // It is the page's first stop for Tab (the first focusable element in document order).
  const first = await page.evaluate(() => document.querySelector<HTMLElement>('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')?.dataset.testid)
  expect(first).toBe('skip-link')
  await page.getByTestId('skip-link').focus()
  await expect(page.getByTestId('skip-link')).toBeFocused()
  await expect(page.getByTestId('skip-link')).toBeVisible()
  await page.keyboard.press('Enter')
  await expect(page.getByRole('heading', { level: 1 })).toBeFocused()
  await page.getByTestId('nav-settings').click()
  await expect(page.getByTestId('clinic-save')).toBeVisible()
  await shot(page, '10-settings-clinic')
  await expectAccessible(page, 'settings: clinic')
  await page.getByTestId('settings-tab-staff').click()
  await expect(page.getByText('reception@demo.clinic')).toBeVisible()
  await shot(page, '11-settings-staff')
  await expectAccessible(page, 'settings: staff')
  await page.getByTestId('invite-open').click()
  await expect(page.locator('#inv-email')).toBeFocused()
  await expectAccessible(page, 'settings: staff, invitation dialog')
  await page.keyboard.press('Escape')
  await expect(page.locator('#inv-email')).toHaveCount(0)
  await page.getByTestId('settings-tab-roles').click()
  await page.getByTestId('role-receptionist').click()
  // patients.* is partial for the receptionist: read/write but no medical history.
  await expect(page.locator('[data-key="patients.*"]')).toHaveAttribute('data-state', 'partial')
  await expect(page.locator('[data-key="patients.medical.read"]')).toHaveAttribute('data-state', 'unchecked')
  await shot(page, '12-settings-roles')
  await expectAccessible(page, 'settings: roles')
  await page.getByTestId('settings-tab-audit').click()
  await expect(page.getByTestId('audit-log')).toBeVisible()
  // Actions in words, not codes; filtered to what they were about.
  await expect(page.getByTestId('audit-action').filter({ hasText: 'Inicio de sesión' }).first()).toBeVisible()
  await expect(page.locator('code[data-testid="audit-action"]')).toHaveCount(0)
  await page.locator('#af-entity').click()
  await page.getByRole('option', { name: 'Pacientes' }).click()
  await expect(page.getByTestId('audit-clear')).toBeVisible()
  await expect(page.getByTestId('audit-action').filter({ hasText: 'Inicio de sesión' })).toHaveCount(0)
  await expectAccessible(page, 'settings: audit')
  await signOut(page)
  await expectAccessible(page, 'signed out')
})

test('receptionist: no settings for roles, no audit', async ({ page }) => {
  await signIn(page, 'reception@demo.clinic')
  await page.getByTestId('nav-settings').click()
  await expect(page.getByTestId('settings-tab-staff')).toBeVisible()
  await expect(page.getByTestId('settings-tab-roles')).toHaveCount(0)
  await expect(page.getByTestId('settings-tab-audit')).toHaveCount(0)
  await expect(page.locator('#c-name')).toBeDisabled()
  await expectAccessible(page, 'settings: clinic, read only')
  await page.getByTestId('settings-tab-staff').click()
  await expect(page.getByText('admin@demo.clinic')).toBeVisible()
  await expect(page.getByTestId('invite-open')).toHaveCount(0)
  await expectAccessible(page, 'settings: staff, read only')
})

test('dentist: clinic switcher', async ({ page }) => {
  await signIn(page, 'dentist@demo.clinic')
  const sw = page.getByTestId('clinic-switcher')
  await expect(sw).toBeVisible()
  // The switcher re-renders while the new clinic's profile loads: a click that lands meanwhile
  // can leave its list closed, so open it until the option shows (a person would click again).
  const choose = async (name: string, checkA11y = false) => {
    const option = page.getByRole('option', { name })
    await expect(async () => {
      if (!(await option.isVisible())) await sw.click()
      await expect(option).toBeVisible({ timeout: 2_000 })
    }).toPass({ timeout: 60_000 })
    if (checkA11y) await expectAccessible(page, 'clinic switcher open')
    await option.click()
    await expect(sw).toContainText(name)
  }
  await choose('Clínica Norte', true)
  await expect(page.getByText('Clínica Norte').first()).toBeVisible()
  await shot(page, '03-clinic-switched')
  await expectAccessible(page, 'dashboard after switching clinic')
  // Back to the demo clinic, so the next sign-in of this user lands there again.
  await choose('Clínica Demo')
})

test('two tabs refresh an expired token together without revoking the session', async ({ context }) => {
  const a = await context.newPage()
  await signIn(a, 'hygienist@demo.clinic')
  const b = await context.newPage()
  await b.goto(`${base()}/patients`)
  await expect(b.getByTestId('user-menu')).toBeVisible()
  // Both tabs find an expired access token at once: each must refresh, one rotation only.
  const expire = () => {
    const s = JSON.parse(localStorage.getItem('cuspide.session')!)
    localStorage.setItem('cuspide.session', JSON.stringify({ ...s, accessExpiresAt: Date.now() - 1000 }))
  }
  await a.evaluate(expire)
  const before = await a.evaluate(() => JSON.parse(localStorage.getItem('cuspide.session')!).refreshToken as string)
  await Promise.all([a.reload(), b.reload()])
  await expect(a.getByTestId('user-menu')).toBeVisible({ timeout: 60_000 })
  await expect(b.getByTestId('user-menu')).toBeVisible({ timeout: 60_000 })
  const after = await b.evaluate(() => JSON.parse(localStorage.getItem('cuspide.session')!).refreshToken as string)
  expect(after).not.toBe(before)
  // Had a tab presented the spent refresh token, the server would have revoked the session.
  await b.getByTestId('nav-patients').click()
  await expect(b.getByTestId('patient-list')).toBeVisible()
  await a.getByTestId('nav-agenda').click()
  await expect(a.getByTestId('agenda-grid')).toBeVisible()
  await expect(a).not.toHaveURL(/login/)
})

test('a revoked session sends every tab to sign-in with a clear message', async ({ context }) => {
  const page = await context.newPage()
  await signIn(page, 'assistant@demo.clinic')
  const other = await context.newPage()
  await other.goto(`${base()}/`)
  await expect(other.getByTestId('user-menu')).toBeVisible()
  for (const p of [page, other]) await expect(p.locator('.p-skeleton')).toHaveCount(0) // nothing in flight
  // The session ends elsewhere (signed out on another device, or revoked for reuse).
  await page.evaluate(async () => {
    const s = JSON.parse(localStorage.getItem('cuspide.session')!)
    const res = await fetch('/api/v1/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${s.accessToken}` } })
    if (res.status !== 204) throw new Error(`logout: ${res.status}`)
  })
  await page.getByTestId('nav-patients').click()
  await expect(page.getByTestId('session-notice')).toContainText('Tu sesión se ha cerrado')
  await expect(page).toHaveURL(/\/login\?.*reason=revoked/)
  await shot(page, '04-session-revoked')
  await expectAccessible(page, 'sign-in, session revoked')
  // The other tab was told over the BroadcastChannel.
  await expect(other.getByTestId('session-notice')).toBeVisible()
})
