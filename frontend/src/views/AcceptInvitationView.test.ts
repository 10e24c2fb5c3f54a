import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import AcceptInvitationView from './AcceptInvitationView.vue'
import { mountAt } from '@/test/setup'
import { passwordChecks } from '@/auth/passwordPolicy'

afterEach(() => {
  vi.unstubAllGlobals()
  localStorage.clear()
  document.body.innerHTML = ''
})

const json = (data: unknown, status = 200, extra: Record<string, unknown> = {}) =>
  new Response(JSON.stringify({ data, message: status < 400 ? null : 'x', ...extra }), { status, headers: { 'Content-Type': 'application/json' } })
const preview = (existing: boolean) => ({ clinic_name: 'Clínica Demo', email: 'nuevo@demo.clinic', role: 'hygienist', valid_until: '2026-12-10T10:00:00Z', existing_account: existing })
const tokens = { access_token: 'A', token_type: 'Bearer', expires_in: 900, refresh_token: 'R', refresh_expires_in: 86400, user: { user_id: 'U', email: 'nuevo@demo.clinic', name: 'Nuevo', language: 'es' }, clinic: { clinic_id: 'C', name: 'Clínica Demo' }, role: 'hygienist', clinics: [] }
const me = { ...tokens, permissions: [], plan: 'pro', session_id: 'S' }
const TOKEN = 'tok_0123456789abcdef'
const home = [{ path: '/accept-invitation', name: 'accept-invitation', component: AcceptInvitationView }]

function server(existing: boolean, accept: (body: Record<string, unknown>) => Response) {
  const calls: { method: string; path: string; body?: Record<string, unknown> }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const path = new URL(input, 'http://x').pathname
      const body = init?.body ? JSON.parse(String(init.body)) : undefined
      calls.push({ method: init?.method ?? 'GET', path, body })
      if (path.endsWith(`/invitations/${TOKEN}`)) return json(preview(existing))
      if (path.endsWith('/invitations/accept')) return accept(body)
      if (path.endsWith('/auth/me')) return json(me)
      return json(null, 404)
    }),
  )
  return calls
}

describe('accepting a staff invitation', () => {
  it('a newcomer sees who invites them, chooses a name and a password meeting the policy shown, and is signed in', async () => {
    const calls = server(false, () => json(tokens))
    const { wrapper, router } = await mountAt(AcceptInvitationView, `/accept-invitation?token=${TOKEN}`, home)
    const facts = wrapper.get('[data-testid="invite-facts"]').text()
    expect(facts).toContain('Clínica Demo')
    expect(facts).toContain('Higienista')
    expect(facts).toContain('nuevo@demo.clinic')
    await wrapper.get('#name').setValue('Nuria Vidal')
    await wrapper.get('#password').setValue('short')
    const policy = () => wrapper.findAll('[data-testid="password-policy"] li').map((li) => li.attributes('data-ok'))
    expect(policy()).toEqual(['false', 'true', 'true'])
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(calls.some((c) => c.path.endsWith('/invitations/accept'))).toBe(false) // refused before sending
    expect(wrapper.text()).toContain('La contraseña aún no cumple los requisitos')
    await wrapper.get('#password').setValue('Sonrisa-Blanca-42')
    await wrapper.get('#confirm').setValue('Sonrisa-Blanca-4')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.text()).toContain('Las dos contraseñas no coinciden')
    await wrapper.get('#confirm').setValue('Sonrisa-Blanca-42')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    const accept = calls.find((c) => c.path.endsWith('/invitations/accept'))
    expect(accept?.body).toEqual({ token: TOKEN, password: 'Sonrisa-Blanca-42', name: 'Nuria Vidal' })
    expect(router.currentRoute.value.path).toBe('/')
  })

  it("the server's policy has the last word: its field errors show under the password", async () => {
    server(false, () => json(null, 422, { code: 'VALIDATION_ERROR', errors: [{ field: 'password', message: 'La contraseña es demasiado común o demasiado simple.' }] }))
    const { wrapper, router } = await mountAt(AcceptInvitationView, `/accept-invitation?token=${TOKEN}`, home)
    await wrapper.get('#name').setValue('Nuria Vidal')
    await wrapper.get('#password').setValue('password123')
    await wrapper.get('#confirm').setValue('password123')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('#password-err').text()).toBe('La contraseña es demasiado común o demasiado simple.')
    expect(router.currentRoute.value.path).toBe('/accept-invitation')
  })

  it('someone with an account enters its current password; a wrong one says what to do', async () => {
    const calls = server(true, () => json(null, 401, { code: 'INVALID_CREDENTIALS' }))
    const { wrapper, router } = await mountAt(AcceptInvitationView, `/accept-invitation?token=${TOKEN}`, home)
    expect(wrapper.find('#name').exists()).toBe(false)
    expect(wrapper.find('#confirm').exists()).toBe(false)
    expect(wrapper.get('#password').attributes('autocomplete')).toBe('current-password')
    await wrapper.get('#password').setValue('whatever-it-was')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(calls.find((c) => c.path.endsWith('/invitations/accept'))?.body).toEqual({ token: TOKEN, password: 'whatever-it-was' })
    expect(wrapper.get('[data-testid="invite-error"]').text()).toContain('Esa no es la contraseña de tu cuenta')
    expect(router.currentRoute.value.path).toBe('/accept-invitation')
  })

  it('a used, withdrawn or expired link says so, with the way to sign in', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(null, 404, { code: 'NOT_FOUND' })))
    const { wrapper } = await mountAt(AcceptInvitationView, `/accept-invitation?token=${TOKEN}`, home)
    expect(wrapper.get('[data-testid="invite-problem"]').text()).toContain('no es válido')
    expect(wrapper.find('form').exists()).toBe(false)
    const none = await mountAt(AcceptInvitationView, '/accept-invitation', home)
    expect(none.wrapper.get('[data-testid="invite-problem"]').text()).toContain('no es válido')
  })
})

describe('a link that cannot be used says why', () => {
  it.each([
    ['INVITATION_USED', 'ya se usó'],
    ['INVITATION_REVOKED', 'retiró'],
    ['INVITATION_EXPIRED', 'caducó'],
  ])('%s', async (code, text) => {
    vi.stubGlobal('fetch', vi.fn(async () => json(null, 409, { code })))
    const { wrapper } = await mountAt(AcceptInvitationView, `/accept-invitation?token=${TOKEN}`, home)
    expect(wrapper.get('[data-testid="invite-problem"]').text()).toContain(text)
  })
})

describe('the password policy shown', () => {
  it('mirrors the server: length, not the email, some variety', () => {
    expect(passwordChecks('', 'a@b.es').map((c) => c.ok)).toEqual([false, false, false])
    expect(passwordChecks('aaaaaaaaaaaa', 'a@b.es').map((c) => c.ok)).toEqual([true, true, false])
    expect(passwordChecks('Nuria@Clinic.es', 'nuria@clinic.es').map((c) => c.ok)).toEqual([true, false, true])
    expect(passwordChecks('Sonrisa-Blanca-42', 'a@b.es').every((c) => c.ok)).toBe(true)
  })
})
