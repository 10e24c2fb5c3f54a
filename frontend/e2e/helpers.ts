import { expect, type Page } from '@playwright/test'
import AxeBuilder from '@axe-core/playwright'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PASSWORD = 'cuspide-demo'
export const base = () => process.env.E2E_BASE_URL!
const SHOTS = resolve(fileURLToPath(new URL('../../test-artifacts/screenshots', import.meta.url)))

// Sign-in hashes the password with Argon2id and the local stack shares two cores with the rest
// of the suite: give it time, but fail with a clear message.
const SIGN_IN_MS = 60_000

/** Wait until the screen has settled: no skeleton, nothing busy, no transition half-way. */
async function settled(page: Page) {
  await expect(page.locator('.p-skeleton')).toHaveCount(0)
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0)
  // A dialog, a menu or a toast fading in (spinners run forever: not those). Vue starts a
  // transition a frame after it inserts the element, so wait two frames first: an element that
  // has just arrived is then animating, and waited for, instead of caught half-transparent.
  const idle = () =>
    page.waitForFunction(() =>
      document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity),
    )
  await idle()
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))
  await idle()
}

/** Wait until the screen has settled (no skeleton, nothing busy, images decoded), then save it. */
export async function shot(page: Page, name: string) {
  await settled(page)
  await page.evaluate(async () => {
    await document.fonts.ready
    const onScreen = (i: HTMLImageElement) => {
      const r = i.getBoundingClientRect()
      return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth
    }
    const pending = [...document.images].filter((i) => onScreen(i) && !i.complete)
    await Promise.all(pending.map((i) => i.decode().catch(() => undefined)))
  })
  await page.screenshot({ path: join(SHOTS, `${name}.png`), animations: 'disabled', caret: 'hide' })
}

/** The levels the definition of done asks for: WCAG 2.0 and 2.1, A and AA. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']

/**
 * Violations that are not ours to fix (third-party markup): each silences ONE rule on ONE
 * selector, with the reason. A violation in the app's own markup is fixed, never listed here.
 */
const NOT_OURS: { rule: string; selector: string; why: string }[] = [
  {
    rule: 'aria-hidden-focus',
    selector: '.p-select-overlay > .p-hidden-focusable',
    why:
      'PrimeVue 4 Select: the open list starts and ends with an empty span, aria-hidden and tabindex=0, ' +
      'that sends the focus back into the list when Tab reaches it (a focus wrap). It holds no content and ' +
      'never keeps the focus; dropping either attribute through `pt` would expose an empty stop or break the wrap.',
  },
]

/**
 * The screen as it is now has no critical or serious axe-core violation (WCAG 2.0/2.1 A and
 * AA; `allRules` runs every rule axe has, best practices too). A failure names the screen,
 * then each rule, its help text and the elements. The check is soft: the flow goes on, so one
 * run lists every screen's problems, and the test fails at the end.
 */
export async function expectAccessible(page: Page, label: string, opts: { allRules?: boolean } = {}) {
  await settled(page)
  const axe = new AxeBuilder({ page })
  if (!opts.allRules) axe.withTags(WCAG_TAGS)
  let { violations } = await axe.analyze()
  // A toast that arrived while axe ran is caught fading in, its colours half-way: look again
  // once it has settled (a real violation is still there the second time). The element axe
  // names is often inside the one that moves (a toast's summary in its message), so look at
  // its ancestors too.
  const moving = (target: string) =>
    page
      .locator(`css=${target}`)
      .first()
      .evaluate(
        (el) => {
          for (let e: Element | null = el; e; e = e.parentElement) {
            if (/-(enter|leave)-(active|from|to)\b/.test(String(e.className))) return true
            if (e.getAnimations().some((a) => a.playState === 'running')) return true
          }
          return false
        },
        undefined,
        // A locator waits for its element: one already gone (a toast on its way out) would
        // hold the test until its timeout instead of counting as moving.
        { timeout: 2_000 },
      )
      .catch(() => true) // gone already: it was on its way out
  const transient = async () => {
    for (const v of violations) for (const n of v.nodes) if (await moving(n.target.join(' '))) return true
    return false
  }
  for (let again = 0; again < 3 && (await transient()); again++) {
    await settled(page)
    violations = (await axe.analyze()).violations
  }
  const found: string[] = []
  for (const v of violations) {
    if (v.impact !== 'critical' && v.impact !== 'serious') continue
    const known = NOT_OURS.filter((k) => k.rule === v.id).map((k) => k.selector)
    const nodes = []
    for (const n of v.nodes) {
      const target = n.target.join(' ')
      const excused = known.length > 0 && (await page.locator(`css=${target}`).first().evaluate((el, sels) => sels.some((s) => el.matches(s)), known, { timeout: 2_000 }).catch(() => false))
      if (!excused) nodes.push(target)
    }
    if (nodes.length) found.push(`${v.id} (${v.impact}): ${v.help} → ${nodes.join(' | ')}`)
  }
  expect.soft(found, `axe-core on "${label}" (${page.viewportSize()?.width}px, ${await page.locator('html').getAttribute('lang')})`).toEqual([])
}

