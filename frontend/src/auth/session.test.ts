import { describe, expect, it, vi } from 'vitest'
import {
  RefreshRejected, SessionManager, STORAGE_KEY, refreshDelay, type ChannelLike, type LocksLike, type SessionDeps, type SessionMessage,
  type SharedTokensLike, type StorageLike, type StoredTokens,
} from './session'
import type { TokensOut } from '@/api/types'

/** navigator.locks with one lock: each request runs after the one before it has finished. */
function exclusiveLock(): LocksLike {
  let tail: Promise<unknown> = Promise.resolve()
  return {
    request: <T>(_n: string, cb: () => Promise<T>) => {
      const run = tail.then(cb, cb)
      tail = run.catch(() => undefined)
      return run
    },
  }
}

// A tiny "browser": one shared storage, a broadcast bus, an exclusive lock and a fake clock.
function world() {
  let now = 1_000_000
  const store = new Map<string, string>()
  const storage: StorageLike = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) }
  const channels: ChannelLike[] = []
  const bus = (): ChannelLike => {
    const ch: ChannelLike = {
      onmessage: null,
      postMessage: (m: SessionMessage) => channels.filter((c) => c !== ch).forEach((c) => c.onmessage?.({ data: structuredClone(m) })),
    }
    channels.push(ch)
    return ch
  }
  const locks = exclusiveLock()
  const timers: { at: number; fn: () => void; id: number }[] = []
  let nextId = 1
  const deps = (refresh: SessionDeps['refresh']): SessionDeps => ({
    refresh, storage, channel: bus(), locks, now: () => now,
    setTimer: (fn, ms) => { const id = nextId++; timers.push({ at: now + ms, fn, id }); return id },
    clearTimer: (id) => { const i = timers.findIndex((t) => t.id === id); if (i >= 0) timers.splice(i, 1) },
  })
  const advance = async (ms: number) => {
    now += ms
    for (;;) {
      const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      timers.splice(timers.indexOf(due), 1)
      due.fn()
      await flush()
    }
    await flush()
  }
  return { deps, advance, storage, store, timers, get now() { return now } }
}
const flush = async () => { for (let i = 0; i < 20; i++) await Promise.resolve() }

let counter = 0
function tokens(expiresIn = 900): TokensOut {
  counter++
  return {
    access_token: `access-${counter}`, token_type: 'Bearer', expires_in: expiresIn, refresh_token: `refresh-${counter}`, refresh_expires_in: 86400,
    user: { user_id: 'u', email: 'a@b.c', name: 'A', language: 'es' }, role: 'admin', clinics: [],
    clinic: { clinic_id: 'c1', name: 'C', legal_name: null, tax_id: null, address: null, country: 'ES', time_zone: 'Europe/Madrid', currency: 'EUR', language: 'es', plan: 'pro', branding: null, created_at: '' },
  }
}

// The server: rotating refresh tokens; presenting a spent one revokes the session.
function server() {
  const valid = new Set<string>()
  let revoked = false
  const calls: string[] = []
  const refresh = vi.fn(async (rt: string) => {
    calls.push(rt)
    await Promise.resolve()
    if (revoked || !valid.has(rt)) { revoked = true; throw new RefreshRejected('SESSION_REVOKED') }
    valid.delete(rt)
    const t = tokens()
    valid.add(t.refresh_token)
    return t
  })
  const issue = () => { const t = tokens(); valid.add(t.refresh_token); return t }
  return { refresh, issue, calls, get revoked() { return revoked } }
}

describe('refreshDelay', () => {
  it('refreshes two minutes before a 15-minute token expires', () => {
    expect(refreshDelay({ accessToken: '', refreshToken: '', accessExpiresAt: 900_000, refreshExpiresAt: 0 }, 0)).toBe(780_000)
  })
  it('keeps a margin of 20% for short tokens and never goes negative', () => {
    expect(refreshDelay({ accessToken: '', refreshToken: '', accessExpiresAt: 100_000, refreshExpiresAt: 0 }, 0)).toBe(80_000)
    expect(refreshDelay({ accessToken: '', refreshToken: '', accessExpiresAt: 0, refreshExpiresAt: 0 }, 10)).toBe(0)
  })
})

