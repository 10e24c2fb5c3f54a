import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import ForgotPasswordView from './ForgotPasswordView.vue'
import ResetPasswordView from './ResetPasswordView.vue'
import { mountAt } from '@/test/setup'

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const json = (data: unknown, status = 200, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  new Response(status === 204 ? null : JSON.stringify({ data, message: status < 400 ? null : 'x', ...extra }), { status, headers: { 'Content-Type': 'application/json', ...headers } })
const TOKEN = 'rst_0123456789abcdef'
const routes = [
  { path: '/reset-password', name: 'reset-password', component: ResetPasswordView },
  { path: '/forgot-password', name: 'forgot-password', component: ForgotPasswordView },
]

function server(routes: Record<string, (body?: Record<string, unknown>) => Response>) {
  const calls: { method: string; path: string; body?: Record<string, unknown> }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const path = new URL(input, 'http://x').pathname.replace('/api/v1', '')
      const body = init?.body ? JSON.parse(String(init.body)) : undefined
      const method = init?.method ?? 'GET'
      calls.push({ method, path, body })
      return (routes[`${method} ${path}`] ?? (() => json(null, 404)))(body)
    }),
  )
  return calls
}

describe('forgotten password', () => {
  it('asks for the email and says the same thing whatever the server knows', async () => {
    const calls = server({ 'POST /auth/password-reset': () => json(null, 202) })
    const { wrapper } = await mountAt(ForgotPasswordView, '/forgot-password', routes)
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.text()).toContain('Este campo es obligatorio')
    expect(calls).toHaveLength(0)
    await wrapper.get('#email').setValue('nadie@demo.clinic')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(calls[0]).toEqual({ method: 'POST', path: '/auth/password-reset', body: { email: 'nadie@demo.clinic' } })
    expect(wrapper.get('[data-testid="reset-sent"]').text()).toBe('Si existe una cuenta con nadie@demo.clinic, te hemos enviado un enlace para cambiar la contraseña.')
  })

  it("too many requests: the server's wait, in minutes", async () => {
    server({ 'POST /auth/password-reset': () => json(null, 429, { code: 'RATE_LIMITED' }, { 'Retry-After': '300' }) })
    const { wrapper } = await mountAt(ForgotPasswordView, '/forgot-password', routes)
    await wrapper.get('#email').setValue('ana@demo.clinic')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="reset-error"]').text()).toBe('Demasiadas solicitudes. Vuelve a probar dentro de 5 min.')
  })
})

describe('choosing a new password from the link', () => {
  it('shows whose account, checks the policy and the repetition, saves, and sends to sign-in', async () => {
    const calls = server({
      [`GET /auth/password-reset/${TOKEN}`]: () => json({ email_hint: 'a•••@demo.clinic', valid_until: '2026-12-03T10:00:00Z' }),
      'POST /auth/password-reset/confirm': () => json(null, 204),
    })
    const { wrapper, router } = await mountAt(ResetPasswordView, `/reset-password?token=${TOKEN}`, routes)
    expect(wrapper.text()).toContain('Para la cuenta a•••@demo.clinic.')
    await wrapper.get('#password').setValue('corta')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.text()).toContain('La contraseña aún no cumple los requisitos')
    await wrapper.get('#password').setValue('Sonrisa-Blanca-42')
    await wrapper.get('#confirm').setValue('Sonrisa-Blanca-42')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ token: TOKEN, password: 'Sonrisa-Blanca-42' })
    expect(router.currentRoute.value.fullPath).toBe('/login?reason=password_reset')
  })

  it('a used or expired link says so and offers a new one; so does one used meanwhile', async () => {
    server({ [`GET /auth/password-reset/${TOKEN}`]: () => json(null, 404, { code: 'RESET_LINK_INVALID' }) })
    const { wrapper } = await mountAt(ResetPasswordView, `/reset-password?token=${TOKEN}`, routes)
    expect(wrapper.get('[data-testid="reset-problem"]').text()).toContain('ya no es válido')
    expect(wrapper.find('form').exists()).toBe(false)
    server({
      [`GET /auth/password-reset/${TOKEN}`]: () => json({ email_hint: 'a•••@demo.clinic', valid_until: '2026-12-03T10:00:00Z' }),
      'POST /auth/password-reset/confirm': () => json(null, 404, { code: 'RESET_LINK_INVALID' }),
    })
    const again = await mountAt(ResetPasswordView, `/reset-password?token=${TOKEN}`, routes)
    await again.wrapper.get('#password').setValue('Sonrisa-Blanca-42')
    await again.wrapper.get('#confirm').setValue('Sonrisa-Blanca-42')
    await again.wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(again.wrapper.get('[data-testid="reset-problem"]').text()).toContain('ya no es válido')
  })
})