/** Switch the interface language from the user menu (the choice is kept for the next visit). */
export async function setLanguage(page: Page, lang: 'es' | 'en') {
  if ((await page.locator('html').getAttribute('lang')) === lang) return
  await page.getByTestId('user-menu').click()
  await page.getByRole('menuitem', { name: lang === 'en' ? 'English' : 'Español' }).click()
  await expect(page.locator('html')).toHaveAttribute('lang', lang)
}

export async function signIn(page: Page, email: string) {
  await page.goto(`${base()}/login`)
  await page.getByLabel('Correo electrónico').fill(email)
  await page.locator('#password').fill(PASSWORD)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('user-menu')).toBeVisible({ timeout: SIGN_IN_MS })
}

export async function signOut(page: Page) {
  await page.getByTestId('user-menu').click()
  await page.getByRole('menuitem', { name: 'Cerrar sesión' }).click()
  await expect(page.getByTestId('login-submit')).toBeVisible()
}

/** The API as the signed-in user of `page` (its stored access token), for test set-up: the
 *  `data` of a 2xx answer; any other answer throws with its status and body. */
export async function apiCall<T>(page: Page, method: string, path: string, body?: unknown): Promise<T> {
  const { status, out } = await apiAnswer(page, method, path, body)
  if (status >= 300) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(out)}`)
  return (out as { data: T } | null)?.data as T
}

export const apiGet = <T>(page: Page, path: string) => apiCall<T>(page, 'GET', path)

/** The status the API answers `page`'s user (for "and the server refuses too"). */
export async function apiStatus(page: Page, method: string, path: string, body?: unknown): Promise<number> {
  return (await apiAnswer(page, method, path, body)).status
}

async function apiAnswer(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; out: unknown }> {
  return page.evaluate(async ({ method, path, body }) => {
    const s = JSON.parse(localStorage.getItem('cuspide.session') ?? 'null') as { accessToken: string } | null
    const headers: Record<string, string> = { 'Content-Type': 'application/json' }
    if (s) headers.Authorization = `Bearer ${s.accessToken}`
    const res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await res.text()
    return { status: res.status, out: text ? JSON.parse(text) : null }
  }, { method, path, body })
}

export interface DayOut { date: string; closed: boolean; holiday: string | null; appointments: { start: string }[] }

export function isoDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

/**
 * An open day with nothing booked, whatever today is: the demo seed fills this week and the
 * next, so look from three weeks ahead for a day the clinic opens (not a weekend, not a
 * holiday) and whose agenda is empty.
 */
export async function freeOpenDay(page: Page): Promise<string> {
  const from = new Date()
  from.setDate(from.getDate() + 21)
  for (let week = 0; week < 8; week++) {
    const start = new Date(from)
    start.setDate(from.getDate() + 7 * week)
    // A day with only cancelled appointments is not free: they stay on screen, struck through.
    const w = await apiGet<{ days: DayOut[] }>(page, `/agenda/week?start=${isoDate(start)}&include_cancelled=true`)
    const day = w.days.find((d) => !d.closed && d.appointments.length === 0)
    if (day) return day.date
  }
  throw new Error('no free open day in the next three months')
}

/** Today when the clinic opens today, otherwise the next day it opens (for screenshots with data). */
export async function busyDay(page: Page): Promise<string> {
  const w = await apiGet<{ days: DayOut[] }>(page, `/agenda/week?start=${isoDate(new Date())}`)
  const day = w.days.find((d) => !d.closed && d.appointments.length > 0)
  if (!day) throw new Error('the demo seed has no appointments this week')
  return day.date
}