describe('SessionManager', () => {
  it('refreshes silently before expiry and stores the rotated tokens', async () => {
    const w = world()
    const s = server()
    const m = new SessionManager(w.deps(s.refresh))
    m.setTokens(s.issue())
    await w.advance(779_000)
    expect(s.refresh).not.toHaveBeenCalled()
    await w.advance(1_000)
    expect(s.refresh).toHaveBeenCalledTimes(1)
    expect(m.tokens?.refreshToken).toBe(JSON.parse(w.store.get(STORAGE_KEY)!).refreshToken)
    expect(await m.accessToken()).toBe(m.tokens!.accessToken)
  })

  it('coalesces concurrent refreshes in one tab into one call', async () => {
    const w = world()
    const s = server()
    const m = new SessionManager(w.deps(s.refresh))
    m.setTokens(s.issue())
    await Promise.all([m.refresh(), m.refresh(), m.refresh()])
    expect(s.refresh).toHaveBeenCalledTimes(1)
  })

  it('two tabs whose timers fire together never present the same refresh token', async () => {
    const w = world()
    const s = server()
    const a = new SessionManager(w.deps(s.refresh))
    const b = new SessionManager(w.deps(s.refresh))
    a.setTokens(s.issue()) // b learns the tokens over the channel
    expect(b.tokens?.refreshToken).toBe(a.tokens?.refreshToken)
    // Both ask at the same moment (e.g. both timers fire after the laptop wakes up).
    await Promise.all([a.refresh(), b.refresh()])
    expect(new Set(s.calls).size).toBe(s.calls.length)
    expect(s.revoked).toBe(false)
    expect(s.refresh).toHaveBeenCalledTimes(1)
    expect(b.tokens?.accessToken).toBe(a.tokens?.accessToken)
  })

  it('many rounds of refresh across three tabs keep the session alive', async () => {
    const w = world()
    const s = server()
    const tabs = [0, 1, 2].map(() => new SessionManager(w.deps(s.refresh)))
    tabs[0]!.setTokens(s.issue())
    for (let i = 0; i < 5; i++) await w.advance(800_000)
    expect(s.revoked).toBe(false)
    expect(s.refresh).toHaveBeenCalledTimes(5)
    expect(new Set(tabs.map((t) => t.tokens?.refreshToken)).size).toBe(1)
  })

  it('a new tab picks up the stored session', () => {
    const w = world()
    const s = server()
    new SessionManager(w.deps(s.refresh)).setTokens(s.issue())
    const fresh = new SessionManager(w.deps(s.refresh))
    expect(fresh.start()).toBe(true)
    expect(fresh.tokens?.accessToken).toBeTruthy()
  })

  it('a revoked session ends every tab with reason "revoked"', async () => {
    const w = world()
    const refresh = vi.fn(async () => { throw new RefreshRejected('SESSION_REVOKED') })
    const a = new SessionManager(w.deps(refresh))
    const b = new SessionManager(w.deps(refresh))
    const endedA = vi.fn()
    const endedB = vi.fn()
    a.onEnded(endedA)
    b.onEnded(endedB)
    a.setTokens(tokens())
    await a.refresh()
    expect(endedA).toHaveBeenCalledWith('revoked')
    expect(endedB).toHaveBeenCalledWith('revoked')
    expect(w.store.has(STORAGE_KEY)).toBe(false)
    expect(b.tokens).toBeNull()
  })

  it('an expired refresh token ends the session as "expired"', async () => {
    const w = world()
    const m = new SessionManager(w.deps(async () => { throw new RefreshRejected('TOKEN_EXPIRED') }))
    const ended = vi.fn()
    m.onEnded(ended)
    m.setTokens(tokens())
    await m.refresh()
    expect(ended).toHaveBeenCalledWith('expired')
  })

  it('a network failure keeps the session and retries later', async () => {
    const w = world()
    let fail = true
    const refresh = vi.fn(async () => { if (fail) throw new Error('offline'); return tokens() })
    const m = new SessionManager(w.deps(refresh))
    m.setTokens(tokens())
    await w.advance(780_000)
    expect(m.tokens).not.toBeNull()
    fail = false
    await w.advance(15_000)
    expect(refresh).toHaveBeenCalledTimes(2)
    expect(m.tokens).not.toBeNull()
  })

  it('signing out in one tab signs out the others', () => {
    const w = world()
    const a = new SessionManager(w.deps(vi.fn()))
    const b = new SessionManager(w.deps(vi.fn()))
    const ended = vi.fn()
    b.onEnded(ended)
    a.setTokens(tokens())
    a.end('signed_out')
    expect(ended).toHaveBeenCalledWith('signed_out')
    expect(b.tokens).toBeNull()
  })

  it('an expired access token is refreshed before use', async () => {
    const w = world()
    const s = server()
    const m = new SessionManager(w.deps(s.refresh))
    const first = m.setTokens(s.issue())
    w.timers.length = 0 // the timer never fired (tab was asleep)
    await w.advance(901_000)
    const token = await m.accessToken()
    expect(token).not.toBe(first.accessToken)
    expect(s.refresh).toHaveBeenCalledTimes(1)
  })
})

