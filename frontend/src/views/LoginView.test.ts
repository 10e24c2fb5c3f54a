import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import LoginView from './LoginView.vue'
import { mountAt } from '@/test/setup'

afterEach(() => {
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
})
