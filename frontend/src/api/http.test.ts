import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, setAuthHooks, type AuthHooks } from './http'

type Reply = { status: number; body?: unknown }
const json = (r: Reply) => new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status, headers: { 'Content-Type': 'application/json' } })

/** fetch answers in order; each call records the Authorization header it carried. */
function server(...replies: (Reply | ((auth: string | null) => Reply))[]) {
  const seen: (string | null)[] = []
  const fetch = vi.fn(async (_url: string, init: RequestInit) => {
    const auth = (init.headers as Record<string, string>).Authorization ?? null
    seen.push(auth)
    const r = replies.shift()
    if (!r) throw new Error('unexpected request')
    return json(typeof r === 'function' ? r(auth) : r)
  })
  vi.stubGlobal('fetch', fetch)
  return { fetch, seen }
}

function hooks(over: Partial<AuthHooks> = {}) {
  let current = 'A1'
  const h = {
    accessToken: vi.fn(async () => current),
    refreshAfter401: vi.fn(async () => (current = 'A2')),
    sessionLost: vi.fn(),
    language: () => 'es',
    ...over,
  }
  setAuthHooks(h)
  return { h, set: (t: string) => (current = t) }
}

afterEach(() => {
  vi.unstubAllGlobals()
  setAuthHooks(null)
})

describe('request', () => {
  it('unwraps the envelope and sends the token and the language', async () => {
    const s = server({ status: 200, body: { data: { ok: 1 }, message: null } })
    hooks()
    expect(await api.get('/x')).toEqual({ ok: 1 })
    expect(s.seen).toEqual(['Bearer A1'])
    expect((s.fetch.mock.calls[0]![1].headers as Record<string, string>)['Accept-Language']).toBe('es')
  })

  it('an expired access token is refreshed once and the request retried with the new one', async () => {
    const s = server({ status: 401, body: { code: 'TOKEN_EXPIRED', message: 'expired' } }, { status: 200, body: { data: 'ok' } })
    const { h } = hooks()
    expect(await api.get('/x')).toBe('ok')
    expect(h.refreshAfter401).toHaveBeenCalledTimes(1)
    expect(s.seen).toEqual(['Bearer A1', 'Bearer A2'])
    expect(h.sessionLost).not.toHaveBeenCalled()
  })

  it('a revoked session (401 for the current token) ends the session with its code', async () => {
    server({ status: 401, body: { code: 'SESSION_REVOKED', message: 'This session has ended; sign in again.' } })
    const { h } = hooks()
    const e = await api.get('/x').catch((x) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e.status).toBe(401)
    expect(h.sessionLost).toHaveBeenCalledWith('SESSION_REVOKED')
  })

  it('a 401 for a token replaced meanwhile (clinic switch) is retried, not a revocation', async () => {
    const { h, set } = hooks()
    const s = server((auth) => {
      set('B1') // the switch lands while this request is in flight
      return { status: 401, body: { code: 'SESSION_REVOKED' } }
    }, (auth) => ({ status: auth === 'Bearer B1' ? 200 : 401, body: { data: 'fresh' } }))
    expect(await api.get('/x')).toBe('fresh')
    expect(s.seen).toEqual(['Bearer A1', 'Bearer B1'])
    expect(h.sessionLost).not.toHaveBeenCalled()
  })

  it('field errors of a 422 come back on the error; a failed network is a NETWORK error', async () => {
    server({ status: 422, body: { data: null, message: 'Invalid input', code: 'VALIDATION_FAILED', errors: [{ field: 'body.email', message: 'not an email' }] } })
    hooks()
    const e = (await api.post('/x', { email: 'x' }).catch((x) => x)) as ApiError
    expect(e.code).toBe('VALIDATION_FAILED')
    expect(e.fieldErrors()).toEqual({ 'body.email': 'not an email' })
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    const n = (await api.get('/x').catch((x) => x)) as ApiError
    expect(n.code).toBe('NETWORK')
  })

  it('calls without auth never carry a token', async () => {
    const s = server({ status: 200, body: { data: 1 } })
    hooks()
    await api.post('/auth/login', {}, { auth: false })
    expect(s.seen).toEqual([null])
  })
})