// Two tabs in two renderer processes, as Chromium runs them: each sees its own copy of
// localStorage, and another tab's write (and its BroadcastChannel message) reaches it only when
// `deliver()` runs, which may be after the lock has passed on. IndexedDB is one store in the
// browser process: a completed write is seen by every later read.
function processes(withShared: boolean) {
  const views = [new Map<string, string>(), new Map<string, string>()]
  const pending: (() => void)[] = []
  let record: { tokens: StoredTokens | null; savedAt: number } | undefined
  const shared: SharedTokensLike = {
    read: async () => structuredClone(record),
    write: async (tokens, savedAt) => { record = structuredClone({ tokens, savedAt }) },
  }
  const channels: ChannelLike[] = []
  let clock = 2_000_000
  const locks = exclusiveLock()
  const tab = (i: number, refresh: SessionDeps['refresh']) => {
    const own = views[i]!
    const storage: StorageLike = {
      getItem: (k) => own.get(k) ?? null,
      setItem: (k, v) => {
        own.set(k, v)
        views.forEach((v2, j) => j !== i && pending.push(() => void v2.set(k, v)))
      },
      removeItem: (k) => {
        own.delete(k)
        views.forEach((v2, j) => j !== i && pending.push(() => void v2.delete(k)))
      },
    }
    const ch: ChannelLike = {
      onmessage: null,
      postMessage: (m) => channels.filter((c) => c !== ch).forEach((c) => pending.push(() => c.onmessage?.({ data: structuredClone(m) }))),
    }
    channels.push(ch)
    return new SessionManager({
      refresh, storage, channel: ch, locks, shared: withShared ? shared : null, now: () => (clock += 7),
      setTimer: () => 0, clearTimer: () => undefined,
    })
  }
  const deliver = () => pending.splice(0).forEach((fn) => fn())
  return { tab, deliver, views }
}

describe('SessionManager across renderer processes', () => {
  const expireEverywhere = (views: Map<string, string>[]) => {
    for (const v of views) {
      const t = JSON.parse(v.get(STORAGE_KEY)!) as StoredTokens
      v.set(STORAGE_KEY, JSON.stringify({ ...t, accessExpiresAt: 0 }))
    }
  }
  /** Signed in in tab a; tab b has started from what a stored. */
  const twoTabs = (withShared: boolean) => {
    const s = server()
    const p = processes(withShared)
    const a = p.tab(0, s.refresh)
    const b = p.tab(1, s.refresh)
    a.setTokens(s.issue())
    p.deliver()
    expect(b.start()).toBe(true)
    return { s, p, a, b }
  }

  it('a tab granted the lock before it sees the other tab\'s localStorage write adopts the rotated tokens from IndexedDB', async () => {
    const { s, p, a, b } = twoTabs(true)
    expireEverywhere(p.views)
    a.start()
    b.start()
    await Promise.all([a.refresh(), b.refresh()]) // nothing delivered between the two
    expect(s.revoked).toBe(false)
    expect(s.refresh).toHaveBeenCalledTimes(1)
    expect(b.tokens?.refreshToken).toBe(a.tokens?.refreshToken)
  })

  it('without the IndexedDB copy the same interleaving presents the spent token (why it exists)', async () => {
    const { s, p, a, b } = twoTabs(false)
    expireEverywhere(p.views)
    a.start()
    b.start()
    await Promise.all([a.refresh(), b.refresh()])
    expect(s.revoked).toBe(true)
  })

  it('a message that arrives after a newer rotation does not bring the spent tokens back', async () => {
    const s = server()
    const p = processes(true)
    const a = p.tab(0, s.refresh)
    const b = p.tab(1, s.refresh)
    a.setTokens(s.issue())
    const newer = b.setTokens(s.issue()) // later, before b has heard of a's
    p.deliver()
    expect(b.tokens?.refreshToken).toBe(newer.refreshToken)
    expect(a.tokens?.refreshToken).toBe(newer.refreshToken)
  })

  it('a session ended in one tab is seen as ended by the next tab to take the lock', async () => {
    const { s, p, a, b } = twoTabs(true)
    a.end('signed_out')
    await new Promise((r) => setTimeout(r, 0))
    expireEverywhere([p.views[1]!])
    b.start()
    expect(await b.refresh()).toBeNull()
    expect(s.refresh).not.toHaveBeenCalled()
    expect(b.tokens).toBeNull()
  })
})
