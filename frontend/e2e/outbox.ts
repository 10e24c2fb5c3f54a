// Reading the developer outbox (ADR 0704) from an e2e spec: the booking link a recall or
// follow-up message carries (chalicelib/booking/invites.py). The integrator's "follows the
// link and books" step starts from `mailedBookingLink`.
import type { APIRequestContext } from '@playwright/test'
import { expect } from './test'
import { base } from './helpers'

/** The booking invitation in the newest mail to `to`: `<stack>/api/v1/public/booking/<clinic>?invite=…&ref=recall:<id>`
 *  (the stack's own address, the query kept). Polls until the mail is there. */
export async function mailedBookingLink(request: APIRequestContext, to: string): Promise<string> {
  const outbox = process.env.E2E_OUTBOX_URL
  expect(outbox, 'the local stack printed no developer outbox URL (test-artifacts/stack.log)').toBeTruthy()
  const key = new URL(outbox!).searchParams.get('key')
  let link = ''
  await expect(async () => {
    const list = await (await request.get(`${base()}/_local/outbox/messages.json?key=${key}`)).json()
    const mail = (list.mail as { id: string; to: string[] }[]).find((m) => m.to.some((x) => x.includes(to)))
    expect(mail, `no mail to ${to} yet`).toBeTruthy()
    let found: RegExpMatchArray | null = null
    for (const part of ['text', 'html']) {
      const r = await request.get(`${base()}/_local/outbox/mail/${mail!.id}/${part}?key=${key}`)
      const text = r.ok() ? (await r.text()).replace(/=\r?\n/g, '').replace(/&amp;/g, '&') : ''
      found = text.match(/https?:\/\/[^\s"'<>]*\/api\/v1\/public\/booking\/[^\s"'<>]+/)
      if (found) break
    }
    expect(found, 'the mail carries no booking link').toBeTruthy()
    link = found![0]
  }).toPass({ timeout: 60_000 })
  const u = new URL(link)
  return `${base()}${u.pathname}${u.search}`
}
