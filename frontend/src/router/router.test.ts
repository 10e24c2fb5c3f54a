import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { MeOut } from '@/api/types'

// The real router and guard, with a fresh session store per test.
async function setup(permissions: string[] | null, ended: 'revoked' | null = null) {
  vi.resetModules()
  setActivePinia(createPinia())
  const { router } = await import('./index')
  const { useSession } = await import('@/stores/session')
  const session = useSession()
  await router.push('/login') // the first navigation restores (no stored session here)
  if (permissions) session.me = { permissions, role: 'receptionist', user: { user_id: 'u', email: 'a@b.c', name: 'A', language: 'es' }, clinic: {}, clinics: [], plan: 'pro', session_id: 's' } as unknown as MeOut
  session.ended = ended
  return router
}

beforeEach(() => localStorage.clear())

describe('route gating', () => {
  it('signed out: any screen goes to sign-in, remembering where the user was going', async () => {
    const router = await setup(null)
    await router.push('/patients?q=ana')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.next).toBe('/patients?q=ana')
  })

  it('a session found revoked says why on the sign-in page', async () => {
    const router = await setup(null, 'revoked')
    await router.push('/agenda')
    expect(router.currentRoute.value.query).toMatchObject({ reason: 'revoked', next: '/agenda' })
  })

  it('a screen the role may not use is not reachable by URL either', async () => {
    const router = await setup(['patients.read', 'settings.staff.read'])
    await router.push('/agenda')
    expect(router.currentRoute.value.name).toBe('dashboard')
    await router.push('/patients')
    expect(router.currentRoute.value.name).toBe('patients')
    await router.push('/settings/staff')
    expect(router.currentRoute.value.name).toBe('settings')
  })

  it('VERI*FACTU alone opens Settings (a gestor invited to download the invoice book)', async () => {
    const router = await setup(['verifactu.books.export'])
    await router.push('/settings/verifactu')
    expect(router.currentRoute.value.name).toBe('settings')
    expect(router.currentRoute.value.params.section).toBe('verifactu')
    const none = await setup(['patients.read'])
    await none.push('/settings/verifactu')
    expect(none.currentRoute.value.name).toBe('dashboard')
  })

  it('a signed-in user visiting the sign-in page lands on the dashboard', async () => {
    const router = await setup(['patients.read'])
    await router.push('/patients')
    await router.push('/login')
    expect(router.currentRoute.value.name).toBe('dashboard')
  })
})
