import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { api, ApiError, setAuthHooks } from '@/api/http'
import { forgetImageUrls } from '@/api/imaging'
import type { MeOut, TokensOut } from '@/api/types'
import { can as canKey } from '@/auth/permissions'
import { browserDeps, RefreshRejected, SessionManager, type EndReason } from '@/auth/session'
import { i18n } from '@/i18n'
import { DEFAULT_BRAND } from '@/styles/theme'

async function callRefresh(refreshToken: string): Promise<TokensOut> {
  try {
    return await api.post<TokensOut>('/auth/refresh', { refresh_token: refreshToken }, { auth: false })
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) throw new RefreshRejected(e.code)
    throw e
  }
}

export const useSession = defineStore('session', () => {
  const me = ref<MeOut | null>(null)
  const ended = ref<EndReason | null>(null)
  const manager = shallowRef<SessionManager | null>(null)
  const onEnd: ((r: EndReason) => void)[] = []
  const onNewTokens: (() => void)[] = []
  // While a clinic switch is under way, requests wait for its tokens (the old access token
  // stops working the moment the server moves the session).
  let switching: Promise<unknown> | null = null

  const permissions = computed(() => me.value?.permissions ?? [])
  const signedIn = computed(() => me.value !== null)
  const clinic = computed(() => me.value?.clinic ?? null)
  const brandColor = computed(() => me.value?.clinic.branding?.color ?? DEFAULT_BRAND)
  const can = (key?: string | string[] | null) => canKey(permissions.value, key)

  function ensureManager(): SessionManager {
    if (manager.value) return manager.value
    const m = new SessionManager(browserDeps(callRefresh))
    m.onTokens((_t, payload) => {
      // A clinic switch in another tab changes who we are: reload the profile.
      if (payload && me.value && payload.clinic.clinic_id !== me.value.clinic.clinic_id) void loadMe()
      onNewTokens.forEach((fn) => fn())
    })
    m.onEnded((reason) => {
      me.value = null
      forgetImageUrls()
      ended.value = reason
      onEnd.forEach((fn) => fn(reason))
    })
    setAuthHooks({
      accessToken: async () => {
        if (switching) await switching.catch(() => undefined)
        return m.accessToken()
      },
      refreshAfter401: async () => (await m.refresh())?.accessToken ?? null,
      sessionLost: (code) => m.end(code === 'SESSION_REVOKED' ? 'revoked' : 'expired'),
      language: () => String(i18n.global.locale.value),
    })
    manager.value = m
    return m
  }

  /** Restore a session stored by an earlier visit or another tab. */
  async function restore(): Promise<boolean> {
    const m = ensureManager()
    if (!m.start()) return false
    try {
      await loadMe()
      return true
    } catch {
      return false
    }
  }

  async function loadMe() {
    me.value = await api.get<MeOut>('/auth/me')
  }

  async function login(email: string, password: string, clinicId?: string) {
    const m = ensureManager()
    const out = await api.post<TokensOut>('/auth/login', { email, password, clinic_id: clinicId }, { auth: false })
    ended.value = null
    m.setTokens(out)
    await loadMe()
  }

  /** Accept a staff invitation (a new account's password, or an existing account's): signed in. */
  async function acceptInvitation(token: string, password: string, name?: string) {
    const m = ensureManager()
    const out = await api.post<TokensOut>('/invitations/accept', { token, password, ...(name ? { name } : {}) }, { auth: false })
    ended.value = null
    m.setTokens(out)
    await loadMe()
  }

  async function switchClinic(clinicId: string) {
    const m = ensureManager()
    const token = await m.accessToken()
    // Sent with the current token explicitly: the other requests wait for this one.
    const call = api.post<TokensOut>('/auth/switch-clinic', { clinic_id: clinicId }, { token })
    switching = call
    try {
      m.setTokens(await call)
    } finally {
      switching = null
    }
    await loadMe()
  }

  async function logout() {
    try {
      await api.post('/auth/logout')
    } catch {
      /* the session ends locally whatever the server says */
    }
    manager.value?.end('signed_out')
  }

  function onSessionEnded(fn: (r: EndReason) => void) {
    onEnd.push(fn)
  }

  /** New tokens in this tab: a refresh (here or adopted from another tab), a sign-in or a clinic switch. */
  function onTokensChanged(fn: () => void) {
    onNewTokens.push(fn)
  }

  return { me, ended, permissions, signedIn, clinic, brandColor, can, restore, loadMe, login, acceptInvitation, switchClinic, logout, onSessionEnded, onTokensChanged }
})
