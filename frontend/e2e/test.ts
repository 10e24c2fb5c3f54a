import { test as base, expect } from '@playwright/test'

/**
 * Playwright's `test`, with one addition for every spec: the app runs under the Content
 * Security Policy the local server sends (the deployed one, infra/headers.py), and anything the
 * browser refuses under it (a script, a style, a connection, an image) fails the test.
 */
export const test = base.extend<{ contentSecurityPolicy: void }>({
  contentSecurityPolicy: [
    async ({ context }, use) => {
      const refused: string[] = []
      context.on('console', (msg) => {
        if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) refused.push(msg.text())
      })
      await use()
      expect(refused, 'the browser refused something under the Content-Security-Policy').toEqual([])
    },
    { auto: true },
  ],
})

export { expect }
export type { APIRequestContext, Page } from '@playwright/test'
