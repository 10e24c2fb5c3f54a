import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import LoginView from './LoginView.vue'
import { mountAt } from '@/test/setup'
import { retryAfterSeconds } from '@/api/http'
import { setLocale } from '@/i18n'

afterEach(() => {
  vi.useRealTimers()
  setLocale('es')
  vi.unstubAllGlobals()
  localStorage.clear()
  document.body.innerHTML = ''
})

describe('sign-in page', () => {
  it('a revoked session arrives here with a clear message', async () => {
    const { wrapper } = await mountAt(LoginView, '/login?reason=revoked&next=/patients')
    expect(wrapper.get('[data-testid="session-notice"]').text()).toContain('Tu sesión se ha cerrado por seguridad')
  })

  it('an expired one says so, and a normal visit shows no notice', async () => {
    const { wrapper } = await mountAt(LoginView, '/login?reason=expired')
    expect(wrapper.get('[data-testid="session-notice"]').text()).toContain('Tu sesión ha caducado')
    const plain = await mountAt(LoginView, '/login')
    expect(plain.wrapper.find('[data-testid="session-notice"]').exists()).toBe(false)
  })

  it('validates inline before calling the API, and shows a wrong password where it happened', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ data: null, message: 'Wrong email or password.', code: 'INVALID_CREDENTIALS' }), { status: 401 }))
    vi.stubGlobal('fetch', fetch)
    const { wrapper } = await mountAt(LoginView, '/login')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.text()).toContain('Este campo es obligatorio')
    expect(fetch).not.toHaveBeenCalled()
    await wrapper.get('#email').setValue('ana@clinica')
    await wrapper.get('#email').trigger('blur')
    expect(wrapper.text()).toContain('Escribe un correo válido')
    await wrapper.get('#email').setValue('admin@demo.clinic')
    await wrapper.get('#password').setValue('nope')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(wrapper.get('[data-testid="login-error"]').text()).toBe('Correo o contraseña incorrectos.')
  })

  it('the password field is a plain text field, shown or hidden by a real (keyboard) button', async () => {
    const { wrapper } = await mountAt(LoginView, '/login')
    const field = () => wrapper.get('#password')
    const reveal = wrapper.get('[data-testid="password-reveal"]')
    expect(field().attributes('type')).toBe('password')
    // No popup: nothing a screen reader would announce as expandable (axe: aria-allowed-attr).
    expect(field().attributes('aria-expanded')).toBeUndefined()
    expect(field().attributes('aria-haspopup')).toBeUndefined()
    expect(reveal.element.tagName).toBe('BUTTON')
    expect(reveal.attributes('aria-label')).toBe('Mostrar la contraseña')
    expect(reveal.attributes('aria-pressed')).toBe('false')
    await reveal.trigger('click')
    expect(field().attributes('type')).toBe('text')
    expect(reveal.attributes('aria-pressed')).toBe('true')
  })

  async function throttled(retryAfter: string | null) {
    const headers: Record<string, string> = retryAfter === null ? {} : { 'Retry-After': retryAfter }
    const fetch = vi.fn(async () => new Response(JSON.stringify({ data: null, message: 'Too many', code: 'RATE_LIMITED' }), { status: 429, headers }))
    vi.stubGlobal('fetch', fetch)
    const { wrapper } = await mountAt(LoginView, '/login')
    await wrapper.get('#email').setValue('admin@demo.clinic')
    await wrapper.get('#password').setValue('nope')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    return { wrapper, fetch }
  }

  it("after too many attempts it shows the server's real wait, counts it down, then lets the user try again", async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    const { wrapper, fetch } = await throttled('485')
    const box = () => wrapper.get('[data-testid="login-error"]')
    expect(box().get('[aria-hidden="true"]').text()).toBe('Demasiados intentos. Podrás volver a probar dentro de 8 min 5 s.')
    // read once by screen readers, not every second
    expect(box().get('.sr-only').text()).toBe('Demasiados intentos. Podrás volver a probar dentro de 8 min 5 s.')
    expect(wrapper.get('[data-testid="login-submit"]').attributes('disabled')).toBeDefined()
    await vi.advanceTimersByTimeAsync(65_000)
    expect(box().get('[aria-hidden="true"]').text()).toBe('Demasiados intentos. Podrás volver a probar dentro de 7 min.')
    expect(box().get('.sr-only').text()).toContain('8 min 5 s')
    // the language switch re-translates what is on screen
    setLocale('en')
    await flushPromises()
    expect(box().get('[aria-hidden="true"]').text()).toBe('Too many attempts. You can try again in 7 min.')
    await wrapper.get('form').trigger('submit')
    expect(fetch).toHaveBeenCalledTimes(1) // still waiting: nothing sent
    await vi.advanceTimersByTimeAsync(420_000)
    expect(wrapper.find('[data-testid="login-error"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="login-submit"]').attributes('disabled')).toBeUndefined()
  })

  it('without a Retry-After it says to wait a moment, and a wrong password follows the language too', async () => {
    const { wrapper } = await throttled(null)
    expect(wrapper.get('[data-testid="login-error"]').text()).toBe('Demasiados intentos. Espera un minuto y vuelve a probar.')
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ data: null, message: 'x', code: 'INVALID_CREDENTIALS' }), { status: 401 })))
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="login-error"]').text()).toBe('Correo o contraseña incorrectos.')
    setLocale('en')
    await flushPromises()
    expect(wrapper.get('[data-testid="login-error"]').text()).toBe('Wrong email or password.')
  })

  it('Retry-After is read as seconds or as an HTTP date (RFC 9110)', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT')
    expect(retryAfterSeconds('120', now)).toBe(120)
    expect(retryAfterSeconds('Wed, 21 Oct 2026 07:30:30 GMT', now)).toBe(150)
    expect(retryAfterSeconds('Wed, 21 Oct 2026 07:20:00 GMT', now)).toBe(0)
    expect(retryAfterSeconds('soon', now)).toBeNull()
    expect(retryAfterSeconds(null, now)).toBeNull()
  })
})
