import { expect, type Page } from '@playwright/test'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PASSWORD = 'cuspide-demo'
export const base = () => process.env.E2E_BASE_URL!
const SHOTS = resolve(fileURLToPath(new URL('../../test-artifacts/screenshots', import.meta.url)))

// Sign-in hashes the password with Argon2id and the local stack shares two cores with the rest
// of the suite: give it time, but fail with a clear message.
const SIGN_IN_MS = 60_000

/** Wait until the screen has settled (no skeleton, nothing busy, images decoded), then save it. */
export async function shot(page: Page, name: string) {
  await expect(page.locator('.p-skeleton')).toHaveCount(0)
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0)
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

/** Call the API as the signed-in user of `page` (its stored access token), for test set-up. */
export async function apiGet<T>(page: Page, path: string): Promise<T> {
  return page.evaluate(async (p) => {
    const s = JSON.parse(localStorage.getItem('cuspide.session') ?? 'null') as { accessToken: string } | null
    const res = await fetch(`/api/v1${p}`, { headers: s ? { Authorization: `Bearer ${s.accessToken}` } : {} })
    const body = await res.json()
    if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${JSON.stringify(body)}`)
    return body.data
  }, path) as Promise<T>
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
    const w = await apiGet<{ days: DayOut[] }>(page, `/agenda/week?start=${isoDate(start)}`)
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
