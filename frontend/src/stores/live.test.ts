import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useSession } from './session'
import { useLive } from './live'
import type { LiveDeps, SocketLike } from '@/live/client'

const ok = (data: unknown, status = 200) => new Response(JSON.stringify({ data, message: null }), { status, headers: { 'Content-Type': 'application/json' } })
const tokens = (clinic: string) => ({
  access_token: `A-${clinic}`, token_type: 'Bearer', expires_in: 900, refresh_token: `R-${clinic}`, refresh_expires_in: 86400,
  user: { user_id: 'U1', email: 'a@b.c', name: 'Ana', language: 'es' }, clinic: { clinic_id: clinic, name: clinic }, role: 'admin', clinics: [],
})
const me = (clinic: string) => ({ ...tokens(clinic), permissions: ['*'], plan: 'pro', session_id: 'S' })

class Sock implements SocketLike {
  onopen: SocketLike['onopen'] = null
  onmessage: SocketLike['onmessage'] = null
  onclose: SocketLike['onclose'] = null
  onerror: SocketLike['onerror'] = null
  closed = false
  constructor(public url: string) {}
  close() {
    this.closed = true
  }
}

function api() {
  let clinic = 'C1'
  let inbox = 2
  const calls: string[] = []
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    const path = url.split('?')[0]!
    calls.push(`${init.method} ${path}`)
    if (path === '/api/v1/auth/login') return ok(tokens(clinic))
    if (path === '/api/v1/auth/switch-clinic') {
      clinic = 'C2'
      return ok(tokens(clinic))
    }
    if (path === '/api/v1/auth/me') return ok(me(clinic))
    if (path === '/api/v1/auth/logout') return new Response(null, { status: 204 })
    if (path === '/api/v1/bridge/inbox') return ok({ items: Array.from({ length: inbox }, (_, i) => ({ image_id: `I${i}` })), next_cursor: null })
    if (path === '/api/v1/patients/P1') return ok({ patient_id: 'P1', full_name: 'Ana García' })
    throw new Error(`unexpected ${url}`)
  }))
  return { calls, setInbox: (n: number) => (inbox = n) }
}

function deps() {
  const sockets: Sock[] = []
  let n = 0
  const d: LiveDeps = {
    ticket: vi.fn(async () => ({ ticket: `T${++n}`, url: 'ws://x/live' })),
    socket: (url) => {
      const s = new Sock(url)
      sockets.push(s)
      return s
    },
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
    random: () => 0.5,
    now: () => Date.now(),
  }
  return { d, sockets }
}

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
})
afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

describe('the live store', () => {
  it('one connection per tab; a refreshed token or a clinic switch renews it; sign-out closes it', async () => {
    const server = api()
    const session = useSession()
    await session.login('a@b.c', 'pw')
    const live = useLive()
    const { d, sockets } = deps()
    live.start(d)
    live.start(d)
    await vi.waitFor(() => expect(sockets).toHaveLength(1))
    sockets[0]!.onopen?.({})
    expect(live.state).toBe('open')
    await vi.waitFor(() => expect(live.inboxCount).toBe(2))

    // A clinic switch (new tokens): a new ticket and socket, then the old one closes.
    server.setInbox(0)
    await session.switchClinic('C2')
    await vi.waitFor(() => expect(sockets).toHaveLength(2))
    expect(sockets[1]!.url).toContain('ticket=T2')
    sockets[1]!.onopen?.({})
    expect(sockets[0]!.closed).toBe(true)
    await vi.waitFor(() => expect(live.inboxCount).toBe(0))

    await session.logout()
    expect(sockets[1]!.closed).toBe(true)
    expect(live.state).toBe('stopped')
    expect(live.inboxCount).toBeNull()
    expect(d.ticket).toHaveBeenCalledTimes(2)
  })

  it('capture events refresh the inbox badge (a burst is one read); names are looked up once', async () => {
    const server = api()
    const session = useSession()
    await session.login('a@b.c', 'pw')
    const live = useLive()
    const { d, sockets } = deps()
    live.start(d)
    await vi.waitFor(() => expect(sockets).toHaveLength(1))
    await vi.waitFor(() => expect(live.inboxCount).toBe(2))
    const seen: string[] = []
    const off = live.subscribe((ev) => seen.push(ev.type))
    server.setInbox(5)
    const before = server.calls.filter((c) => c.endsWith('/bridge/inbox')).length
    for (let i = 0; i < 5; i++) sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'capture.received', event_id: `E${i}`, data: { image_id: `I${i}`, inbox: true } }) })
    await vi.waitFor(() => expect(live.inboxCount).toBe(5))
    expect(server.calls.filter((c) => c.endsWith('/bridge/inbox')).length - before).toBe(1)
    expect(seen).toHaveLength(5)
    off()
    expect(await live.patientName('P1')).toBe('Ana García')
    expect(await live.patientName('P1')).toBe('Ana García')
    expect(server.calls.filter((c) => c.endsWith('/patients/P1'))).toHaveLength(1)
    live.stop()
  })
})
